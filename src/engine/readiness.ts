// Which chapters this machine can run, for `list` and `doctor`, kept until the next boot. Finding
// out imports every chapter's steps.ts and runs its probes (which, modprobe, dmsetup): ~150 ms
// on every run, for answers that only a reboot, an install or an edited steps.ts can change. So
// the answers are cached in WORKSHOP_HOME, keyed by what they depend on; `doctor --fresh` probes
// again and rewrites the cache.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { detectVm, type VmVerdict } from '../sys/host.ts';
import { isRecord } from '../sys/lang.ts';
import { formatProblem, type ChapterEntry, type LessonProblem } from '../lessons/catalog.ts';
import { loadChapter } from '../lessons/load.ts';
import { unmet } from '../lessons/requires.ts';

/** A chapter that loads, with what it needs and what of that is missing; or a broken chapter. */
export type Readiness = { kind: 'loaded'; needs: string[]; missing: string[] } | { kind: 'broken'; problems: string[] };

/**
 * What a probe's answer depends on, besides the chapter: the boot (modules, device-mapper), the
 * user (root loads modules, `root()` asks for it), PATH (`tool()` searches it) and dpkg's status
 * file, which every apt-get install or remove rewrites.
 */
export interface Machine {
  bootId: string;
  uid: number;
  path: string;
  dpkg: string;
}

interface CacheFile {
  format: 1;
  machine: Machine;
  vm?: VmVerdict;
  /** by chapter id: the steps.ts it was read from (mtime, size, inode) and its answer */
  chapters: Record<string, { steps: string; readiness: Readiness }>;
}

const statKey = (path: string): string => {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'none';
  }
};

export function machineFacts(): Machine {
  let bootId = 'unknown';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // no procfs: every run is its own boot (see sameMachine)
  }
  return { bootId, uid: process.getuid?.() ?? -1, path: process.env['PATH'] ?? '', dpkg: statKey('/var/lib/dpkg/status') };
}

/**
 * The key of a chapter's code: steps.ts and the other .ts files next to it (a steps.ts may import
 * a helper). Editing or replacing any of them changes the key.
 */
export function stepsKey(entry: ChapterEntry): string {
  let names: string[] = [];
  try {
    names = readdirSync(entry.dir).filter((n) => n.endsWith('.ts') && n !== basename(entry.stepsPath)).sort();
  } catch {
    // no folder: steps.ts alone decides
  }
  return [statKey(entry.stepsPath), ...names.map((n) => `${n}=${statKey(join(entry.dir, n))}`)].join(' ');
}

export const cachePath = (home: string): string => join(home, 'cache', 'readiness.json');

/** Writes a cache file whole (a reader never sees half of it), or not at all. */
export function writeCacheFile(path: string, value: unknown): void {
  try {
    // the cache folder only: a home that does not exist yet is not made by reading
    if (!existsSync(dirname(path))) mkdirSync(dirname(path));
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(value)}\n`);
    renameSync(tmp, path);
  } catch {
    // a learner without root cannot write the home: they just read the lesson every time
  }
}

const sameMachine = (a: Machine, b: Machine): boolean => a.bootId !== 'unknown' && a.bootId === b.bootId && a.uid === b.uid && a.path === b.path && a.dpkg === b.dpkg;

function readCache(path: string, machine: Machine): CacheFile | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isRecord(v) || v['format'] !== 1 || !isRecord(v['machine']) || !isRecord(v['chapters'])) return undefined;
    const c = v as unknown as CacheFile;
    return sameMachine(c.machine, machine) ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Imports the chapter and runs its probes. */
export async function probeChapter(entry: ChapterEntry): Promise<Readiness> {
  const problems: LessonProblem[] = [];
  const loaded = await loadChapter(entry, problems);
  if (!loaded) return { kind: 'broken', problems: problems.map(formatProblem) };
  const reqs = loaded.def.requires ?? [];
  return { kind: 'loaded', needs: reqs.map((r) => r.describe), missing: await unmet(reqs) };
}

export interface ReadinessOptions {
  /** the cache file; undefined: no cache */
  cache: string | undefined;
  /** probe everything again (doctor --fresh), and rewrite the cache */
  fresh?: boolean;
  /** with the VM verdict too (doctor) */
  vm?: boolean;
  machine?: Machine;
  probe?: (entry: ChapterEntry) => Promise<Readiness>;
  detect?: () => Promise<VmVerdict>;
}

/**
 * Each chapter's readiness, in the order given, from the cache where its steps.ts and the machine
 * are unchanged. A broken chapter is never cached: its author is editing it.
 */
export async function readiness(chapters: readonly ChapterEntry[], opts: ReadinessOptions): Promise<{ chapters: Readiness[]; vm: VmVerdict | undefined }> {
  const machine = opts.machine ?? machineFacts();
  const probe = opts.probe ?? probeChapter;
  const old = opts.cache && !opts.fresh ? readCache(opts.cache, machine) : undefined;
  const next: CacheFile = { format: 1, machine, chapters: {} };
  let changed = old === undefined;
  const [vm, results] = await Promise.all([
    opts.vm ? (old?.vm ? Promise.resolve(old.vm) : (opts.detect ?? detectVm)().then((v) => ((changed = true), v))) : Promise.resolve(old?.vm),
    Promise.all(
      chapters.map(async (c) => {
        const steps = stepsKey(c);
        const hit = old?.chapters[c.id];
        if (hit && hit.steps === steps) {
          next.chapters[c.id] = hit;
          return hit.readiness;
        }
        changed = true;
        const r = await probe(c);
        if (r.kind === 'loaded') next.chapters[c.id] = { steps, readiness: r };
        return r;
      }),
    ),
  ]);
  if (vm) next.vm = vm;
  if (opts.cache && changed) writeCacheFile(opts.cache, next);
  return { chapters: results, vm };
}
