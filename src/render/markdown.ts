// Markdown for the terminal. On a TTY with colour, marked + marked-terminal (imported lazily:
// they cost most of a command's start-up). Otherwise plain text that reads well in a pipe or log.
import { readingColumns, stdoutColumns } from './style.ts';
import { wrap } from './table.ts';
import { wrapText } from './wrap.ts';

/** The rule above and below a code block in plain text: the code itself stays flush left, so that what is copied runs (a heredoc's `EOF` too). */
const RULE = '\u2500'.repeat(3);
export const codeRule = (lang: string): string => `${RULE}${lang === '' ? '' : ` ${lang} `}${RULE}`;

/** Inline markdown as plain words: **bold**, *em*, _em_, `code` (whose text is kept as it is) and links. Pure. */
export function plainInline(line: string): string {
  return line
    .split(/(`[^`]+`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1
        ? part.slice(1, -1)
        : part
            .replace(/\*\*(\S(?:.*?\S)?)\*\*/g, '$1')
            .replace(/(^|[^\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])/g, '$1$2')
            .replace(/(^|[^\w])_(\S(?:[^_]*?\S)?)_(?!\w)/g, '$1$2')
            .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>'),
    )
    .join('');
}

/**
 * Markdown as plain text for a pipe, a log or NO_COLOR: headings underlined, emphasis and quote
 * marks dropped (a quote is indented instead), and code blocks flush left between two rules.
 */
export function plainMarkdown(md: string, width = Number.POSITIVE_INFINITY): string {
  const out: string[] = [];
  // prose is wrapped to the terminal's width at word boundaries (NO_COLOR on a terminal); code never
  const prose = (l: string): string => wrapText(l, width);
  let fence: { indent: string } | null = null;
  const lines = md.split('\n');
  for (let at = 0; at < lines.length; at++) {
    const raw = lines[at] ?? '';
    // a table (a header, its rule, then rows) as two columns of plain text, as on a terminal
    if (!fence && raw.trim().startsWith('|') && TABLE_RULE.test(lines[at + 1] ?? '')) {
      const rows = [tableCells(raw)];
      for (at += 2; at < lines.length && (lines[at] ?? '').trim().startsWith('|'); at++) rows.push(tableCells(lines[at] ?? ''));
      at--;
      out.push(narrowTable(rows.map((r) => r.map(plainInline)), width, wrap));
      continue;
    }
    // a blockquote's text is indented; its code blocks are not (they must copy as they are)
    const quote = /^\s*>\s?/.exec(raw);
    const line = quote ? raw.slice(quote[0].length) : raw;
    const indent = quote ? '  ' : '';
    const open = /^\s*(```|~~~)\s*(\S*)/.exec(line);
    if (open) {
      if (fence) {
        out.push(`${fence.indent}${codeRule('')}`);
        fence = null;
      } else {
        fence = { indent };
        out.push(`${indent}${codeRule(open[2] ?? '')}`);
      }
      continue;
    }
    if (fence) {
      out.push(line);
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*(\{#[^}]*\})?\s*$/.exec(line);
    if (h?.[2] !== undefined) {
      const title = plainInline(h[2]);
      out.push(prose(title), (h[1] === '#' ? '=' : '-').repeat(Math.min(title.length, 72, width)));
      continue;
    }
    out.push(line.trim() === '' ? '' : prose(indent + plainInline(line)));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** Marks the lines of code blocks, so that wrapping leaves them as they are. */
const CODE = '\uE000';
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * A table in two columns that fit `width`: the first cell padded (at most a third of the width),
 * the other cells after it, wrapped under the second column. The header row first, then a rule.
 */
export function narrowTable(rows: readonly string[][], width: number, wrapTo: (s: string, w: number) => string[]): string {
  const natural = Math.max(...rows.map((r) => (r[0] ?? '').replace(ANSI, '').length));
  const first = Number.isFinite(width) ? Math.min(natural, Math.floor(width / 3)) : natural;
  const room = Math.max(20, width - first - 2);
  const line = (r: readonly string[]): string[] => {
    const head = r[0] ?? '';
    const pad = ' '.repeat(Math.max(0, first - head.replace(ANSI, '').length));
    const rest = Number.isFinite(room) ? wrapTo(r.slice(1).join(' \u00b7 '), room) : [r.slice(1).join(' \u00b7 ')];
    return rest.map((l, i) => (i === 0 ? `${head}${pad}  ${l}` : `${' '.repeat(first + 2)}${l}`));
  };
  const [header, ...body] = rows;
  const ruleWidth = Math.max(...rows.flatMap(line).map((l) => l.replace(ANSI, '').length));
  return [...(header ? line(header) : []), '\u2500'.repeat(Math.min(width, ruleWidth)), ...body.flatMap(line)].join('\n');
}

/** `| a | b |` as its cells. Pure. */
const tableCells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/** A code line as it is copied: the indentation a blockquote or list put before it goes, its colour stays. */
const flushLeft = (line: string): string => line.replace(/^[ \t]*((?:\u001b\[[0-9;]*m)*)[ \t]*((?:\u001b\[[0-9;]*m)*)\uE000/, '$1$2').replaceAll(CODE, '');

/**
 * Wraps one rendered line to `width` at spaces, keeping its indentation and list bullet as a
 * hanging indent. wrap-ansi counts a word and its ANSI codes as one, so a "." after styled
 * `code` stays on its line (marked-terminal's own reflow started a line with it).
 */
function wrapLine(line: string, width: number, wrapAnsi: (s: string, w: number, o: { hard: boolean; trim: boolean }) => string): string[] {
  const plain = line.replace(ANSI, '');
  // a table's box drawing (│┌└├┬┴┼), escaped: one non-ASCII character makes V8 hold the whole chunk as UTF-16
  if (plain.length <= width || /[\u2502\u250c\u2514\u251c\u252c\u2534\u253c]/.test(plain)) return [line];
  // The lead: leading spaces and a bullet ("* ", "1. "), with any escape codes among them kept for the body.
  let i = 0;
  let codes = '';
  let lead = '';
  for (;;) {
    const m = /^\u001b\[[0-9;]*m/.exec(line.slice(i));
    if (m) {
      codes += m[0];
      i += m[0].length;
      continue;
    }
    const b = /^(?: +|\* |\d+\. )/.exec(line.slice(i));
    if (b && (b[0].trim() === '' || lead.trim() === '')) {
      lead += b[0];
      i += b[0].length;
      continue;
    }
    break;
  }
  const body = wrapAnsi(codes + line.slice(i), Math.max(20, width - lead.length), { hard: true, trim: true }).split('\n');
  return body.map((l, k) => (k === 0 ? lead : ' '.repeat(lead.length)) + l);
}

export async function renderMarkdown(md: string, color: boolean): Promise<string> {
  if (!color) return plainMarkdown(md, readingColumns() ?? Number.POSITIVE_INFINITY);
  const [{ Marked }, { markedTerminal }, { default: wrapAnsi }] = await Promise.all([import('marked'), import('marked-terminal'), import('wrap-ansi')]);
  const width = Math.min(stdoutColumns() ?? 80, 100);
  const marked = new Marked();
  // No reflow by marked-terminal (see wrapLine): a paragraph becomes one line, wrapped below. And
  // no reset code around paragraphs, which ended a blockquote's style after "Warning: …".
  const oneLine = (t: string): string => t.replace(/\n/g, ' ');
  marked.use(markedTerminal({ reflowText: false, width, tab: 2, paragraph: oneLine, showSectionPrefix: false }) as Parameters<typeof marked.use>[0]);
  marked.use({
    walkTokens(token) {
      if (token.type !== 'code') return;
      // "```bash norun" is a marker for `workshop test --as-written`, not a language.
      if (typeof token.lang === 'string') token.lang = token.lang.split(/\s/)[0] ?? '';
      token.text = String(token.text).split('\n').map((l) => CODE + l).join('\n');
    },
    renderer: {
      // Code flush left, in one colour that sets it apart from the prose, without syntax colours
      // that would leave some of its lines plain: what is copied from the terminal runs as it is
      // (an indented `  EOF` never ends a heredoc). Each line is marked, so that no wrapping or
      // quote indentation touches it below.
      code(token) {
        const lines = String(token.text).split('\n').map((l) => `${CODE}${l.replaceAll(CODE, '')}`);
        return `${lines.map((l) => `\u001b[36m${l}\u001b[39m`).join('\n')}\n\n`;
      },
      // A table wider than the terminal (cli-table3 never wraps it) becomes two columns of text:
      // the first cell, then the others, wrapped under each other.
      table(token) {
        const parser = this.parser;
        const cell = (c: (typeof token.header)[number]): string => oneLine(parser.parseInline(c.tokens));
        const rows = [token.header.map(cell), ...token.rows.map((r) => r.map(cell))];
        const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').replace(ANSI, '').length))) ?? [];
        if (widths.reduce((a, b) => a + b + 3, 1) <= width) return false;
        return `${narrowTable(rows, width, (t, w) => wrapAnsi(t, w, { hard: true, trim: true }).split('\n'))}\n\n`;
      },
      // marked-terminal prints the text of a tight list item raw: **bold** and `code` stayed literal.
      text(token) {
        return 'tokens' in token && Array.isArray(token.tokens) && token.tokens.length > 0 ? oneLine(this.parser.parseInline(token.tokens)) : false;
      },
    },
  });
  const clean = md.replace(/^(#{1,6}\s+.*?)\s*\{#[^}]*\}\s*$/gm, '$1');
  const out = String(await marked.parse(clean)).trimEnd();
  return out
    .split('\n')
    .flatMap((l) => (l.includes(CODE) ? [flushLeft(l)] : wrapLine(l, width, wrapAnsi)))
    .join('\n');
}
