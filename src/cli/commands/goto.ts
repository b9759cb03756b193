// `workshop goto <chapter|chapter/step> [--restore [--yes]]`: choose where to work; with --restore,
// rewind the chapter to the start of that step by replaying the reference solutions before it.
import { requireVm } from '../../engine/guard.ts';
import type { Position } from '../../engine/journey.ts';
import { planRestore, restore, type RestorePlan } from '../../engine/restore.ts';
import type { ChapterEntry } from '../../lessons/catalog.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import { usageError } from '../../errors.ts';
import { allStepAddresses } from '../../lessons/catalog.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { printStep } from './show.ts';
import { printShellVars } from './solve.ts';
import { shellVars, stepView } from '../../engine/journey-steps.ts';
import { confirmed } from '../confirm.ts';
import { endDrillAfter, warnDrill } from '../drill-warning.ts';
import { defineCommand } from '../command.ts';

export async function moveTo(cli: Cli, pos: Position): Promise<number> {
  const j = cli.journey();
  await j.goto(pos);
  if (cli.json) cli.emit({ current: `${pos.chapter.id}/${pos.step}`, dir: j.ws.chapterDir(pos.chapter.id) });
  else await printStep(cli, stepView(j, pos));
  return 0;
}

/** What the restore will do, said before it runs. Pure. */
export function describePlan(plan: RestorePlan): string[] {
  const id = plan.target.chapter.id;
  const lines = [`Restoring ${id}/${plan.target.step}: the cleanup of chapter ${id} runs first. It removes:`];
  if (plan.removes.length === 0) lines.push('  (nothing of this chapter is there now)');
  for (const line of plan.removes) lines.push(`  ${line}`);
  lines.push(
    plan.replay.length === 0 ? 'Then the chapter starts again at its first step.' : `Then the reference solutions of ${plan.replay.map((p) => p.step).join(', ')} run, and each is verified.`,
    'Your own files elsewhere in the workspace are kept.',
  );
  return lines;
}

async function restoreTo(cli: Cli, pos: Position): Promise<number> {
  // Only the restore replays solutions as root: the same guard as solve.
  await requireVm(cli.allowHost, 'restore a step');
  const j = cli.journey();
  const st = styler(cli.color);
  const plan = await planRestore(j, pos);
  for (const l of describePlan(plan)) cli.err(wrapText(l, terminalWidth()));
  warnDrill(cli, pos.chapter.id, 'goto --restore', 'kept');
  if (!(await confirmed(cli, 'refuse', 'goto --restore'))) {
    cli.err('Nothing was changed.');
    return 1;
  }
  // the restore cleans the chapter up first: what a drill broke there goes
  await endDrillAfter(cli, j, pos.chapter.id);
  const out = await restore(j, plan, {
    log: (l) => cli.err(l),
    verbose: !cli.json,
    on: (e) => {
      if (cli.json) return;
      if (e.type === 'cleanup') cli.err(st('bold', `▶ cleaning up ${pos.chapter.id}`));
      else if (e.type === 'solving') cli.err(st('bold', `▶ solving ${e.step.chapter.id}/${e.step.step}`));
    },
  });
  const address = `${pos.chapter.id}/${pos.step}`;
  if (cli.json) {
    cli.emit(out.ok ? { restored: address, replayed: out.replayed, ms: out.ms, paste: (await shellVars(j, pos.chapter)) ?? null } : { restored: null, failedAt: out.step, error: out.error, results: out.results, ms: out.ms });
    return out.ok ? 0 : 1;
  }
  if (!out.ok) {
    cli.out(`${st('red', '✘')} the restore stopped at ${out.step}: ${out.error}`);
    if (out.results.length > 0) cli.out(renderResults(out.results, cli.color));
    return 1;
  }
  cli.out(`${st('green', '✔')} restored to ${address} in ${(out.ms / 1000).toFixed(1)} s: ${out.replayed.length} earlier step(s) replayed and verified.\n`);
  printShellVars(cli, await shellVars(j, pos.chapter));
  await printStep(cli, stepView(j, pos));
  return 0;
}

async function goto(cli: Cli): Promise<number> {
  const j = cli.journey();
  const arg = cli.positionals[0];
  if (!arg) {
    const all = allStepAddresses(j.cat);
    throw usageError('goto needs a chapter or a chapter/step', `for example: workshop goto ${all[1] ?? all[0] ?? 'chroot'}`);
  }
  const pos = j.find(arg);
  return cli.flags['restore'] === true ? restoreTo(cli, pos) : moveTo(cli, pos);
}

export default defineCommand({
  meta: {
    name: 'goto',
    summary: 'go to a chapter or step; --restore rewinds the chapter to the start of that step',
    usage: 'goto <chapter|chapter/step> [--restore [--yes]]',
    exit: '0/1',
  },
  maxArgs: 1,
  needs: { root: true, lock: true },
  flags: {
    restore: { type: 'boolean', describe: 'clean the chapter up, then replay the reference solutions of the steps before it' },
    yes: { type: 'boolean', short: 'y', describe: 'do not ask before --restore removes things (needed without a terminal)' },
  },
  run: goto,
});
