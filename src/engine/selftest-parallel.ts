// `workshop test --jobs N`: chapters that share no machine-wide names run at the same time, each
// as its own `workshop test --chapter ID` in a home of its own (so its own workspace, lock and
// residue inventory) and a mount namespace of its own (private /tmp, private mounts: the child
// makes it as every self-test does, engine/private-tmp.ts). What a mount namespace does not
// separate is claimed: processes (the namespace chapters look for containers machine-wide), named
// network namespaces and links (the lab), cgroups. Two chapters that claim a kind in common never
// run at once. A chapter's residue check leaves out the by-name kinds it does not claim, since a
// neighbour may hold them while it runs; those are checked once more after the whole run.
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { StateFamily, StateSpec } from '../contract/state.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { runToFiles } from '../sys/exec.ts';
import { FAMILIES } from './families.ts';
import { privateTmpCommand } from './private-tmp.ts';
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
  /** what it took the last time, if known */
  seconds: number | undefined;
}

const clash = (a: Job, b: Job): boolean => [...a.claims].some((k) => b.claims.has(k));

/**
 * Pure: the order in which chapters are offered to a free worker. Those that claim most first: they
 * have the fewest partners, and the chain of chapters that clash with each other is the floor of the
 * whole run, so it must never wait while the others take the workers. Among equals the longest first,
 * by what each took the last time (one with no such time counts as the longest), so that a long
 * chapter does not start last and run alone at the end; then in their own order.
 */
export function offerOrder<T extends { claims: ReadonlySet<unknown>; index: number; seconds?: number | undefined }>(jobs: readonly T[]): T[] {
  const est = (j: T): number => j.seconds ?? Number.POSITIVE_INFINITY;
  return [...jobs].sort((a, b) => b.claims.size - a.claims.size || (est(a) === est(b) ? 0 : est(b) > est(a) ? 1 : -1) || a.index - b.index);
}

/** Where a home keeps what each chapter took in the last parallel run, per mode: the next run's order. */
const durationsFile = (home: string): string => join(workspace(home).selftestDir, 'durations.json');
type Durations = Partial<Record<ModeKind, Record<string, number>>>;

