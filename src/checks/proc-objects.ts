// One fact about a process a step starts in the background: it runs (not a zombie), was started
// from the chapter folder, and lives in namespaces of its own. The generic check that `workshop
// record` drafts for a new process; a chapter that knows its container judges more.
import { defineCheck, fail, pass, type Check } from './check.ts';
import { ancestors, nsLinks, processesUnder, readStatus } from './proc.ts';

/** What a process is: its name and the namespaces it does not share with the one asking. */
export interface ProcessFacts {
  pid: number;
  name: string;
  ownNamespaces: string[];
}

/** The live processes whose cwd or root is in `dir` (never this process or its parents), with their names and own namespaces. */
export async function processesFrom(dir: string): Promise<ProcessFacts[]> {
  const [pids, self, mine] = await Promise.all([processesUnder(dir), ancestors(), nsLinks(process.pid)]);
  const out: ProcessFacts[] = [];
  for (const pid of pids.filter((p) => !self.has(p))) {
    const [st, ns] = await Promise.all([readStatus(pid), nsLinks(pid)]);
    if (st === null || st.state.startsWith('Z')) continue;
    out.push({ pid, name: st.name, ownNamespaces: Object.keys(ns).filter((k) => mine[k] !== undefined && ns[k] !== mine[k]).sort() });
  }
  return out;
}

/** A live `name` process started from the chapter folder, in each of `namespaces` of its own (`['mnt', 'uts']`). */
export const processRunning = (name: string, namespaces: readonly string[] = []): Check =>
  defineCheck(`a ${name} process runs from the chapter folder${namespaces.length > 0 ? `, in its own ${namespaces.join(', ')} namespace${namespaces.length > 1 ? 's' : ''}` : ''}`, async (ctx) => {
    const all = await processesFrom(ctx.dir);
    const named = all.filter((p) => p.name === name);
    const good = named.find((p) => namespaces.every((n) => p.ownNamespaces.includes(n)));
    const want = `${name}${namespaces.length > 0 ? ` in its own ${namespaces.join(', ')}` : ''}`;
    if (good) return pass(`PID ${good.pid} (${name}${good.ownNamespaces.length > 0 ? `, own ${good.ownNamespaces.join(', ')}` : ''})`);
    if (named.length > 0) return fail(want, named.map((p) => `PID ${p.pid} shares ${namespaces.filter((n) => !p.ownNamespaces.includes(n)).join(', ')} with the host`).join('; '));
    return fail(want, all.length > 0 ? `only ${[...new Set(all.map((p) => p.name))].join(', ')}` : 'no process runs from the chapter folder');
  });
