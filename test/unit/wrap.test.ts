// Prose at the terminal's width, broken at word boundaries (issue 21 item 12): a line the
// terminal wraps by itself breaks mid-word (`spin|ners`, `uid.tx|t.`).
import { describe, expect, it } from 'vitest';
import { hangingIndent, wrapText } from '../../src/render/wrap.ts';

describe('wrapText', () => {
  it('breaks at spaces, never inside a word, within the width', () => {
    const text = 'Hint 2/2 for preflight/root: id -u > uid.txt, then look at the number in uid.txt. It must be 0 for root.';
    const out = wrapText(text, 40).split('\n');
    for (const l of out) expect(l.length).toBeLessThanOrEqual(40);
    expect(out.join(' ').replace(/\s+/g, ' ')).toBe(text);
    expect(out.some((l) => l.endsWith('uid.tx'))).toBe(false);
  });

  it('hangs a two-column line under its second column, as --help lays out its flags', () => {
    const line = '  -y, --yes                do not ask before --restore removes things (needed without a terminal)';
    const out = wrapText(line, 60).split('\n');
    expect(out[0]).toBe('  -y, --yes                do not ask before --restore');
    expect(out.slice(1).every((l) => l.startsWith(' '.repeat(27)) && l[27] !== ' ')).toBe(true);
  });

  it('hangs a bullet and a hint under their text', () => {
    expect(hangingIndent('- one item')).toBe(2);
    expect(hangingIndent('hint: do this')).toBe(6);
    expect(hangingIndent('    indented prose')).toBe(4);
  });

  it('leaves text alone in a pipe (no width), a short line, and a coloured line', () => {
    const long = 'x '.repeat(100);
    expect(wrapText(long, Number.POSITIVE_INFINITY)).toBe(long);
    expect(wrapText('short', 80)).toBe('short');
    const coloured = `\u001b[1m${'word '.repeat(30)}\u001b[22m`;
    expect(wrapText(coloured, 40)).toBe(coloured);
  });
});