async function readDurations(home: string): Promise<Durations> {
  try {
    const v = JSON.parse(await readFile(durationsFile(home), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Durations) : {};
  } catch {
    return {};
  }
}

/** Keeps the seconds of the chapters that ran (a skipped one's 0 says nothing) beside the others'. */
async function writeDurations(home: string, mode: ModeKind, reports: readonly ChapterReport[]): Promise<void> {
  const all = await readDurations(home);
  const mine = { ...all[mode] };
  for (const r of reports) if (r.status !== 'skipped') mine[r.id] = Math.round(r.durationMs / 100) / 10;
  await writeFile(durationsFile(home), `${JSON.stringify({ ...all, [mode]: mine }, null, 2)}\n`).catch(() => {});
}

/** A chapter's report, with the step reports of its mode (the self-test's, or as-written's with transcripts). */
type Report<S extends StepReport> = ChapterReport & { steps: S[] };

type ModeKind = ParallelOptions<StepReport>['mode']['kind'];

export interface ParallelOptions<S extends StepReport> {
  home: string;
  lessonsDir: string;
  /**
   * workshop's own folder (projectRoot()): a child in its private /tmp needs it bound back when it
   * lies in /tmp, as a CI clone may, for its node_modules (zx…), whichever build of the CLI runs
   */
  projectDir: string;
  allowHost: boolean;
  /**
   * `selftest`: `workshop test`. `as-written`: `workshop test --as-written`, whose every chapter
   * ends with a `workshop clean`. That clean, like the residue check, leaves alone the by-name kinds
   * the chapter does not claim (UNCLAIMED_ENV): one that removed every ws* netns on the machine took
   * the lab away from networking's text running beside overlayfs's (seen in the VM guest: "netns
   * ws-host is missing" at networking/bridge, whose blocks had passed). It also runs the cleanup of
   * the chapter that the last `workshop next` started, whose objects may have machine-wide names
   * (the lab, ws-demo): a chapter that claims any by-name kind runs beside none that claims one.
   */
  mode: { kind: 'selftest'; requireDiagnosis: boolean } | { kind: 'as-written' };
  jobs: number;
  /**
   * called once per chapter as it ends, in the order they end, with what its child printed on
   * stderr: with --json, that is only what the chapter's own code wrote there (console.error)
   */
  done(report: Report<S>, stderr: string): void;
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

/** `ended with exit 70 after 3.2 s`, `was killed by SIGKILL after …`, `could not start (…)`. */
function endedHow(e: Awaited<ReturnType<typeof runToFiles>>, ms: number): string {
  const after = `after ${(ms / 1000).toFixed(1)} s`;
  if (e.error !== null) return `could not start (${e.error})`;
  return e.signal !== null ? `was killed by ${e.signal} ${after}` : `ended with exit ${e.code ?? '?'} ${after}`;
}

/**
 * What a child that left no report said last: its `error:` and `hint:` lines and the top of the
 * stack that DEBUG=workshop prints (where it failed: a flake of the wafers chapter in a parallel
 * run said only that it failed, with no step run), else the end of its stderr.
 */
export function lastWords(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  const said = at < 0 ? lines.slice(-5) : [...lines.slice(at).filter((l) => /^(error|hint): /.test(l)).slice(0, 2), ...lines.slice(at).filter((l) => l.startsWith('at ')).slice(0, 4)];
  return said.join(' | ') || '(nothing on stderr)';
}

/** One chapter's self-test in a child `workshop test`, in a fresh home under this one's selftest/. */
async function runChild<S extends StepReport>(job: Job, o: ParallelOptions<S>): Promise<{ report: Report<S>; stderr: string }> {
  const id = job.ch.entry.id;
  const { selftestDir } = workspace(o.home);
  await mkdir(selftestDir, { recursive: true });
  const home = await mkdtemp(join(selftestDir, `${id}-home-`));
  try {
    const script = await realpath(process.argv[1] ?? '');
    const unclaimed = BY_NAME.filter((k) => !job.claims.has(k));
    const what = o.mode.kind === 'as-written' ? ['--as-written'] : ['--jobs', '1', ...(o.mode.requireDiagnosis ? ['--require-diagnosis'] : [])];
    const args = [...process.execArgv, script, '--home', home, '--lessons', o.lessonsDir, ...(o.allowHost ? ['--allow-host'] : []), 'test', '--json', ...what, '--chapter', id];
    // The child runs in a mount namespace of its own with a private /tmp, started here: were it
    // to start itself again there, as a command does, that would be one more Node start-up per
    // chapter (2-3 s in a TCG guest). Without unshare, '0' lets it try. Its output goes to files:
    // a pipe stays open as long as any daemon the chapter started (dmeventd) inherited it.
    const files = { stdout: `${home}.json`, stderr: `${home}.err` };
    const priv = await privateTmpCommand(args, [home, o.lessonsDir, dirname(script), o.projectDir]);
    // DEBUG=workshop: an error that ends the child prints its stack, which its report then quotes
    const env = { [UNCLAIMED_ENV]: unclaimed.join(','), NO_COLOR: '1', DEBUG: 'workshop' };
    const t0 = Date.now();
    const ended = priv === null ? await runToFiles(process.execPath, args, files, { env: { WORKSHOP_PRIVATE_TMP: '0', ...env } }) : await runToFiles(priv.cmd, priv.args, files, { env: { ...priv.env, ...env } });
    const [stdout, stderr] = await Promise.all([readFile(files.stdout, 'utf8').catch(() => ''), readFile(files.stderr, 'utf8').catch(() => '')]);
    try {
      const report = (JSON.parse(stdout) as { chapters?: Array<Report<S>> }).chapters?.[0];
      if (report !== undefined) return { report, stderr };
    } catch {
      // not a report: said below with its stderr
    }
    return { report: broken<S>(id, `its self-test ${endedHow(ended, Date.now() - t0)} and no report: ${lastWords(stderr)}`), stderr: '' };
  } finally {
    // its mounts ended with its mount namespace; what is left is files
    await Promise.all([home, `${home}.json`, `${home}.err`].map((p) => rm(p, { recursive: true, force: true }).catch(() => {})));
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
  const [before, durations] = await Promise.all([byName(o.home), readDurations(o.home)]);
  const last = durations[o.mode.kind] ?? {};
  const jobs = chapters.map((ch, index): Job => ({ ch, index, claims: claimsIn(o.mode, ch), seconds: last[ch.entry.id] }));
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
          .catch((err: unknown) => ({ report: broken<S>(job.ch.entry.id, err instanceof Error ? err.message : String(err)), stderr: '' }))
          .then(({ report, stderr }) => {
            reports[job.index] = report;
            running.delete(job);
            o.done(report, stderr);
            next();
          });
      }
    };
    next();
  });
  await writeDurations(o.home, o.mode.kind, reports);
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
