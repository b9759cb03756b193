// The cgroups picture: the ws* groups (the same ones `workshop clean` finds) with their limits,
// current usage and member PIDs, on v1 (one folder per controller) and v2 (one tree).
import type { CgroupsPicture } from '../../contract/state.ts';
import { detectLayout, pidsIn, readCgroupFile } from '../../checks/cgroups.ts';
import { findWsCgroups } from '../inventory.ts';

const LIMITS = ['pids.max', 'memory.max', 'memory.limit_in_bytes'] as const;
const USAGE = ['pids.current', 'memory.current', 'memory.usage_in_bytes', 'memory.failcnt'] as const;

async function readSome(dir: string, files: readonly string[]): Promise<Record<string, string>> {
  const values = await Promise.all(files.map((f) => readCgroupFile(dir, f)));
  const out: Record<string, string> = {};
  files.forEach((f, i) => {
    const v = values[i];
    if (v !== null && v !== undefined) out[f] = v.trim();
  });
  return out;
}

export async function describeCgroups(): Promise<CgroupsPicture> {
  const [layout, dirs] = await Promise.all([detectLayout(), findWsCgroups()]);
  const groups = await Promise.all(dirs.map(async (path) => ({ path, version: layout.version, limits: await readSome(path, LIMITS), usage: await readSome(path, USAGE), pids: await pidsIn(path) })));
  return { family: 'cgroups', layout: layout.version, groups };
}
