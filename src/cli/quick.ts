// `workshop` and `workshop status` with no flags, answered before main.ts loads: they are typed
// hundreds of times in a workshop, and main.ts with the engine is most of what they cost to start
// (issue 14: status ≤ 1.3x `node -e 0`). Only the lesson index, state.json and the classroom's
// outbox are read, through the same functions and lines as the status command. Anything out of
// the ordinary (a flag, a warning to print, an error) returns false, and main.ts answers it as
// it always does; nothing has been printed by then.
import { join } from 'node:path';
import { readCatalog } from '../lessons/catalog.ts';
import { selectLessons } from '../engine/packs.ts';
import { readState } from '../engine/progress.ts';
import { resolveHome, workspace } from '../engine/workspace.ts';
import { statusLines } from './status-lines.ts';
import { projectRoot } from './cli.ts';
import { colorWanted, writeOut } from './output.ts';

/** Prints the status and returns true, or returns false for main.ts to do it. */
export function quickStatus(argv: readonly string[]): boolean {
  if (!(argv.length === 0 || (argv.length === 1 && argv[0] === 'status'))) return false;
  let text: string;
  try {
    const home = resolveHome(undefined);
    const root = projectRoot();
    const sel = selectLessons(home, undefined, join(root, 'lessons'));
    if (sel.warning !== undefined) return false;
    const cat = readCatalog(sel.dir, { cache: join(root, 'node_modules', '.cache', 'workshop-lessons.json') });
    if (cat.chapters.length === 0) return false;
    const { state, warnings } = readState(workspace(home, sel.progress).statePath, false);
    if (warnings.length > 0) return false;
    // main.ts's rule, with no --json or --no-color given
    text = `${statusLines(cat, state, home, colorWanted(false, false)).join('\n')}\n`;
  } catch {
    return false;
  }
  writeOut(text);
  process.exitCode = 0;
  return true;
}
