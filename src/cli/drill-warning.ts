// What `reset`, `goto --restore` and `clean` say when a drill is on (issue 28): they remove what
// the drill broke, so it ends unfinished; the learner's progress in the chapters is kept, as a
// drill never changed it. Reads drills.json only: cheap for every run of those commands.
import { activeDrill } from '../engine/drill-record.ts';
import { abandonDrill } from '../engine/drill.ts';
import type { Journey } from '../engine/journey.ts';
import { terminalWidth, wrapText } from '../render/wrap.ts';
import type { Cli } from './cli.ts';

/**
 * The warning, when a drill of `chapter` (of any chapter: null) is on; undefined otherwise.
 * `progress`: what the command itself does to the progress (reset undoes steps; the others keep them).
 */
export function drillWarning(home: string, chapter: string | null, command: string, progress: 'kept' | 'undone'): string | undefined {
  const d = activeDrill(home);
  if (!d || (chapter !== null && d.chapter !== chapter)) return undefined;
  const steps = progress === 'kept' ? 'Your progress in the chapters is kept: a drill never changes it.' : 'The drill did not change your progress; the reset undoes the steps it names, as it always does.';
  return `A drill is on (${d.chapter}/${d.step}): \`workshop ${command}\` removes what it broke, so the drill ends unfinished (kept in drills.json as stopped${d.round === undefined ? '' : ', and its round ends'}). ${steps}`;
}

/** Said before a reset, restore or clean that removes what an active drill broke; nothing when none is on. */
export function warnDrill(cli: Cli, chapter: string | null, command: string, progress: 'kept' | 'undone'): void {
  const w = drillWarning(cli.home, chapter, command, progress);
  if (w !== undefined && !cli.json) cli.err(wrapText(w, terminalWidth()));
}

/** Once the command goes ahead: the drill ends, unfinished, and says so. */
export async function endDrillAfter(cli: Cli, j: Journey, chapter: string | null): Promise<void> {
  const r = await abandonDrill(j, chapter);
  if (r && !cli.json) cli.err(`The drill on ${r.chapter}/${r.step} ended unfinished; \`workshop drill\` starts another.`);
}
