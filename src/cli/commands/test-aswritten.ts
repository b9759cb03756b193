// `workshop test --as-written [--chapter ID]…`: each step's own blocks from chapter.md, typed as a
// learner types them, then `workshop next`, which must pass on the first try (engine/aswritten.ts).
import { join } from 'node:path';
import { testAsWritten, type AsWrittenChapterReport } from '../../engine/aswritten.ts';
import { usageError } from '../../errors.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { flagList, flagString, projectRoot } from '../cli.ts';

export async function asWritten(cli: Cli): Promise<number> {
  const j = cli.journey();
  const wanted = flagList(cli.flags, 'chapter');
  const from = flagString(cli.flags, 'from');
  if (from !== undefined && wanted.length !== 1) throw usageError('--from needs exactly one --chapter', 'for example: workshop test --as-written --chapter overlayfs --from whiteout');
  const chapters = wanted.length > 0 ? wanted.map((id) => j.chapter(id)) : j.cat.chapters;
  const st = styler(cli.color);
  // The shells' `workshop` runs this very CLI: the same node on the same cli.js.
  const cliJs = process.argv[1]?.endsWith('.js') ? process.argv[1] : join(projectRoot(), 'dist', 'cli.js');
  const t0 = performance.now();
  const reports: AsWrittenChapterReport[] = [];
  for (const entry of chapters) {
    const loaded = await j.load(entry);
    if (!cli.json) cli.err(st('bold', `▶ ${entry.id} (as written)`));
    const r = await testAsWritten(loaded, { home: cli.home, lessonsDir: cli.lessonsDir, node: process.execPath, cliJs, allowHost: cli.allowHost, log: (l) => (cli.json ? undefined : cli.err(`  ${l}`)), ...(from === undefined ? {} : { from }) });
    reports.push(r);
    if (!cli.json) {
      const head = r.status === 'pass' ? st('green', 'pass') : r.status === 'skipped' ? st('yellow', 'skipped') : st('red', 'FAIL');
      const passed = r.steps.filter((s) => s.status === 'pass').length;
      cli.out(`${head} ${entry.id} as written: ${r.status === 'skipped' ? r.reason ?? '' : `${passed}/${r.steps.length} steps passed on the first try, ${(r.durationMs / 1000).toFixed(1)} s`}`);
      for (const x of r.residue) cli.out(`  residue: ${x}`);
      if (r.reason && r.status === 'fail') cli.out(`  ${r.reason}`);
    }
  }
  const durationMs = Math.round(performance.now() - t0);
  const failed = reports.filter((r) => r.status === 'fail').length;
  if (cli.json) cli.emit({ chapters: reports, durationMs });
  else cli.out(`\nchapters as written: ${reports.filter((r) => r.status === 'pass').length} passed, ${failed} failed, ${reports.filter((r) => r.status === 'skipped').length} skipped, in ${(durationMs / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}
