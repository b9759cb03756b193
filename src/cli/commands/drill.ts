// `workshop drill [chapter|chapter/step] [--seed N] [--round] | --list | --hint | --give-up`:
// break-it drills from the self-test's proven near-misses (issue 28). engine/drill.ts decides and
// does; this file renders. `next` renders the drill outcome of nextStep (renderDrillNext); `hint` hands over to drillHint while a drill is on.
import { openRound, takeRound } from '../../classroom/inbox.ts';
import { requireVm } from '../../engine/guard.ts';
import { workspace } from '../../engine/workspace.ts';
import { withLock } from '../../sys/lock.ts';
import { giveUp, listDrills, nextDrillHint, planDrill, startDrill, type ActiveDrill, type CheckOutcome, type DrillChoice, type DrillResult, type PlanOpts, type RoundState } from '../../engine/drill.ts';
import { activeDrill } from '../../engine/drill-record.ts';
import { renderResults } from '../../render/table.ts';
import { styler } from '../../render/style.ts';
import { terminalWidth, wrapText } from '../../render/wrap.ts';
import { usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';
import { flagString } from '../cli.ts';
import { confirmed } from '../confirm.ts';
import { defineCommand } from '../command.ts';

/** `1m 05s`, `42s` */
export const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
};

const say = (cli: Cli, text: string): void => cli.out(wrapText(text, terminalWidth()));

async function list(cli: Cli): Promise<number> {
  const all = await listDrills(cli.journey());
  if (cli.json) {
    cli.emit({ chapters: all.map((c) => ({ chapter: c.chapter, drills: c.drills.map((d) => `${d.step}/${d.mutant}`), leftOut: c.leftOut.map((l) => ({ drill: `${l.step}/${l.mutant}`, why: l.why })), unavailable: c.unavailable ?? null })) });
    return 0;
  }
  const width = Math.max(...all.map((c) => c.chapter.length));
  for (const c of all) {
    const steps = new Set(c.drills.map((d) => d.step)).size;
    const left = c.leftOut.length > 0 ? `, ${c.leftOut.length} near-miss(es) left out` : '';
    const where = c.unavailable === undefined ? '' : `  (not on this machine: ${c.unavailable})`;
    cli.out(`${c.chapter.padEnd(width)}  ${String(c.drills.length).padStart(2)} drill(s) in ${steps} step(s)${left}${where}`);
  }
  cli.out(`\n${all.reduce((n, c) => n + c.drills.length, 0)} drills. Start one: workshop drill CHAPTER (or CHAPTER/STEP), or a round: workshop drill --round CHAPTER`);
  return 0;
}

/** `then`: a drill of a round started after another command's JSON document, which says nothing more. */
async function begin(cli: Cli, choice: DrillChoice, json: 'emit' | 'then' = 'emit'): Promise<number> {
  const st = styler(cli.color);
  const { drill } = choice;
  const j = cli.journey();
  const out = await startDrill(j, choice, {
    log: (l) => cli.err(l),
    verbose: false,
    on: (e) => {
      if (cli.json) return;
      if (e.type === 'cleanup') cli.err(st('bold', `▶ cleaning up ${drill.chapter}`));
      else if (e.type === 'solving') cli.err(st('bold', `▶ solving ${drill.chapter}/${e.step}`));
      else cli.err(st('bold', '▶ breaking one thing'));
    },
  });
  const address = `${drill.chapter}/${drill.step}`;
  if (!out.ok) {
    if (cli.json && json === 'emit') cli.emit({ drill: null, error: out.error, results: out.results });
    else {
      cli.out(`${st('red', '✘')} the drill could not start: ${out.error}`);
      if (out.results.length > 0) cli.out(renderResults(out.results, cli.color));
    }
    return 1;
  }
  if (cli.json) {
    if (json === 'emit') cli.emit({ drill: address, seed: out.drill.seed, ms: out.ms, round: choice.round ? { of: choice.round.total } : null });
    return 0;
  }
  const of = choice.round ? ` (round: drill ${choice.round.total - choice.round.left.length} of ${choice.round.total})` : '';
  cli.out('');
  // wrapped as plain text (wrapText leaves a coloured line whole), then the mark coloured
  cli.out(`${wrapText(`⚡ Drill on ${address}${of}: the step was solved, then one thing was broken in a way a learner breaks it.`, terminalWidth()).replace('⚡', st('yellow', '⚡'))}\n`);
  say(cli, 'Find what is wrong and fix it with your own commands: `workshop next` shows which checks fail, `workshop state` draws what is there. `workshop next` passes the drill once every check of the step passes again.');
  say(cli, `Stuck? \`workshop hint\` (${out.drill.hints.length} hints: the area, the check, the fix). The answer: \`workshop drill --give-up\`. Your progress in the chapter is not changed by a drill. (seed ${out.drill.seed})`);
  return 0;
}

