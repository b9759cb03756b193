// `workshop test [--chapter ID]…`: the author self-test, with a report per step.
// `--as-written` runs the chapters' own text instead (test-aswritten.ts).
import { join } from 'node:path';
import { testChapter, type ChapterReport, type MutantCount } from '../../engine/selftest.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { flagList, projectRoot } from '../cli.ts';
import { defineCommand } from '../command.ts';

/** `7 recovered by solve, 1 by restore (whiteout/x)` */
const recovered = (m: MutantCount): string => `${m.recoveredBySolve} recovered by solve${m.needRestore.length > 0 ? `, ${m.needRestore.length} by restore (${m.needRestore.join(', ')})` : ''}`;

async function test(cli: Cli): Promise<number> {
  if (cli.flags['as-written'] === true) return (await import('./test-aswritten.ts')).asWritten(cli);
  const j = cli.journey();
  const wanted = flagList(cli.flags, 'chapter');
  const chapters = wanted.length > 0 ? wanted.map((id) => j.chapter(id)) : j.cat.chapters;
  const st = styler(cli.color);
  // The built-in pack proves every mutant's diagnosis; a third-party pack may keep bare mutants.
  const requireDiagnosis = cli.flags['require-diagnosis'] === true || cli.lessonsDir === join(projectRoot(), 'lessons');
  const t0 = performance.now();
  const reports: ChapterReport[] = [];
  for (const entry of chapters) {
    const loaded = await j.load(entry);
    if (!cli.json) cli.err(st('bold', `▶ ${entry.id}`));
    const r = await testChapter(loaded, j.ws.home, (l) => {
      if (!cli.json) cli.err(`  ${l}`);
    }, { requireDiagnosis });
    reports.push(r);
    if (!cli.json) {
      const phases = r.steps.reduce((n, x) => n + Object.keys(x.phases).length, 0);
      const head = r.status === 'pass' ? st('green', 'pass') : r.status === 'skipped' ? st('yellow', 'skipped') : st('red', 'FAIL');
      cli.out(`${head} ${entry.id}: ${r.status === 'skipped' ? r.reason ?? '' : `${r.steps.length} steps, ${phases} phases, ${r.mutants ? `${r.mutants.diagnosed}/${r.mutants.total} mutants diagnosed, ${recovered(r.mutants)}, ` : ''}${r.controls && r.controls.total > 0 ? `${r.controls.accepted}/${r.controls.total} controls accepted, ` : ''}${(r.durationMs / 1000).toFixed(1)} s`}`);
      for (const x of r.residue) cli.out(`  residue: ${x}`);
      if (r.reason && r.status === 'fail') cli.out(`  ${r.reason}`);
    }
  }
  const durationMs = Math.round(performance.now() - t0);
  const failed = reports.filter((r) => r.status === 'fail').length;
  if (cli.json) cli.emit({ chapters: reports, durationMs });
  else cli.out(`\nchapters: ${reports.filter((r) => r.status === 'pass').length} passed, ${failed} failed, ${reports.filter((r) => r.status === 'skipped').length} skipped, in ${(durationMs / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

export default defineCommand({
  meta: { name: 'test', summary: 'the author self-test: fail-first, solve, pass, idempotent, mutants, no residue', usage: 'test [--as-written] [--chapter ID]...', exit: '0/1' },
  needs: { root: true, vm: 'run the self-test', lock: true, privateTmp: true },
  flags: {
    chapter: { type: 'string', multiple: true, value: 'ID', describe: 'only this chapter (repeatable)' },
    'as-written': { type: 'boolean', describe: "type each step's own code blocks from chapter.md as a learner does, then `next` must pass at once" },
    'require-diagnosis': { type: 'boolean', describe: 'every mutant must declare its diagnosis (always on for the built-in lessons)' },
    from: { type: 'string', value: 'STEP', describe: 'with --as-written: restore to STEP first (goto --restore), paste the line it prints, then type the text from there' },
  },
  run: test,
});
