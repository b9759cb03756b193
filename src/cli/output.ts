// Writes the CLI's own output straight to fd 1 and 2. Touching process.stdout or process.stderr
// builds a stream (SyncWriteStream for a file, a net.Socket for a pipe, tty.WriteStream for a
// terminal): ~31M instructions under callgrind for a file, about a third of what `workshop
// status` costs over `node -e 0`. A synchronous write is also what Node does for files and pipes
// on Linux, so nothing changes in ordering or in what a pipe sees.
import { writeSync } from 'node:fs';
import { envError } from '../errors.ts';
import { isTerminal } from '../render/style.ts';

/** What {@link writeOut} does when the reader of stdout has gone (`workshop list | head`). */
export const onClosedPipe = (): never => process.exit(process.exitCode ?? 0);

/**
 * Writes all of `text` to `fd`. A descriptor left non-blocking by another program (EAGAIN) gets
 * the rest through Node's stream, which waits; EPIPE on stdout ends workshop quietly, as the
 * reader chose; on stderr it is dropped (there is no one to tell). Any other failure of stdout
 * (`> /dev/full`, a full disk, an I/O error) is the machine's state: exit 3 with what happened.
 * A failing stderr is dropped too: the exit code still tells.
 */
export function writeFd(fd: 1 | 2, text: string, closed: () => void = onClosedPipe): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        const stream = fd === 1 ? process.stdout : process.stderr;
        if (fd === 1 && stream.listenerCount('error') === 0) {
          stream.on('error', (err: NodeJS.ErrnoException) => {
            if (err.code === 'EPIPE') closed();
            else throw err;
          });
        }
        stream.write(buf.subarray(off));
        return;
      }
      if (code === 'EPIPE') {
        if (fd === 1) closed();
        return;
      }
      if (fd === 2) return;
      throw outputError(code ?? (e as Error).message);
    }
  }
}

function outputError(code: string): Error {
  const why = code === 'ENOSPC' ? 'no space is left on the device' : code === 'EDQUOT' ? 'the disk quota is used up' : code === 'EFBIG' ? 'the file is too large' : code === 'EIO' ? 'an I/O error' : code;
  return envError(`cannot write the output: ${why} (${code})`, 'free some space, or send the output elsewhere (a file on another disk, or a pipe)');
}

/** The command words a printed `workshop …` may be followed by (commands/index.ts's, kept here so output loads nothing). */
const VERBS = 'status|show|next|check|hint|answer|ask|solve|watch|select|goto|drill|list|reset|clean|doctor|test|lint|state|path|env|lab|shell|classroom|pack|record';
let carried: ((text: string) => string) | undefined;

const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** Pure: `text` with `args` after every prompt's `workshop` (not after a mere mention of a command). */
export function carryArgs(text: string, args: readonly string[]): string {
  // a prompt, not a mention ("waiting for workshop solve"): in backticks, in $( ), after sudo or a
  // shell prompt, at the start of a line (a code block), or right after a colour code
  const re = new RegExp(`(?<=(?:^|[\`(]|\\bsudo |\\$ |\\u001b\\[[\\d;]*m)[ \\t]*)workshop(?= (?:${VERBS})\\b)`, 'gm');
  return text.replace(re, `workshop ${args.map(shellWord).join(' ')}`);
}

/**
 * Makes every `workshop VERB` prompt that is printed carry `args` (a one-off `--lessons DIR`), so
 * that the prompts of the engine, the hints and the chapter text, typed as printed, act on the same lessons.
 */
export function carryInPrompts(args: readonly string[]): void {
  carried = (text) => carryArgs(text, args);
}

export const writeOut = (text: string): void => writeFd(1, carried ? carried(text) : text);
export const writeErr = (text: string): void => writeFd(2, carried ? carried(text) : text);

/**
 * The colour rule of every command (main.ts) and of the quick status (quick.ts): stdout is a
 * terminal that is not dumb, and neither --json, --no-color nor NO_COLOR says no.
 */
export const colorWanted = (json: boolean, noColor: boolean): boolean => !json && !noColor && !process.env['NO_COLOR'] && isTerminal(1) && process.env['TERM'] !== 'dumb';
