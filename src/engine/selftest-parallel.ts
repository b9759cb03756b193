// `workshop test --jobs N`: chapters that share no machine-wide names run at the same time, each
// as its own `workshop test --chapter ID` in a home of its own (so its own workspace, lock and
// residue inventory) and a mount namespace of its own (private /tmp, private mounts: the child
// makes it as every self-test does, engine/private-tmp.ts). What a mount namespace does not
// separate is claimed: processes (the namespace chapters look for containers machine-wide), named
// network namespaces and links (the lab), cgroups. Two chapters that claim a kind in common never
// run at once. A chapter's residue check leaves out the by-name kinds it does not claim, since a
// neighbour may hold them while it runs; those are checked once more after the whole run.
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { StateFamily, StateSpec } from '../contract/state.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { run } from '../sys/exec.ts';
import { FAMILIES } from './families.ts';
import { takeInventory, type ResidueKind } from './inventory.ts';
import type { ChapterReport, StepReport } from './selftest.ts';
import { workspace } from './workspace.ts';

/** Set for a chapter run beside others: the residue kinds (comma-separated) its check leaves to the parent. */
const UNCLAIMED_ENV = 'WORKSHOP_SELFTEST_UNCLAIMED';

const SHARED = ['process', 'netns', 'link', 'cgroup'] as const satisfies readonly ResidueKind[];
/** The shared kinds that the residue inventory finds by name, whatever the home. */
const BY_NAME: readonly ResidueKind[] = ['netns', 'link', 'cgroup'];
const isShared = (k: ResidueKind): boolean => (SHARED as readonly ResidueKind[]).includes(k);

/** In a chapter run beside others: the kinds its residue check leaves to the parent. */
export const unclaimedKinds = (env: NodeJS.ProcessEnv = process.env): ResidueKind[] => BY_NAME.filter((k) => (env[UNCLAIMED_ENV] ?? '').split(',').includes(k));

/** The default of --jobs: one chapter per core. */
export const defaultJobs = (): number => availableParallelism();

function familiesOf(spec: StateSpec | undefined): StateFamily[] {
  if (spec === undefined) return [];
  const list = typeof spec === 'string' || 'family' in spec ? [spec] : spec;
  return list.map((v) => (typeof v === 'string' ? v : v.family));
}

/**
 * The machine-wide kinds a chapter may make or look at: those its state families leave as residue,
 * and the lab's namespaces and links for a chapter that needs `ip`. A chapter that names no state
 * family says nothing about itself, so it claims them all (it runs alone).
 */
export function claimsOf(ch: LoadedChapter): ReadonlySet<ResidueKind> {
  const families = familiesOf(ch.def.state);
  if (families.length === 0) return new Set(SHARED);
  const kinds = new Set<ResidueKind>(families.flatMap((f) => FAMILIES[f].residue).filter(isShared));
  if (ch.def.requires.some((r) => /^command ip\b/.test(r.describe))) for (const k of ['netns', 'link'] as const) kinds.add(k);
  return kinds;
}

interface Job {
  ch: LoadedChapter;
  index: number;
  claims: ReadonlySet<ResidueKind>;
}

const clash = (a: Job, b: Job): boolean => [...a.claims].some((k) => b.claims.has(k));

/**
 * Pure: the order in which chapters are offered to a free worker: those that claim most first (they
 * have the fewest partners), then in their own order.
 */
export function offerOrder<T extends { claims: ReadonlySet<unknown>; index: number }>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => b.claims.size - a.claims.size || a.index - b.index);
}

/** A chapter's report, with the step reports of its mode (the self-test's, or as-written's with transcripts). */
type Report<S extends StepReport> = ChapterReport & { steps: S[] };

export interface ParallelOptions<S extends StepReport> {
  home: string;
  lessonsDir: string;
  allowHost: boolean;
  /**
   * `selftest`: `workshop test`. `as-written`: `workshop test --as-written`, whose every chapter
   * ends with a `workshop clean` that removes every ws* network namespace, link and cgroup on the
   * machine: a chapter that claims any of them runs alone.
   */
  mode: { kind: 'selftest'; requireDiagnosis: boolean } | { kind: 'as-written' };
  jobs: number;
  /** called once per chapter as it ends, in the order they end */
  done(report: Report<S>): void;
}

/** The claims a chapter runs under in this mode. */
function claimsIn(mode: ParallelOptions<StepReport>['mode'], ch: LoadedChapter): ReadonlySet<ResidueKind> {
  const claims = claimsOf(ch);
  return mode.kind === 'as-written' && BY_NAME.some((k) => claims.has(k)) ? new Set(SHARED) : claims;
}

