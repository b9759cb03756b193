// The namespaces picture: the container processes the checks find (by hostname, by root, by
// their place in the chapter folder), each as a row of namespace types, own or host's.
import type { CheckContext } from '../../checks/check.ts';
import { findContainers, hostNamespaces, hostnameIn, idMapOf, NS_TYPES, processesRootedAt, type NsProcess } from '../../checks/namespaces.ts';
import type { NamespacesPicture, NsCell } from '../../contract/state.ts';
import { ancestors, isPathUnder, nsLinks, procRoot, processesUnder, readStatus } from '../../checks/proc.ts';

export async function describeNamespaces(ctx: CheckContext, hostname = 'container', rootfs = 'rootfs'): Promise<NamespacesPicture> {
  const [host, named, rooted, under, skip] = await Promise.all([
    hostNamespaces(),
    findContainers(hostname).catch(() => [] as NsProcess[]),
    processesRootedAt(ctx.path(rootfs)).catch(() => [] as NsProcess[]),
    processesUnder([ctx.dir]).catch(() => [] as number[]),
    ancestors(),
  ]);
  const pids = [...new Set([...named.map((p) => p.pid), ...rooted.map((p) => p.pid), ...under])].filter((p) => !skip.has(p) && p !== process.pid).sort((a, b) => a - b);
  const rows = await Promise.all(
    pids.map(async (pid) => {
      const [status, ns, root, name, uidMap] = await Promise.all([readStatus(pid), nsLinks(pid), procRoot(pid), hostnameIn(pid), idMapOf(pid)]);
      if (status === null || Object.keys(ns).length === 0) return null;
      const cells: Record<string, NsCell> = {};
      for (const t of NS_TYPES) if (ns[t] !== undefined) cells[t] = ns[t] === host[t] ? 'host' : 'own';
      // A learner's shell that merely has its cwd in the chapter folder is no container.
      if (!Object.values(cells).includes('own') && !(root !== null && root !== '/' && isPathUnder(root, ctx.dir))) return null;
      return { pid, name: status.name, ns: cells, root, hostname: name, nspid: status.nspid, uidMap: (uidMap ?? []).map((m) => `${m.inside} ${m.outside} ${m.count}`) };
    }),
  );
  return { family: 'namespaces', processes: rows.filter((r) => r !== null) };
}
