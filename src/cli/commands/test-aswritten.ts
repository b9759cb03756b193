// `workshop test --as-written [--chapter ID]…`: each step's own blocks from chapter.md, typed as a
// learner types them, then `workshop next`, which must pass on the first try (engine/aswritten.ts).
import { join } from 'node:path';
import { testAsWritten, type AsWrittenChapterReport, type AsWrittenStepReport } from '../../engine/aswritten.ts';
import { testInParallel, unclaimedKinds } from '../../engine/selftest-parallel.ts';
import { usageError } from '../../errors.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { flagList, flagString, projectRoot } from '../cli.ts';

export async function asWritten(cli: Cli, jobs: number): Promise<number> {
  const j = cli.journey();
  const wanted = flagList(cli.flags, 'chapter');
  const from = flagString(cli.flags, 'from');
  if (from !== undefined && wanted.length !== 1) throw usageError('--from needs exactly one --chapter', 'for example: workshop test --as-written --chapter overlayfs --from whiteout');
  const chapters = wanted.length > 0 ? wanted.map((id) => j.chapter(id)) : j.cat.chapters;
  const st = styler(cli.color);
  // The shells' `workshop` runs this very CLI: the same node on the same cli.js.
  const cliJs = process.argv[1]?.endsWith('.js') ? process.argv[1] : join(projectRoot(), 'dist', 'cli.js');
  const t0 = performance.now();
  const say = (r: AsWrittenChapterReport) => {
    if (cli.json) return;
    const head = r.status === 'pass' ? st('green', 'pass') : r.status === 'skipped' ? st('yellow', 'skipped') : st('red', 'FAIL');
    const passed = r.steps.filter((s) => s.status === 'pass').length;
    cli.out(`${head} ${r.id} as written: ${r.status === 'skipped' ? r.reason ?? '' : `${passed}/${r.steps.length} steps passed on the first try, ${(r.durationMs / 1000).toFixed(1)} s`}`);
    for (const x of r.residue) cli.out(`  residue: ${x}`);
    if (r.reason && r.status === 'fail') cli.out(`  ${r.reason}`);
  };
  const loaded = await Promise.all(chapters.map((entry) => j.load(entry)));
  let reports: AsWrittenChapterReport[] = [];
  if (jobs > 1 && loaded.length > 1) {
    // each chapter's lines come as one block when it ends: its heading, then its result
    const block = (r: AsWrittenChapterReport, stderr: string) => {
      if (!cli.json) cli.err(st('bold', `▶ ${r.id} (as written)`));
      if (stderr.trim() !== '') cli.err(stderr.replace(/\n$/, ''));
      say(r);
    };
    ({ reports } = await testInParallel<AsWrittenStepReport>(loaded, { home: cli.home, lessonsDir: cli.lessonsDir, projectDir: projectRoot(), allowHost: cli.allowHost, mode: { kind: 'as-written' }, jobs, done: block }));
  } else {
    const unclaimed = unclaimedKinds();
    for (const ch of loaded) {
      if (!cli.json) cli.err(st('bold', `▶ ${ch.entry.id} (as written)`));
      const r = await testAsWritten(ch, { home: cli.home, lessonsDir: cli.lessonsDir, node: process.execPath, cliJs, allowHost: cli.allowHost, unclaimed, log: (l) => (cli.json ? undefined : cli.err(`  ${l}`)), ...(from === undefined ? {} : { from }) });
      reports.push(r);
      say(r);
    }
  }
  const durationMs = Math.round(performance.now() - t0);
  const failed = reports.filter((r) => r.status === 'fail').length;
  if (cli.json) cli.emit({ chapters: reports, durationMs });
  else cli.out(`\nchapters as written: ${reports.filter((r) => r.status === 'pass').length} passed, ${failed} failed, ${reports.filter((r) => r.status === 'skipped').length} skipped, in ${(durationMs / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}