/** `--class`: the round the instructor started for the room, as the learner's sender last fetched it. */
function classTarget(cli: Cli): { target: string; opts: PlanOpts; round: number } {
  if (cli.positionals.length > 0 || flagString(cli.flags, 'round') !== undefined || flagString(cli.flags, 'seed') !== undefined) throw usageError('--class takes the chapter and the seed from the instructor\'s round', 'workshop drill --class');
  const r = openRound(cli.home);
  if (!r) throw usageError('no break-it round is open for you', 'the instructor starts one from the dashboard (or `workshop classroom drill CHAPTER`); your next command after that offers it. Without a class: workshop drill --round CHAPTER');
  return { target: r.chapter, opts: { classRound: r }, round: r.id };
}

/** The chapter (or step) and the options of the drill to start, from the arguments. */
function drillTarget(cli: Cli): { target: string | undefined; opts: PlanOpts; round?: number } {
  if (cli.flags['class'] === true) return classTarget(cli);
  const seedText = flagString(cli.flags, 'seed');
  const seed = seedText === undefined ? undefined : Number(seedText);
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0)) throw usageError(`--seed takes a whole number, not ${seedText ?? ''}`, 'for example: workshop drill overlayfs --seed 7');
  const round = flagString(cli.flags, 'round');
  if (round !== undefined && cli.positionals.length > 0) throw usageError('--round takes the chapter itself', `workshop drill --round ${round}`);
  return { target: round ?? cli.positionals[0], opts: { ...(seed === undefined ? {} : { seed }), round: round !== undefined } };
}

async function start(cli: Cli): Promise<number> {
  await requireVm(cli.allowHost, 'start a drill');
  const j = cli.journey();
  const { target, opts, round } = drillTarget(cli);
  const current = activeDrill(cli.home);
  if (current) throw usageError(`a drill is on already (${current.chapter}/${current.step})`, 'fix it and run `workshop next`, or `workshop drill --give-up`');
  const choice = await planDrill(j, target, opts);
  if (!cli.json) {
    cli.err(`The drill rebuilds chapter ${choice.drill.chapter}: its cleanup runs first. It removes:`);
    for (const line of choice.removes.length > 0 ? choice.removes : ['(nothing of this chapter is there now)']) cli.err(`  ${line}`);
    cli.err(wrapText(`Then the reference solutions of ${choice.replay.join(', ')} run. Your own files elsewhere in the workspace are kept.`, terminalWidth()));
  }
  if (!(await confirmed(cli, 'refuse', 'workshop drill'))) {
    cli.err('Nothing was changed.');
    return 1;
  }
  // the round is taken once it is asked for: a drill that could not start is told, and not offered again
  if (round !== undefined) takeRound(cli.home, round);
  return begin(cli, choice);
}

const resultLine = (r: DrillResult): string =>
  `${r.chapter}/${r.step}: ${r.outcome === 'fixed' ? 'fixed' : r.outcome === 'gave-up' ? 'given up' : 'stopped unfinished'} in ${duration(r.ms)}, ${r.attempts} failed next, ${r.hints} hint(s)`;

/** What the round taught: the near-misses found quickly, and those that took hints. */
function renderSummary(cli: Cli, results: readonly DrillResult[]): void {
  const st = styler(cli.color);
  cli.out(st('bold', `\nRound over: ${results.filter((r) => r.outcome === 'fixed').length} of ${results.length} fixed.`));
  for (const r of results) cli.out(`  ${r.outcome === 'fixed' && r.hints === 0 ? st('green', '✔') : st('yellow', '·')} ${resultLine(r)}`);
  const quick = results.filter((r) => r.outcome === 'fixed' && r.hints === 0);
  const helped = results.filter((r) => r.outcome !== 'fixed' || r.hints > 0);
  if (quick.length > 0) say(cli, `Found on your own: ${quick.map((r) => `${r.chapter}/${r.step}`).join(', ')}.`);
  if (helped.length > 0) say(cli, `Worth another look (hints or the answer): ${helped.map((r) => `${r.chapter}/${r.step}`).join(', ')}.`);
}

async function afterDrill(cli: Cli, round: RoundState): Promise<number> {
  if (round.kind === 'none') return 0;
  if (round.kind === 'over') {
    if (!cli.json) renderSummary(cli, round.results);
    return 0;
  }
  if (!cli.json) cli.out(`\nNext drill of the round (${round.done + 1} of ${round.total}):`);
  await requireVm(cli.allowHost, 'start a drill');
  // `next` holds no lock of its own; rebuilding a chapter must (the drill command holds it already: it is re-entrant)
  return withLock(workspace(cli.home).lockPath, cli.verb, () => begin(cli, round.next, 'then'));
}

