// `workshop test`: rustlings' `dev check` for workshops. For every step, in order: verify fails
// (fail-first), solve, verify passes, solve again and verify still passes (idempotent), then each
// control (a valid state the solution does not make) is applied and must be accepted, and is
// undone by re-solving. Then each mutant is applied and must be rejected, its failing rows must
// name the mistake, and from its state the step's solution alone must reach a passing state
// again (the learner's way out, with no cleanup in between), or, for a mutant that destroys what
// solve cannot rebuild, the rows name `workshop goto <step> --restore` and the restore does. At
// the end the chapter's cleanup runs and the residue inventory must equal the one taken before.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult } from '../checks/check.ts';
import { allPassed } from '../checks/check.ts';
import { unmet } from '../lessons/requires.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import type { StepData } from '../lessons/host-protocol.ts';
import type { ChapterPlace } from './context.ts';
import { leftOutBecause } from './drill.ts';
import { takeInventory, type ResidueKind } from './inventory.ts';
import { newNonce } from './progress.ts';
import { renderResults } from '../render/table.ts';
import { workspace } from './workspace.ts';
import { solveThenVerify } from './journey-steps.ts';
import { cleanupChapter, describeFailure, failureText, mutantDiagnosis, mutantRecovery, mutate, restoreCommand, setupChapter, solveStep, verifyStep } from './runner.ts';

export interface PhaseResult {
  status: 'pass' | 'fail';
  ms: number;
  detail?: string;
  /** diagnosis phases only: the mutant's failing output named its mistake */
  diagnosed?: boolean;
  /** a mutant that verify accepted: every row, as the learner's table shows them (all passed) */
  rows?: CheckResult[];
}

/** Why a phase failed, with the rows that show it (an accepted mutant's, which all passed). */
interface Failure {
  detail: string;
  rows: CheckResult[];
}

/**
 * How many mutants a chapter has, how many of them are proven to name their mistake, and how the
 * learner gets out of each: `workshop solve` alone, or `goto … --restore` (named by address).
 */
export interface MutantCount {
  total: number;
  diagnosed: number;
  /** mutants from whose state the step's solution alone reached a passing state */
  recoveredBySolve: number;
  /** `step/mutant` of those that need `workshop goto <step> --restore`, proven to say so */
  needRestore: string[];
  /** `step/mutant` of the drills (engine/drill.ts): rejected, diagnosed and recovered by solve here */
  drills: string[];
}

export interface TestOptions {
  /**
   * Every mutant must declare a diagnosis (the built-in pack). Off for third-party packs, whose
   * bare-function mutants only have to be rejected; a declared diagnosis is always proven.
   */
  requireDiagnosis?: boolean;
  /**
   * Kinds of residue this chapter's check leaves out: it runs beside other chapters that may hold
   * them meanwhile (selftest-parallel.ts), which checks them after the whole run instead.
   */
  unclaimed?: readonly ResidueKind[];
}

export interface StepReport {
  id: string;
  status: 'pass' | 'fail' | 'not-run';
  phases: Record<string, PhaseResult>;
}

export interface ChapterReport {
  id: string;
  status: 'pass' | 'fail' | 'skipped';
  reason?: string;
  steps: StepReport[];
  residue: string[];
  durationMs: number;
  /** absent for a skipped chapter */
  mutants?: MutantCount;
  /** how many controls the chapter declares, and how many verify accepted; absent for a skipped chapter */
  controls?: { total: number; accepted: number };
}

export interface TestReport {
  chapters: ChapterReport[];
  durationMs: number;
}

const summarize = (results: readonly CheckResult[]): string =>
  results
    .filter((r) => r.status !== 'pass')
    .map((r) => (r.status === 'fail' ? `${r.check}: expected ${r.expected}, got ${r.actual}` : `${r.check}: error ${r.error}`))
    .join('; ') || 'every check passed';

