// Asking before a command removes what the learner made. One rule for every such command: on a
// terminal it asks, `--yes` skips the question, and without a terminal (a pipe, a script) or
// with --json it never waits for an answer; what it does then is the command's own choice.
import { usageError } from '../errors.ts';
import type { Cli } from './cli.ts';

/** What a command does when it cannot ask: carry on (a reset in a script), or stop and ask for --yes. */
export type Unasked = 'proceed' | 'refuse';

/** Whether {@link confirmed} will ask: a command lists what will go only then (with --yes or in a script, it just does it). */
export const willAsk = (cli: Cli): boolean => cli.flags['yes'] !== true && !cli.json && process.stdin.isTTY === true;

/** True to go ahead. `what` is the command as the learner typed it, for the refusal's hint. */
export async function confirmed(cli: Cli, unasked: Unasked, what: string): Promise<boolean> {
  if (cli.flags['yes'] === true) return true;
  if (!willAsk(cli)) {
    if (unasked === 'proceed') return true;
    throw usageError(`${what} removes the things listed above, and has no terminal to ask`, 'run it again with --yes');
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('Go ahead? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}
