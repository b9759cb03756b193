// Markdown for the terminal. On a TTY with colour, marked + marked-terminal (imported lazily:
// they cost most of a command's start-up). Otherwise plain text that reads well in a pipe or log.
import { stdoutColumns } from './style.ts';

export function plainMarkdown(md: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      out.push(`    ${line}`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*(\{#[^}]*\})?\s*$/.exec(line);
    if (h?.[2] !== undefined) {
      const title = h[2];
      out.push(title, (h[1] === '#' ? '=' : '-').repeat(Math.min(title.length, 72)));
      continue;
    }
    out.push(line.replace(/\*\*(.+?)\*\*/g, '$1').replace(/`([^`]+)`/g, '$1').replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>'));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** Marks the lines of code blocks, so that wrapping leaves them as they are. */
const CODE = '\uE000';
const ANSI = /\u001b\[[0-9;]*m/g;

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
  const body = wrapAnsi(codes + line.slice(i), Math.max(20, width - lead.length), { hard: false, trim: true }).split('\n');
  return body.map((l, k) => (k === 0 ? lead : ' '.repeat(lead.length)) + l);
}

export async function renderMarkdown(md: string, color: boolean): Promise<string> {
  if (!color) return plainMarkdown(md);
  const [{ Marked }, { markedTerminal }, { default: wrapAnsi }] = await Promise.all([import('marked'), import('marked-terminal'), import('wrap-ansi')]);
  const width = Math.min(stdoutColumns() ?? 80, 100);
  const marked = new Marked();
  // No reflow by marked-terminal (see wrapLine): a paragraph becomes one line, wrapped below. And
  // no reset code around paragraphs, which ended a blockquote's style after "Warning: …".
  const oneLine = (t: string): string => t.replace(/\n/g, ' ');
  marked.use(markedTerminal({ reflowText: false, width, tab: 2, paragraph: oneLine }) as Parameters<typeof marked.use>[0]);
  marked.use({
    walkTokens(token) {
      if (token.type !== 'code') return;
      // "```bash norun" is a marker for `workshop test --as-written`, not a language.
      if (typeof token.lang === 'string') token.lang = token.lang.split(/\s/)[0] ?? '';
      token.text = String(token.text).split('\n').map((l) => CODE + l).join('\n');
    },
    renderer: {
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
    .flatMap((l) => (l.includes(CODE) ? [l.replaceAll(CODE, '')] : wrapLine(l, width, wrapAnsi)))
    .join('\n');
}