/** A chapter that could not report: its child failed before it wrote its JSON document. */
function broken<S extends StepReport>(id: string, why: string): Report<S> {
  const steps: S[] = [];
  return { id, status: 'fail', reason: why, steps, residue: [], durationMs: 0 };
}

/** One chapter's self-test in a child `workshop test`, in a fresh home under this one's selftest/. */
async function runChild<S extends StepReport>(job: Job, o: ParallelOptions<S>): Promise<Report<S>> {
  const id = job.ch.entry.id;
  const { selftestDir } = workspace(o.home);
  await mkdir(selftestDir, { recursive: true });
  const home = await mkdtemp(join(selftestDir, `${id}-home-`));
  try {
    const script = await realpath(process.argv[1] ?? '');
    const unclaimed = BY_NAME.filter((k) => !job.claims.has(k));
    const what = o.mode.kind === 'as-written' ? ['--as-written'] : ['--jobs', '1', ...(o.mode.requireDiagnosis ? ['--require-diagnosis'] : [])];
    const args = [...process.execArgv, script, '--home', home, '--lessons', o.lessonsDir, ...(o.allowHost ? ['--allow-host'] : []), 'test', '--json', ...what, '--chapter', id];
    // '0', not '1': the child makes its own mount namespace with a private /tmp
    const r = await run(process.execPath, args, { env: { WORKSHOP_PRIVATE_TMP: '0', [UNCLAIMED_ENV]: unclaimed.join(','), NO_COLOR: '1' } });
    try {
      const report = (JSON.parse(r.stdout) as { chapters: Array<Report<S>> }).chapters[0];
      if (report !== undefined) return report;
    } catch {
      // not a report: said below with its stderr
    }
    return broken<S>(id, `its self-test ended with exit ${r.code ?? 'signal'} and no report: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  } finally {
    // its mounts ended with its mount namespace; what is left is files
    await rm(home, { recursive: true, force: true }).catch(() => {});
  }
}

const byName = async (home: string): Promise<Set<string>> =>
  new Set((await takeInventory(home)).filter((i) => BY_NAME.includes(i.kind)).map((i) => `${i.kind}:${i.id}`));

/**
 * Runs the chapters, at most `jobs` at a time and never two that claim a kind in common, and
 * returns their reports in the chapters' order, and how many ran at once at most (the summary
 * says that, not --jobs). A by-name leftover that no chapter reported (one that a chapter left
 * while it did not check that kind) is residue of each chapter that did not.
 */
export async function testInParallel<S extends StepReport>(chapters: readonly LoadedChapter[], o: ParallelOptions<S>): Promise<{ reports: Array<Report<S>>; atOnce: number }> {
  const before = await byName(o.home);
  const jobs = chapters.map((ch, index): Job => ({ ch, index, claims: claimsIn(o.mode, ch) }));
  const waiting = offerOrder(jobs);
  const running = new Set<Job>();
  const reports: Array<Report<S>> = [];
  let atOnce = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (waiting.length === 0 && running.size === 0) return resolve();
      while (running.size < o.jobs) {
        const at = waiting.findIndex((j) => ![...running].some((r) => clash(j, r)));
        const job = at < 0 ? undefined : waiting.splice(at, 1)[0];
        if (job === undefined) return;
        running.add(job);
        atOnce = Math.max(atOnce, running.size);
        void runChild(job, o)
          .catch((err: unknown) => broken<S>(job.ch.entry.id, err instanceof Error ? err.message : String(err)))
          .then((report) => {
            reports[job.index] = report;
            running.delete(job);
            o.done(report);
            next();
          });
      }
    };
    next();
  });
  const after = await byName(o.home);
  const reported = new Set(reports.flatMap((r) => r.residue));
  const left = [...after].filter((x) => !before.has(x) && !reported.has(x));
  const claims = new Map(jobs.map((j) => [j.ch.entry.id, j.claims]));
  if (left.length > 0) {
    for (const r of reports) {
      const mine = left.filter((x) => !BY_NAME.some((k) => x.startsWith(`${k}:`) && claims.get(r.id)?.has(k)));
      if (r.status === 'skipped' || mine.length === 0) continue;
      r.residue.push(...mine.map((x) => `${x} (found after the parallel run; left by one of the chapters that did not check it)`));
      r.status = 'fail';
    }
  }
  return { reports, atOnce };
}
