// `workshop pack list`, `pack use NAME` and `pack remove NAME`.
import { join } from 'node:path';
import { WorkshopError, usageError } from '../../../errors.ts';
import { removeTree, runChapterCleanups, startedChapters, type CleanupOutcome } from '../../../engine/clean.ts';
import { requireRoot, requireVm } from '../../../engine/guard.ts';
import { removable, removePack, usePack } from '../../../engine/pack-install.ts';
import { packSummaries } from '../../../engine/pack-summary.ts';
import { BUILTIN, installedPacks, packDir, packInUse, type PackRecord } from '../../../engine/packs.ts';
import { readState } from '../../../engine/progress.ts';
import { workspace } from '../../../engine/workspace.ts';
import { styler } from '../../../render/style.ts';
import { withLock } from '../../../sys/lock.ts';
import { projectRoot, type Cli } from '../../cli.ts';
import { defineCommand } from '../../command.ts';
import { openJourney } from '../../journey.ts';

const pinOf = (r: PackRecord | undefined): string => (r === undefined ? 'built in' : [r.version === null ? '' : `v${r.version}`, r.commit === null ? '' : r.commit.slice(0, 12), r.tested === 'skipped' ? 'not tested' : ''].filter(Boolean).join(' ') || r.kind);

async function list(cli: Cli): Promise<number> {
  const inUse = packInUse(cli.home);
  const records = new Map(installedPacks(cli.home).map((r) => [r.name, r]));
  const packs = packSummaries(cli.home, join(projectRoot(), 'lessons')).map((s) => ({ ...s, inUse: s.name === inUse, record: records.get(s.name) ?? null }));
  if (cli.json) {
    cli.emit({ inUse, packs });
    return 0;
  }
  const st = styler(cli.color);
  for (const p of packs) cli.out(`${p.inUse ? st('cyan', '▶') : ' '} ${st('bold', p.name.padEnd(16))} ${String(p.chapters).padStart(2)} chapter(s)  ${p.done}/${p.steps} steps done  ${st('dim', `${pinOf(p.record ?? undefined)}${p.record ? `  from ${p.record.source}` : ''}`)}`);
  return 0;
}

const oneName = (cli: Cli, usage: string): string => {
  const [name] = cli.positionals;
  if (name === undefined) throw usageError('which pack?', `usage: workshop ${usage}; \`workshop pack list\` shows the names`);
  return name;
};

async function use(cli: Cli): Promise<number> {
  const name = oneName(cli, 'pack use NAME');
  usePack(cli.home, name);
  if (cli.json) cli.emit({ inUse: name });
  else cli.out(`Now using ${name === BUILTIN ? 'the built-in lessons' : `the pack ${name}`}: \`workshop\` says where you are, \`workshop show\` shows the step.`);
  return 0;
}

/**
 * A pack's own cleanups run before its code goes: only the pack knows what its steps started (a
 * background process, a mount outside discovery's names). Then its chapter folders go; its
 * progress stays. A pack nothing was started of needs neither root nor a VM.
 */
async function cleanPack(cli: Cli, name: string): Promise<CleanupOutcome[]> {
  if (cli.flags['no-cleanup'] === true) return [];
  const ws = workspace(cli.home, name);
  if ((await startedChapters(ws.chaptersDir, readState(ws.statePath, false).state.chapters)).size === 0) return [];
  requireRoot(cli.line);
  await requireVm(cli.allowHost, `run the cleanup of the pack ${name}`);
  const log = (l: string) => (cli.json ? undefined : cli.err(l));
  let journey;
  try {
    journey = openJourney({ home: cli.home, lessonsDir: packDir(cli.home, name), pack: name, allowHost: cli.allowHost, command: cli.verb, log, verbose: !cli.json });
  } catch (err) {
    if (!(err instanceof WorkshopError)) throw err;
    return [{ chapter: '*', status: 'failed', error: err.message }];
  }
  try {
    const outcomes = await runChapterCleanups(journey, log, !cli.json);
    if (!outcomes.some((o) => o.status === 'failed')) {
      const why = await removeTree(journey.ws.chaptersDir, log);
      if (why !== null) outcomes.push({ chapter: '*', status: 'failed', error: `rm -rf ${journey.ws.chaptersDir}: ${why}` });
    }
    return outcomes;
  } finally {
    await journey.settle();
  }
}

async function remove(cli: Cli): Promise<number> {
  const name = oneName(cli, 'pack remove NAME');
  removable(cli.home, name);
  return withLock(workspace(cli.home).lockPath, cli.verb, async () => {
    const cleanups = await cleanPack(cli, name);
    const failed = cleanups.filter((c) => c.status === 'failed');
    if (failed.length > 0) {
      if (cli.json) cli.emit({ removed: null, cleanups });
      for (const f of failed) cli.err(`error: the cleanup of ${f.chapter === '*' ? `the pack ${name}` : `chapter ${f.chapter}`} failed: ${f.status === 'failed' ? f.error : ''}`);
      cli.err(`hint: the pack ${name} is kept, so that its cleanup can run again: fix what failed and remove it again, or \`workshop pack remove ${name} --no-cleanup\` (what it made may be left; \`workshop clean\` finds what carries workshop's names)`);
      return 1;
    }
    const r = removePack(cli.home, name);
    const ran = cleanups.filter((c) => c.status === 'ok').map((c) => c.chapter);
    if (cli.json) cli.emit({ removed: r, cleanups });
    else {
      if (ran.length > 0) cli.out(`Ran the cleanup of ${ran.length} chapter(s) of ${name} (${ran.join(', ')}) and removed their folders.`);
      cli.out(`Removed the pack ${name} (from ${r.source}). Its progress is kept in ${join(cli.home, 'progress', name)}: adding it again takes it up.`);
    }
    return 0;
  });
}

export const listCommand = defineCommand({
  meta: { name: 'pack list', summary: 'the packs installed in the home, the built-in lessons, and the one in use', usage: 'pack list', exit: '0' },
  run: list,
});
export const useCommand = defineCommand({
  meta: { name: 'pack use', summary: 'make a pack the lessons of every command (`builtin` for the built-in ones)', usage: 'pack use NAME', exit: '0; 2 no such pack' },
  maxArgs: 1,
  run: use,
});
export const removeCommand = defineCommand({
  meta: {
    name: 'pack remove',
    summary: "remove an installed pack that is not in use, after its chapters' own cleanups (its progress is kept)",
    usage: 'pack remove NAME [--no-cleanup]',
    exit: '0; 1 a cleanup failed (the pack is kept); 2 no such pack, or in use; 3 not root or not in a VM, when there is something to clean',
    details: "When you have started any of the pack's chapters, their own cleanups run first (as `workshop clean` runs them), which needs root and a VM (or --allow-host), and then their folders go. A failed cleanup keeps the pack, so that it can run again.",
  },
  maxArgs: 1,
  flags: { 'no-cleanup': { type: 'boolean', describe: "remove it without running its chapters' cleanups (what they made may be left)" } },
  run: remove,
});
