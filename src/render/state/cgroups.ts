// cgroups: each ws* group with its limits, usage and processes.
import type { CgroupsPicture } from '../../contract/state.ts';
import { type St, yes } from './draw.ts';

export function drawCgroups(p: CgroupsPicture, _dir: string, st: St): string[] {
  if (p.groups.length === 0) return [yes(st, false, `no ws* cgroup (${p.layout})`)];
  return p.groups.flatMap((g) => [
    `${st('bold', g.path)} ${st('dim', `(${g.version})`)}`,
    `  limits  ${Object.entries(g.limits).map(([k, v]) => `${k}=${v}`).join('  ') || st('dim', '(none)')}`,
    `  usage   ${Object.entries(g.usage).map(([k, v]) => `${k}=${v}`).join('  ') || st('dim', '(none)')}`,
    `  pids    ${g.pids.join(' ') || st('dim', '(empty)')}`,
  ]);
}