/** What lies at the top of the shared temp folders: files a chapter leaves outside its workspace show up here. */
async function tmpEntries(): Promise<string[]> {
  const lists = await Promise.all(['/tmp', '/var/tmp'].map(async (d) => (await readdir(d).catch(() => [])).map((n) => `file:${join(d, n)}`)));
  return lists.flat();
}

/** The residue inventory of a home plus the top of the shared temp folders (also used by the as-written test). */
export async function snapshot(home: string): Promise<Set<string>> {
  const [inv, tmp] = await Promise.all([takeInventory(home), tmpEntries()]);
  return new Set([...inv.map((i) => `${i.kind}:${i.id}`), ...tmp]);
}

async function timed(fn: () => Promise<string | Failure | undefined>): Promise<PhaseResult> {
  const t0 = performance.now();
  try {
    const failure = await fn();
    const ms = Math.round(performance.now() - t0);
    if (failure === undefined) return { status: 'pass', ms };
    return typeof failure === 'string' ? { status: 'fail', ms, detail: failure } : { status: 'fail', ms, detail: failure.detail, rows: failure.rows };
  } catch (err) {
    return { status: 'fail', ms: Math.round(performance.now() - t0), detail: describeFailure(err) };
  }
}

/** What the phases of one chapter share: where it runs, and the counts they add to. */
interface ChapterRun {
  ch: LoadedChapter;
  place: ChapterPlace;
  opts: TestOptions;
  count: MutantCount;
  controls: { total: number; accepted: number };
}

type Phase = [string, () => Promise<string | Failure | undefined>];

const quiet = () => {};

/**
 * What `workshop goto <step> --restore` does: the chapter's cleanup, its setup, then the solutions
 * of the steps before it (and here of the step itself, whose mutant is being left), each verified,
 * by the same loop step as the learner's restore (journey-steps.ts).
 */
async function restoreThrough(run: ChapterRun, step: string): Promise<void> {
  const { ch, place } = run;
  const ids = Object.keys(ch.def.steps);
  await cleanupChapter(ch, place, quiet, false);
  await setupChapter(ch, place, quiet, false);
  for (const s of ids.slice(0, ids.indexOf(step) + 1)) {
    const o = await solveThenVerify(ch, s, place, `${place.chapter}/${s}`, { log: quiet, verbose: false });
    if (o.status === 'error') throw new Error(`the solution of ${o.address} failed: ${o.error}`);
    if (!o.passed) throw new Error(`${o.address} fails after its solution: ${summarize(o.results)}`);
  }
}

/** fail-first, solve, pass, solve again, pass again */
function basePhases(run: ChapterRun, step: string): Phase[] {
  const { ch, place } = run;
  const verify = () => verifyStep(ch, step, place);
  const mustPass = async () => {
    const r = await verify();
    return allPassed(r) ? undefined : summarize(r);
  };
  return [
    ['failFirst', async () => (allPassed(await verify()) ? 'verify passed before the solution ran: the checks prove nothing' : undefined)],
    ['solve', async () => (await solveStep(ch, step, place, quiet, false), undefined)],
    ['pass', mustPass],
    ['solveAgain', async () => (await solveStep(ch, step, place, quiet, false), undefined)],
    ['passAgain', mustPass],
  ];
}

/** Each control is applied and must be accepted, then undone by re-solving. */
function controlPhases(run: ChapterRun, step: string, def: StepData): Phase[] {
  const { ch, place } = run;
  const verify = () => verifyStep(ch, step, place);
  return Object.entries(def.controls).map(([name, control]): Phase => {
    run.controls.total++;
    return [
      `control:${name}`,
      async () => {
        await mutate(ch, 'control', step, name, 'apply', place, quiet, false);
        const r = await verify();
        if (control.revert) await mutate(ch, 'control', step, name, 'revert', place, quiet, false);
        await solveStep(ch, step, place, quiet, false);
        if (!allPassed(r)) return `control "${name}" was rejected: verify failed on a valid state: ${summarize(r)}`;
        run.controls.accepted++;
        const after = await verify();
        return allPassed(after) ? undefined : `re-solving after control "${name}" did not restore the step: ${summarize(after)}`;
      },
    ];
  });
}