/** `workshop next` while a drill is on (engine/journey-steps.ts nextStep checked the drill's step): its outcome. */
export async function renderDrillNext(cli: Cli, drill: ActiveDrill, out: CheckOutcome): Promise<number> {
  const st = styler(cli.color);
  const address = `${drill.chapter}/${drill.step}`;
  if (!out.passed) {
    if (cli.json) cli.emit({ drill: address, passed: false, results: out.results, attempts: out.drill.attempts });
    else {
      cli.out(`${st('red', '✘')} drill ${address}: something is still wrong:\n`);
      cli.out(renderResults(out.results, cli.color));
      say(cli, `\nFix what is marked ✘ and run \`workshop next\` again. Stuck? \`workshop hint\` (${out.drill.hintsShown} of ${out.drill.hints.length} shown). The answer: \`workshop drill --give-up\`.`);
      cli.out('see it: workshop state');
    }
    return 1;
  }
  if (cli.json) cli.emit({ drill: address, passed: true, results: out.results, result: out.result, round: out.round.kind });
  else {
    cli.out(renderResults(out.results, cli.color));
    cli.out(`\n${st('green', '✔')} drill passed: ${resultLine(out.result)}.`);
  }
  return afterDrill(cli, out.round);
}


/** `workshop hint` (or `drill --hint`) while a drill is on: area, then check, then fix. */
export async function drillHint(cli: Cli): Promise<number> {
  const { drill, text } = await nextDrillHint(cli.home);
  if (cli.json) {
    cli.emit({ drill: `${drill.chapter}/${drill.step}`, shown: drill.hintsShown, total: drill.hints.length, hints: drill.hints.slice(0, drill.hintsShown) });
    return 0;
  }
  cli.out(`Drill hint ${drill.hintsShown}/${drill.hints.length}:`);
  say(cli, `  ${text ?? ''}`);
  if (drill.hintsShown >= drill.hints.length) say(cli, 'That was the last hint. `workshop drill --give-up` shows the answer and repairs the step.');
  return 0;
}

async function surrender(cli: Cli): Promise<number> {
  await requireVm(cli.allowHost, 'repair a drill');
  const st = styler(cli.color);
  const out = await giveUp(cli.journey(), { log: (l) => cli.err(l), verbose: !cli.json, on: () => {} });
  const { drill } = out;
  if (cli.json) {
    cli.emit({ drill: `${drill.chapter}/${drill.step}`, mutant: drill.mutant, diagnosis: drill.diagnosis, rows: drill.rows, fix: drill.hints[drill.hints.length - 1] ?? null, repaired: out.repaired.ok, result: out.result, round: out.round.kind });
    const code = await afterDrill(cli, out.round);
    return out.repaired.ok ? code : 1;
  }
  cli.out(st('bold', `The near-miss: ${drill.mutant} (${drill.chapter}/${drill.step})`));
  cli.out('\nWhat the checks said when it was made:');
  cli.out(drill.rows.replace(/^/gm, '  '));
  say(cli, `\nThe diagnosis \`workshop test\` proves for it: the failure matches ${drill.diagnosis}.`);
  for (const h of drill.hints) say(cli, `  ${h}`);
  if (out.repaired.ok) cli.out(`\n${st('green', '✔')} the step's own solution repaired it. ${resultLine(out.result)}.`);
  else {
    cli.out(`\n${st('red', '✘')} the step's solution did not repair it: ${out.repaired.error}`);
    if (out.repaired.results.length > 0) cli.out(renderResults(out.repaired.results, cli.color));
  }
  const code = await afterDrill(cli, out.round);
  return out.repaired.ok ? code : 1;
}

async function drill(cli: Cli): Promise<number> {
  if (cli.flags['list'] === true) return list(cli);
  if (cli.flags['hint'] === true) return drillHint(cli);
  if (cli.flags['give-up'] === true) return surrender(cli);
  return start(cli);
}

export default defineCommand({
  meta: {
    name: 'drill',
    summary: "break-it drills: a step's proven near-miss to find and fix (does not change your progress)",
    usage: 'drill [chapter|chapter/step] [--seed N] [--yes] | --round CHAPTER | --class | --list | --hint | --give-up',
    exit: '0/1',
    details:
      'A drill rebuilds the chapter to the solved state of a step, then makes one near-miss that `workshop test` proves is caught and named. `workshop next` passes the drill when every check of the step passes again; `workshop hint` gives the area, then the check, then the fix. Time, failed attempts and hints are kept in drills.json in the home, apart from your progress.',
  },
  maxArgs: 1,
  needs: { root: true, lock: true },
  flags: {
    seed: { type: 'string', value: 'N', describe: 'choose the drill with this seed (the same seed, the same drill)' },
    round: { type: 'string', value: 'CHAPTER', describe: 'up to 5 drills of the chapter in a row, then a summary' },
    class: { type: 'boolean', describe: "the break-it round the instructor started for the class: its chapter, its drills, the same for everyone" },
    list: { type: 'boolean', describe: 'how many drills each chapter has, and the near-misses left out with why' },
    hint: { type: 'boolean', describe: 'the next hint of the drill (as `workshop hint` during a drill)' },
    'give-up': { type: 'boolean', describe: "show the answer and its diagnosis, and repair the step with its own solution" },
    yes: { type: 'boolean', short: 'y', describe: 'do not ask before the chapter is rebuilt (needed without a terminal)' },
  },
  run: drill,
});
