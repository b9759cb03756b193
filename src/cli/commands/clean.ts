// `workshop clean`: run each chapter's own cleanup, then discover what workshop or the learner
// made for it, remove it, and show the inventory before and after. It trusts no log: it looks at
// the kernel. Progress is kept: forgetting it is `workshop reset --all`.
import { enqueue, readMembership } from '../../classroom/outbox.ts';
import { cleanedReport, startSender } from '../../classroom/reporter.ts';
import { cleanResidue, removeTree, runChapterCleanups, type CleanupOutcome } from '../../engine/clean.ts';
import { findVisitors, takeInventory, type ResidueItem, type Visitor } from '../../engine/inventory.ts';
import { unclaimedKinds } from '../../engine/selftest-parallel.ts';
import type { Journey } from '../../engine/journey.ts';
import { declaredOutside, outsideLeftovers, outsideLines } from '../../engine/outside.ts';
import { workspace } from '../../engine/workspace.ts';
import { WorkshopError } from '../../errors.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { endDrillAfter, warnDrill } from '../drill-warning.ts';
import { defineCommand } from '../command.ts';

/** Shells are the learner's (cd $(workshop path)): named, never stopped, and not residue. */
const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'ash', 'tcsh', 'csh', 'busybox']);
const isShell = (v: Visitor): boolean => SHELLS.has(v.name);

/**
 * A process with only its cwd in the workspace is never stopped: it is not in a container. A
 * shell is the learner's; anything else (a pack's background `sleep`, an editor) is named as what
 * it is, and counts as left.
 */
const visitorLine = (v: Visitor): string =>
  isShell(v)
    ? `  your shell ${v.name} (PID ${v.pid}) is inside ${v.cwd}; cd out of it (cd ~). workshop leaves your shells alone.`
    : `  ${v.name} (PID ${v.pid}) runs inside ${v.cwd}; workshop does not stop it, as it is not in a container. Stop it if it is yours: kill ${v.pid}`;

function listItems(items: readonly ResidueItem[]): string[] {
  return items.length === 0 ? ['  (nothing)'] : items.map((i) => `  ${i.kind.padEnd(8)} ${i.id}${i.detail ? `  (${i.detail})` : ''}`);
}

/** The lessons and the progress, when they can be read: clean must work with a broken pack or state file too. */
function openJourney(cli: Cli): { journey: Journey } | { error: string } {
  try {
    return { journey: cli.journey() };
  } catch (err) {
    if (err instanceof WorkshopError) return { error: err.message };
    throw err;
  }
}

/** What clean could not vouch for: items it still sees, and actions that failed (they may have left more). */
function leftLine(items: number, failed: number): string {
  const parts = [...(items > 0 ? [`${items} item(s) are left`] : []), ...(failed > 0 ? [`${failed} action(s) failed, so what they were to remove may be left`] : [])];
  return `${parts.join('; ')}; see above.`;
}

const doneSteps = (j: Journey): number => Object.values(j.state.chapters).reduce((n, c) => n + Object.values(c.steps).filter((s) => s.done !== undefined).length, 0);

async function clean(cli: Cli): Promise<number> {
  const ws = workspace(cli.home, cli.selection.progress);
  const home = ws.home;
  const actions: string[] = [];
  const log = (l: string) => {
    actions.push(l);
    if (!cli.json) cli.err(`  ${l}`);
  };
  const st = styler(cli.color);

  // 1. Each chapter's own cleanup first: it knows what discovery cannot see.
  const opened = openJourney(cli);
  // a drill's broken state goes with everything else (issue 28)
  if ('journey' in opened) {
    warnDrill(cli, null, 'clean', 'kept');
    await endDrillAfter(cli, opened.journey, null);
  }
  let cleanups: CleanupOutcome[] = [];
  if ('journey' in opened) cleanups = await runChapterCleanups(opened.journey, (l) => (cli.json ? actions.push(l) : cli.err(l)), !cli.json);
  else if (!cli.json) cli.err(`(the chapters' own cleanups cannot run: ${opened.error}; clean goes on with what it finds)`);
  const errors = cleanups.flatMap((c) => (c.status === 'failed' ? [`finish the cleanup of chapter ${c.chapter}: ${c.error}`] : []));
  for (const c of cleanups) if (c.status === 'unknown' && !cli.json) cli.err(`(chapter ${c.chapter} has state in ${home} but is not in these lessons, so its own cleanup cannot run: give the --lessons it came from)`);

  // 2. Then what is there, found in the kernel. A chapter that `test --as-written` runs beside
  // others leaves the machine-wide kinds it does not claim to its parent: they are a neighbour's.
  const unclaimed = unclaimedKinds();
  const found = async (): Promise<ResidueItem[]> => (await takeInventory(home)).filter((i) => !unclaimed.includes(i.kind));
  const before = await found();
  if (!cli.json) cli.out([st('bold', 'Found:'), ...listItems(before)].join('\n'));
  const visitors = await findVisitors(home, before);
  if (!cli.json && visitors.length > 0) cli.out(visitors.map(visitorLine).join('\n'));
  errors.push(...(await cleanResidue(home, before, log)));

  // 3. The workspace's folders; state.json (the progress) stays.
  for (const d of [ws.chaptersDir, ws.selftestDir, ws.aswrittenDir]) {
    const why = await removeTree(d, log);
    if (why !== null) errors.push(`rm -rf ${d}: ${why}`);
  }
  const after = await found();
  const still = (await findVisitors(home, after)).filter((v) => !isShell(v));
  const done = 'journey' in opened ? doneSteps(opened.journey) : null;
  // A cleanup or an action that failed may have left what only it knew of: never "nothing left" then.
  const nothingLeft = after.length === 0 && still.length === 0 && errors.length === 0;
  // 4. What a chapter's tutorial made outside the workspace: named for the learner, never removed.
  const outside = 'journey' in opened ? await outsideLeftovers(await declaredOutside(opened.journey)) : [];
  if (cli.json) cli.emit({ cleanups, before, visitors, actions, errors, after, running: still, outside, progress: { kept: true, done }, clean: nothingLeft });
  else {
    cli.out([st('bold', 'Left after cleaning:'), ...listItems(after), ...still.map(visitorLine), ...outsideLines(outside)].join('\n'));
    for (const e of errors) cli.err(`  ${st('red', 'could not')} ${e}`);
    cli.out(nothingLeft ? st('green', 'Clean: nothing of the workshop is left on this machine.') : st('red', leftLine(after.length + still.length, errors.length)));
    if (done !== null) cli.out(`progress kept: ${done} step${done === 1 ? '' : 's'} done; \`workshop goto <step> --restore\` rebuilds a chapter, and \`workshop reset --all\` forgets the progress.`);
  }
  reportClean(cli.home, nothingLeft);
  return nothingLeft ? 0 : 1;
}

/** A class (if one is joined) hears that this learner cleaned, and whether anything was left (issue 22). */
function reportClean(home: string, clean: boolean): void {
  if (!readMembership(home)) return;
  enqueue(home, cleanedReport(clean));
  if (process.argv[1]) startSender(home, process.argv[1]);
}

export default defineCommand({
  meta: { name: 'clean', summary: 'remove everything workshop or you created for it, keep your progress; print the residue before and after', usage: 'clean', exit: '0 clean, 1 residue' },
  needs: { root: true, vm: 'clean up', lock: true },
  run: clean,
});