/** Each mutant must be rejected, its rows must name the mistake, and the learner's way out must work. */
function mutantPhases(run: ChapterRun, step: string, def: StepData): Phase[] {
  const { ch, place, opts, count } = run;
  const verify = () => verifyStep(ch, step, place);
  const phases: Phase[] = [];
  const outputs = new Map<string, string>();
  for (const [name, mutant] of Object.entries(def.mutants)) {
    count.total++;
    const recovery = mutantRecovery(mutant);
    const restore = restoreCommand(place.chapter, step);
    phases.push([
      `mutant:${name}`,
      async () => {
        await mutate(ch, 'mutant', step, name, 'apply', place, quiet, false);
        const r = await verify();
        outputs.set(name, failureText(r));
        if (allPassed(r)) return { detail: `mutant "${name}" was accepted: verify passed on a wrong state; no check tells it from the solution. Its rows, all passed:`, rows: r };
        return undefined;
      },
    ]);
    const diagnosis = mutantDiagnosis(mutant);
    if (diagnosis !== undefined || opts.requireDiagnosis || recovery === 'restore') {
      phases.push([
        `diagnosis:${name}`,
        async () => {
          const text = outputs.get(name) ?? '';
          const shown = text.split('\n').join(' | ');
          if (diagnosis === undefined && opts.requireDiagnosis) return `mutant "${name}" declares no diagnosis; built-in mutants must name the message the learner sees. Its failing output: ${shown}`;
          if (diagnosis !== undefined && !diagnosis.test(text)) return `the failing output of mutant "${name}" does not match ${String(diagnosis)}: ${shown}`;
          // solve cannot rebuild what this mutant destroyed: the rows themselves must give the way out
          if (recovery === 'restore' && !text.includes(restore)) return `mutant "${name}" needs a restore, but its failing output does not name \`${restore}\`: ${shown}`;
          return undefined;
        },
      ]);
    }
    // The way out, as the learner has it: `workshop solve` from the mutant's state, with no
    // cleanup in between; or, where the rows name it, the restore.
    phases.push([
      `recover:${name}`,
      async () => {
        if (mutant.revert) {
          if (opts.requireDiagnosis) return `mutant "${name}" has a revert: a learner has none. workshop solve alone must repair its state (or declare recovery: 'restore')`;
          await mutate(ch, 'mutant', step, name, 'revert', place, quiet, false);
        }
        const way = recovery === 'restore' ? `\`${restore}\`` : 'workshop solve';
        try {
          if (recovery === 'restore') await restoreThrough(run, step);
          else await solveStep(ch, step, place, quiet, false);
        } catch (err) {
          return `${way} failed in the state of mutant "${name}": ${describeFailure(err)}`;
        }
        const after = await verify();
        if (!allPassed(after)) return `${way} did not repair the state of mutant "${name}": ${summarize(after)}`;
        if (recovery === 'restore') count.needRestore.push(`${step}/${name}`);
        else count.recoveredBySolve++;
        return undefined;
      },
    ]);
  }
  return phases;
}

/** How a phase is logged: its verdict and time, why it failed, and an accepted mutant's rows. */
export function phaseLines(chapter: string, step: string, name: string, res: PhaseResult): string[] {
  const head = `${res.status === 'pass' ? 'ok  ' : 'FAIL'} ${chapter}/${step} ${name} (${res.ms} ms)${res.detail && res.status === 'fail' ? `: ${res.detail}` : ''}`;
  return [head, ...(res.rows ? renderResults(res.rows, false).split('\n').map((line) => `     ${line}`) : [])];
}

/**
 * Runs a step's phases in order, logging each. A failing phase stops the chapter (`broken`); a
 * diagnosis that fails leaves the state as it was, so the test goes on and reports them all.
 */
