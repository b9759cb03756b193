// `workshop record PACKDIR/CHAPTER/STEP [--script FILE] [--in host|net|box] [--force]`: draft a
// step by doing it. The engine records the shell and writes the draft (engine/record/); this
// command then removes what the recording made, lints the draft and runs `workshop test` on it
// (a child of this CLI, which takes the workspace lock itself), and says what held.
import { join } from 'node:path';
import { formatProblem, lintPack } from '../../engine/lint.ts';
import { cleanRecording, DRAFT_MARKER, recordStep, recordTarget, type RecordPlace, type Recording } from '../../engine/record/record.ts';
import { workspace } from '../../engine/workspace.ts';
import type { ChapterReport, TestReport } from '../../engine/selftest.ts';
import { usageError } from '../../errors.ts';
import { styler } from '../../render/style.ts';
import { run } from '../../sys/exec.ts';
import { withLock } from '../../sys/lock.ts';
import { flagString, projectRoot, type Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

const PLACES: readonly RecordPlace[] = ['host', 'net', 'box'];

function placeOf(cli: Cli): RecordPlace {
  const where = flagString(cli.flags, 'in');
  if (where === undefined) return 'folder';
  if (!PLACES.includes(where as RecordPlace)) throw usageError(`--in ${where}: not a lab namespace`, 'use --in host, --in net or --in box (the namespaces of `workshop shell`)');
  return where as RecordPlace;
}

/** `workshop test` on the draft chapter, by this very CLI, as JSON. */
async function testDraft(cli: Cli, rec: Recording): Promise<{ report: ChapterReport | undefined; ms: number; stderr: string }> {
  const cliJs = process.argv[1]?.endsWith('.js') ? process.argv[1] : join(projectRoot(), 'dist', 'cli.js');
  const args = [cliJs, '--lessons', rec.target.pack, '--home', cli.home, ...(cli.allowHost ? ['--allow-host'] : []), '--json', 'test', '--chapter', rec.target.chapterId];
  const t0 = performance.now();
  const r = await run(process.execPath, args, { timeoutMs: 600_000 });
  const ms = Math.round(performance.now() - t0);
  try {
    return { report: (JSON.parse(r.stdout) as TestReport).chapters[0], ms, stderr: r.stderr };
  } catch {
    return { report: undefined, ms, stderr: `${r.stderr}${r.stdout}` };
  }
}

/** The draft's mutants as `workshop test` proved them: rejected, diagnosed, recovered by solve. */
function mutantRows(rec: Recording, report: ChapterReport | undefined): Array<{ name: string; rejected: boolean; diagnosed: boolean; recovered: boolean }> {
  const phases = report?.steps.find((s) => s.id === rec.target.step)?.phases ?? {};
  const ok = (k: string) => phases[k]?.status === 'pass';
  return rec.draft.mutants.map((m) => ({ name: m.name, rejected: ok(`mutant:${m.name}`), diagnosed: ok(`diagnosis:${m.name}`), recovered: ok(`recover:${m.name}`) }));
}

function printDraft(cli: Cli, rec: Recording): void {
  const st = styler(cli.color);
  cli.out(`${st('bold', 'Recorded')} ${rec.commands.length} command(s), ${rec.changes.length} change(s) (the shell exited ${rec.exit}):`);
  for (const c of rec.changes) cli.out(`  ${c.change === 'new' ? '+' : '~'} ${c.kind} ${JSON.stringify(c.obj)}`);
  cli.out(`${st('bold', 'Draft')} ${rec.files.stepsTs} and chapter.md: ${rec.draft.checks.length} check(s), ${rec.draft.mutants.length} mutant(s)`);
}

async function record(cli: Cli): Promise<number> {
  const [arg] = cli.positionals;
  if (arg === undefined) throw usageError('which step?', 'workshop record PACKDIR/CHAPTER/STEP [--script FILE], e.g. workshop record ./my-pack/overlay/mount');
  const target = recordTarget(arg, cli.flags['force'] === true);
  const script = flagString(cli.flags, 'script');
  const log = (l: string) => (cli.json ? undefined : cli.err(l));
  const place = placeOf(cli);
  // Recording and its cleanup hold the lock; the test below is a child that takes it itself.
  const rec = await withLock(workspace(cli.home).lockPath, 'record', async () => {
    const r = await recordStep({ target, home: cli.home, place, log, ...(script === undefined ? {} : { script }) });
    if (!cli.json) printDraft(cli, r);
    log('Removing what the recording made (the draft\'s cleanup)…');
    await cleanRecording(r, cli.home, log);
    return r;
  });
  const lint = await lintPack(rec.target.folder);
  const blocking = lint.problems.filter((p) => !p.message.includes(DRAFT_MARKER));
  const tested = cli.flags['no-test'] === true ? undefined : (log('workshop test on the draft…'), await testDraft(cli, rec));
  const mutants = mutantRows(rec, tested?.report);
  const passed = tested?.report?.status === 'pass';
  if (cli.json) {
    cli.emit({ draft: rec.files, commands: rec.commands, changes: rec.changes, checks: rec.draft.checks.length, mutants, lint: lint.problems, test: tested ? { status: tested.report?.status ?? 'error', ms: tested.ms, report: tested.report ?? null } : null });
  } else {
    const st = styler(cli.color);
    cli.out(`${st('bold', 'lint')}: ${blocking.length === 0 ? `only the draft marker${lint.problems.length === 1 ? '' : 's'} (${lint.problems.length}): delete ${lint.problems.length === 1 ? 'it' : 'them'} once you have reviewed the draft` : `${blocking.length} problem(s)`}`);
    for (const p of blocking) cli.out(`  ${formatProblem(p)}`);
    if (tested) {
      cli.out(`${st('bold', 'workshop test')}: ${passed ? st('green', 'pass') : st('red', tested.report?.status ?? 'error')} in ${(tested.ms / 1000).toFixed(1)} s`);
      for (const m of mutants) cli.out(`  ${m.rejected && m.diagnosed && m.recovered ? st('green', '✔') : st('red', '✘')} mutant ${m.name}: ${m.rejected ? 'rejected' : 'ACCEPTED'}, ${m.diagnosed ? 'diagnosed' : 'not diagnosed'}, ${m.recovered ? 'solve recovers' : 'solve does not recover'}`);
      // what failed beyond the mutants' rows (fail-first, solve, pass, cleanup), as workshop test says it
      for (const [name, ph] of Object.entries(tested.report?.steps.find((x) => x.id === rec.target.step)?.phases ?? {})) if (ph.status === 'fail' && !name.includes(':')) cli.out(`  ${st('red', '✘')} ${name}: ${ph.detail ?? ''}`);
      if (tested.report?.reason) cli.out(`  ${tested.report.reason}`);
      if (!tested.report) cli.out(tested.stderr.trim());
      for (const x of tested.report?.residue ?? []) cli.out(`  residue: ${x}`);
    }
  }
  if (blocking.length > 0) return 4;
  return tested === undefined || passed ? 0 : 1;
}

export default defineCommand({
  meta: {
    name: 'record',
    summary: 'draft a step by doing it: record a shell, diff the kernel state, write checks, solve, hints and mutants',
    usage: 'record PACKDIR/CHAPTER/STEP [--script FILE] [--in host|net|box] [--force] [--no-test]',
    exit: '0/1/4',
    details: [
      'Starts a recorded bash in a fresh chapter folder (or runs the commands of --script there), probes the',
      'kernel state before and after as `workshop state` does, and writes a draft chapter PACKDIR/NN-CHAPTER/',
      '(chapter.md and steps.ts, marked as a draft) whose step checks every new object. It then removes what',
      'the recording made, runs lint and `workshop test` on the draft, and says what held. It never overwrites',
      'an author\'s chapter; --force replaces an earlier draft. See docs/authoring.md, "workshop record".',
    ].join('\n'),
  },
  maxArgs: 1,
  needs: { root: true, vm: 'record a step (its commands change the system)' },
  flags: {
    script: { type: 'string', value: 'FILE', describe: 'run the commands of FILE in the recorded shell instead of an interactive one' },
    in: { type: 'string', value: 'host|net|box', describe: 'record inside a lab namespace, as `workshop shell host` (brings the lab up)' },
    force: { type: 'boolean', describe: 'replace an earlier draft of record in that chapter folder' },
    'no-test': { type: 'boolean', describe: 'write the draft and lint it, without running `workshop test` on it' },
  },
  run: record,
});
