// Namespaces per process: own or the host's, one column per namespace type.
import type { NamespacesPicture } from '../../contract/state.ts';
import { type St, yes } from './draw.ts';

export function drawNamespaces(p: NamespacesPicture, _dir: string, st: St): string[] {
  if (p.processes.length === 0) return [yes(st, false, 'no container process found (by hostname, root or place)')];
  const types = ['uts', 'pid', 'mnt', 'ipc', 'net', 'user', 'cgroup'];
  const head = `${'PID'.padEnd(8)}${'name'.padEnd(12)}${types.map((t) => t.padEnd(7)).join('')}hostname`;
  const rows = p.processes.map((r) => {
    const cells = types.map((t) => {
      const c = r.ns[t] ?? '-';
      return c === 'own' ? st('green', c.padEnd(7)) : st('dim', c.padEnd(7));
    });
    return `${String(r.pid).padEnd(8)}${r.name.slice(0, 11).padEnd(12)}${cells.join('')}${r.hostname ?? '?'}`;
  });
  const details = p.processes.map((r) => st('dim', `  ${r.pid}: root ${r.root ?? '?'}, NSpid ${r.nspid.join(' ')}, uid_map ${r.uidMap.join(' | ') || '(none)'}`));
  return [st('bold', head), ...rows, '', ...details];
}
