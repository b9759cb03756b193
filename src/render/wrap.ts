// Prose for a terminal, wrapped at word boundaries to its width: a line the terminal wraps by
// itself breaks mid-word (`spin|ners`, `uid.tx|t.`). In a pipe or a file nothing is wrapped.
import { readingColumns } from './style.ts';
import { wrap } from './table.ts';

/** The width prose is wrapped to: the terminal's (through `| head` too), or none (Infinity) without one. */
export const terminalWidth = (): number => readingColumns() ?? Number.POSITIVE_INFINITY;

const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Where a wrapped line's continuation starts: under the text after a bullet (`- `, `* `, `1. `),
 * or under the second column of a two-column line (`  --yes        do not ask …`, `  next  verify …`),
 * else under the line's own indentation. Pure.
 */
export function hangingIndent(line: string): number {
  const plain = line.replace(ANSI, '');
  const lead = /^ */.exec(plain)?.[0].length ?? 0;
  const bullet = /^ *(?:[-*!\u2022] |\d+\. |hint: |error: )/.exec(plain);
  if (bullet) return bullet[0].length;
  const column = /^ *\S.*?\S? {2,}(?=\S)/.exec(plain);
  if (column && column[0].length <= 40) return column[0].length;
  return lead;
}

/**
 * Wraps each line of `text` to `width` at spaces, continuation lines indented as
 * {@link hangingIndent} says. A line within the width is left whole, and so is a line with colour
 * codes: wrap the plain text, then colour it. Pure.
 */
export function wrapText(text: string, width: number): string {
  if (!Number.isFinite(width)) return text;
  return text
    .split('\n')
    .flatMap((line) => {
      const plain = line.replace(ANSI, '');
      if (plain.length <= width || line !== plain) return [line];
      const hang = hangingIndent(line);
      const lead = /^ */.exec(line)?.[0] ?? '';
      const room = Math.max(20, width - hang);
      const first = wrap(line.slice(lead.length), Math.max(20, width - lead.length));
      const head = first[0] ?? '';
      const rest = first.slice(1).join(' ');
      const tail = rest === '' ? [] : wrap(rest, room);
      return [lead + head, ...tail.map((l) => ' '.repeat(hang) + l)];
    })
    .join('\n');
}
