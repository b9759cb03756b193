// `workshop test [--chapter ID]…`: the author self-test, with a report per step.
// `--as-written` runs the chapters' own text instead (test-aswritten.ts).
import { join } from 'node:path';
import { phaseLines, testChapter, type ChapterReport, type MutantCount } from '../../engine/selftest.ts';
import { defaultJobs, testInParallel, unclaimedKinds } from '../../engine/selftest-parallel.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { flagList, projectRoot } from '../cli.ts';
import { usageError } from '../../errors.ts';
import { defineCommand } from '../command.ts';

/** `7 recovered by solve, 1 by restore (whiteout/x)` */
const recovered = (m: MutantCount): string => `${m.recoveredBySolve} recovered by solve${m.needRestore.length > 0 ? `, ${m.needRestore.length} by restore (${m.needRestore.join(', ')})` : ''}`;

/** `--jobs N`: how many chapters run at once (default: one per core). */
export function jobsOf(cli: Cli): number {
  const given = cli.flags['jobs'];
  if (typeof given !== 'string') return defaultJobs();
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--jobs needs a whole number of at least 1, not "${given}"`, 'workshop test --jobs 2 (1 runs the chapters one after another)');
  return n;
}

async function test(cli: Cli): Promise<number> {
  // As written, chapters run in parallel only when --jobs is given: one at a time, each step's line
  // shows as it ends (in parallel, only each chapter's result). (Networking's failure in parallel in
  // the VM guest was a neighbour's clean removing its lab: engine/selftest-parallel.ts.)
  if (cli.flags['as-written'] === true) return (await import('./test-aswritten.ts')).asWritten(cli, typeof cli.flags['jobs'] === 'string' ? jobsOf(cli) : 1);
  const j = cli.journey();
  const wanted = flagList(cli.flags, 'chapter');
  const chapters = wanted.length > 0 ? wanted.map((id) => j.chapter(id)) : j.cat.chapters;
  const st = styler(cli.color);
  // The built-in pack proves every mutant's diagnosis; a third-party pack may keep bare mutants.
  const requireDiagnosis = cli.flags['require-diagnosis'] === true || cli.lessonsDir === join(projectRoot(), 'lessons');
  const jobs = jobsOf(cli);
  const t0 = performance.now();
  const say = (r: ChapterReport) => {
    if (cli.json) return;
    const phases = r.steps.reduce((n, x) => n + Object.keys(x.phases).length, 0);
    const head = r.status === 'pass' ? st('green', 'pass') : r.status === 'skipped' ? st('yellow', 'skipped') : st('red', 'FAIL');
    cli.out(`${head} ${r.id}: ${r.status === 'skipped' ? r.reason ?? '' : `${r.steps.length} steps, ${phases} phases, ${r.mutants ? `${r.mutants.diagnosed}/${r.mutants.total} mutants diagnosed, ${recovered(r.mutants)}, ` : ''}${r.controls && r.controls.total > 0 ? `${r.controls.accepted}/${r.controls.total} controls accepted, ` : ''}${(r.durationMs / 1000).toFixed(1)} s`}`);
    for (const x of r.residue) cli.out(`  residue: ${x}`);
    if (r.reason && r.status === 'fail') cli.out(`  ${r.reason}`);
  };
  const loaded = await Promise.all(chapters.map((entry) => j.load(entry)));
  let reports: ChapterReport[];
  let together = '';
  if (jobs > 1 && loaded.length > 1) {
    // each chapter's block is printed whole when it ends, so that the lines of two never mix
    const block = (r: ChapterReport, stderr: string) => {
      if (!cli.json) cli.err(st('bold', `▶ ${r.id}`));
      for (const s of r.steps) for (const [name, p] of Object.entries(s.phases)) for (const l of phaseLines(r.id, s.id, name, p)) if (!cli.json) cli.err(`  ${l}`);
      // what the chapter's own code printed (console.error), as a serial run shows it
      if (stderr.trim() !== '') cli.err(stderr.replace(/\n$/, ''));
      say(r);
    };
    let atOnce;
    ({ reports, atOnce } = await testInParallel(loaded, { home: j.ws.home, lessonsDir: cli.lessonsDir, projectDir: projectRoot(), allowHost: cli.allowHost, mode: { kind: 'selftest', requireDiagnosis }, jobs, done: block }));
    together = atOnce > 1 ? ` (up to ${atOnce} at a time)` : ' (one at a time: each claims what another does)';
  } else {
    const unclaimed = unclaimedKinds();
    reports = [];
    for (const ch of loaded) {
      if (!cli.json) cli.err(st('bold', `▶ ${ch.entry.id}`));
      const r = await testChapter(ch, j.ws.home, (l) => {
        if (!cli.json) cli.err(`  ${l}`);
      }, { requireDiagnosis, unclaimed });
      reports.push(r);
      say(r);
    }
  }
  const durationMs = Math.round(performance.now() - t0);
  const failed = reports.filter((r) => r.status === 'fail').length;
  if (cli.json) cli.emit({ chapters: reports, durationMs });
  else cli.out(`\nchapters: ${reports.filter((r) => r.status === 'pass').length} passed, ${failed} failed, ${reports.filter((r) => r.status === 'skipped').length} skipped, in ${(durationMs / 1000).toFixed(1)} s${together}`);
  return failed === 0 ? 0 : 1;
}

export default defineCommand({
  meta: { name: 'test', summary: 'the author self-test: fail-first, solve, pass, idempotent, mutants, no residue', usage: 'test [--as-written] [--chapter ID]... [--jobs N]', exit: '0/1' },
  needs: { root: true, vm: 'run the self-test', lock: true, privateTmp: true },
  flags: {
    chapter: { type: 'string', multiple: true, value: 'ID', describe: 'only this chapter (repeatable)' },
    'as-written': { type: 'boolean', describe: "type each step's own code blocks from chapter.md as a learner does, then `next` must pass at once" },
    'require-diagnosis': { type: 'boolean', describe: 'every mutant must declare its diagnosis (always on for the built-in lessons)' },
    jobs: { type: 'string', value: 'N', describe: 'run up to N chapters at once, never two that share machine-wide names (default: one per core; with --as-written: 1; 1: one after another)' },
    from: { type: 'string', value: 'STEP', describe: 'with --as-written: restore to STEP first (goto --restore), paste the line it prints, then type the text from there' },
  },
  run: test,
});
