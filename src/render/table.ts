// The check table: what was checked, expected, actual, and a hint. Plain text; colour optional.
import type { CheckResult } from '../checks/check.ts';
import { readingColumns, styler } from './style.ts';

/** Wraps at spaces; a word longer than the width (a path) is cut into pieces of the width. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  const w = Math.max(10, width);
  for (const para of text.split('\n')) {
    let line = '';
    const words = para.split(' ').flatMap((word) => (word.length <= w ? [word] : (word.match(new RegExp(`.{1,${w}}`, 'gu')) ?? [word])));
    for (const word of words) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

/** A file error from Node (`ENOENT: no such file or directory, open '/x'`) in plain words. */
const FS_ERRORS: ReadonlyArray<[string, (path: string) => string]> = [
  ['ENOENT', (p) => `${p} does not exist. Make it first, as the step says`],
  ['EACCES', (p) => `permission denied on ${p}; run workshop as root (sudo -i, then workshop)`],
  ['EPERM', (p) => `the kernel refused to touch ${p}; run workshop as root (sudo -i, then workshop)`],
  ['ENOTDIR', (p) => `a part of ${p} is a file, not a folder`],
  ['EISDIR', (p) => `${p} is a folder, not a file`],
  ['ELOOP', (p) => `${p} is a symlink loop: a link that points back to itself`],
];

/**
 * Why a probe could not run, in words a learner can act on. The raw error is kept at the end in
 * parentheses for whoever reports a bug. Pure; table-tested.
 */
export function explainError(error: string): string {
  const spawn = /spawn (\S+) (ENOENT|EACCES)/.exec(error);
  if (spawn?.[1] !== undefined) {
    const cmd = spawn[1];
    return spawn[2] === 'ENOENT'
      ? `${cmd} could not be run: it does not exist${cmd.includes('/') ? ' (are you in the chapter folder?)' : ' on this machine (workshop doctor lists what is missing)'}`
      : `${cmd} could not be run: it is not executable (chmod +x ${cmd})`;
  }
  const fs = /\b(E[A-Z]+): [^,]*, \w+ '([^']*)'/.exec(error);
  const explain = FS_ERRORS.find(([code]) => code === fs?.[1])?.[1];
  if (fs?.[2] !== undefined && explain !== undefined) return explain(fs[2]);
  return `${error} (the probe itself could not run)`;
}

/**
 * Values quote what they found with JSON.stringify. Text full of control bytes is a binary
 * file read as text: say what it is instead of pasting "\u0000\u0000…".
 */
export function explainValue(value: string): string {
  return value.replace(/"(?:[^"\\]|\\.)*"/g, (lit) => {
    if (!/\\u00[01][0-9a-fA-F]/.test(lit)) return lit;
    let text: unknown;
    try {
      text = JSON.parse(lit);
    } catch {
      return lit;
    }
    if (typeof text !== 'string') return lit;
    const control = [...text].filter((c) => c < ' ' && c !== '\n' && c !== '\t' && c !== '\r').length;
    return control * 10 >= text.length || control >= 4 ? `binary data (${Buffer.byteLength(text, 'latin1')} bytes)` : lit;
  });
}

/** Words that begin a clause, not a command line. */
const PROSE_WORDS = new Set(['a', 'all', 'an', 'and', 'as', 'at', 'both', 'but', 'by', 'each', 'every', 'from', 'if', 'in', 'it', 'its', 'no', 'not', 'of', 'on', 'one', 'only', 'or', 'so', 'some', 'that', 'the', 'then', 'there', 'these', 'this', 'those', 'to', 'what', 'when', 'where', 'which', 'with', 'you', 'your']);

/**
 * A hint's command, apart from its words: the text after its last `: ` when that reads as a
 * command line (a lowercase program name first, no sentence in it, no full stop at the end).
 * The table prints it on a line of its own and never wraps it, so that what is copied runs: a
 * command wrapped at a space became two commands in the shell (`find rootfs` ⏎ `-samefile …`).
 * Pure; table-tested.
 */
export function splitHint(hint: string): { words: string; command: string | null } {
  // a hint that is only a command (`truncate -s 1G store.img`): no words, and no `, then` in it
  if (looksLikeCommand(hint.trim()) && !/, /.test(hint)) return { words: '', command: hint.trim() };
  const at = hint.lastIndexOf(': ');
  if (at < 0) return { words: hint, command: null };
  const command = hint.slice(at + 2).trim();
  return looksLikeCommand(command) ? { words: hint.slice(0, at + 1), command } : { words: hint, command: null };
}

/** A program name first (not a word of a sentence), no sentence inside, no full stop at the end, and an argument. Pure. */
function looksLikeCommand(text: string): boolean {
  const first = /^[a-z][\w.+-]*(?=\s|$)/.exec(text)?.[0];
  return first !== undefined && !PROSE_WORDS.has(first) && !/[.!?]$/.test(text) && !/[.!?]\s+[A-Z]/.test(text) && /[\s/|;=-]/.test(text);
}

export function renderResults(results: readonly CheckResult[], color: boolean, width = readingColumns() ?? 100): string {
  const st = styler(color);
  const lines: string[] = [];
  const w = Math.max(30, Math.min(width, 120)) - 6;
  // A check's name is wrapped under itself, never cut by a narrow pane.
  const name = (mark: string, text: string, style: (t: string) => string) =>
    wrap(text, w + 2).forEach((l, i) => lines.push(`${i === 0 ? mark : '   '} ${style(l)}`));
  for (const r of results) {
    if (r.status === 'pass') {
      name(st('green', '  ✔'), r.check, (t) => t);
      continue;
    }
    const mark = r.status === 'fail' ? st('red', '  ✘') : st('yellow', '  !');
    name(mark, r.check, (t) => st('bold', t));
    const field = (label: string, value: string) => wrap(value, w - 10).forEach((l, i) => lines.push(`      ${i === 0 ? st('dim', label.padEnd(9)) : ' '.repeat(9)} ${l}`));
    if (r.status === 'fail') {
      field('expected', explainValue(r.expected));
      field('actual', explainValue(r.actual));
      if (r.hint) {
        const { words, command } = splitHint(r.hint);
        if (words !== '') field('hint', words);
        // whole, under the values (on the hint line when it is all the hint says): the terminal
        // may wrap it, a copy of it joins it again, and the blanks before it change nothing that runs
        if (command !== null) lines.push(`      ${words === '' ? st('dim', 'hint'.padEnd(9)) : ' '.repeat(9)} ${st('cyan', command)}`);
      }
    } else field('error', explainError(r.error));
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  lines.push('', `  ${passed}/${results.length} checks passed`);
  return lines.join('\n');
}