async function runPhases(run: ChapterRun, report: StepReport, phases: readonly Phase[], log: (line: string) => void): Promise<{ broken: boolean; undiagnosed: boolean }> {
  let undiagnosed = false;
  for (const [name, fn] of phases) {
    const res = await timed(fn);
    if (name.startsWith('diagnosis:')) {
      res.diagnosed = res.status === 'pass';
      if (res.diagnosed) run.count.diagnosed++;
      else undiagnosed = true;
    }
    report.phases[name] = res;
    for (const line of phaseLines(run.place.chapter, report.id, name, res)) log(line);
    if (res.status === 'fail' && !name.startsWith('diagnosis:')) return { broken: true, undiagnosed };
  }
  return { broken: false, undiagnosed };
}

/** The step's drills that this run proved: the catalogue's rule (engine/drill.ts), and every phase of the mutant passed. */
function provenDrills(report: StepReport, def: StepData): string[] {
  const proven = (name: string) => ['mutant', 'diagnosis', 'recover'].every((p) => report.phases[`${p}:${name}`]?.status === 'pass');
  return Object.entries(def.mutants)
    .filter(([name, m]) => leftOutBecause(m) === undefined && proven(name))
    .map(([name]) => `${report.id}/${name}`);
}

export async function testChapter(ch: LoadedChapter, home: string, log: (line: string) => void, opts: TestOptions = {}): Promise<ChapterReport> {
  const t0 = performance.now();
  const id = ch.entry.id;
  const reasons = await unmet(ch.def.requires ?? []);
  if (reasons.length > 0) return { id, status: 'skipped', reason: reasons.join('; '), steps: [], residue: [], durationMs: 0 };

  const before = await snapshot(home);
  const { selftestDir } = workspace(home);
  await mkdir(selftestDir, { recursive: true });
  const dir = await mkdtemp(join(selftestDir, `${id}-`));
  const run: ChapterRun = { ch, opts, place: { chapter: id, dir, home, nonce: newNonce(), startedAt: Date.now() }, count: { total: 0, diagnosed: 0, recoveredBySolve: 0, needRestore: [], drills: [] }, controls: { total: 0, accepted: 0 } };
  const steps: StepReport[] = Object.keys(ch.def.steps).map((s) => ({ id: s, status: 'not-run', phases: {} }));
  let broken = false;
  let undiagnosed = false;
  const setup = await timed(async () => (await setupChapter(ch, run.place, quiet, false), undefined));
  if (setup.status === 'fail') broken = true;
  try {
    for (const report of steps) {
      const def = ch.def.steps[report.id];
      if (broken) break;
      if (!def) continue;
      const r = await runPhases(run, report, [...basePhases(run, report.id), ...controlPhases(run, report.id, def), ...mutantPhases(run, report.id, def)], log);
      broken = r.broken;
      if (r.undiagnosed) undiagnosed = true;
      report.status = broken || r.undiagnosed ? 'fail' : 'pass';
      run.count.drills.push(...provenDrills(report, def));
    }
  } finally {
    const cleanup = await timed(async () => (await cleanupChapter(ch, run.place, quiet, false), undefined));
    if (cleanup.status === 'fail') log(`FAIL ${id} cleanup: ${cleanup.detail ?? ''}`);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    if (setup.status === 'fail') log(`FAIL ${id} setup: ${setup.detail ?? ''}`);
    if (cleanup.status === 'fail') broken = true;
  }
  const after = await snapshot(home);
  const unclaimed = (x: string): boolean => (opts.unclaimed ?? []).some((k) => x.startsWith(`${k}:`));
  const residue = [...after].filter((x) => !before.has(x) && !x.startsWith(`file:${dir}`) && !unclaimed(x));
  const failed = broken || undiagnosed || residue.length > 0 || steps.some((s) => s.status !== 'pass');
  const report: ChapterReport = { id, status: failed ? 'fail' : 'pass', steps, residue, durationMs: Math.round(performance.now() - t0), mutants: run.count, controls: run.controls };
  if (setup.status === 'fail') report.reason = `setup failed: ${setup.detail ?? ''}`;
  return report;
}
