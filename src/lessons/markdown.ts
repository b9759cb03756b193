// chapter.md: "# Title", an intro, then "## Step title {#step-id}" per step. An H2 without an id
// is the closing section. Pure: text in, structure out, with line numbers for lint.

export interface MdSection {
  id: string;
  title: string;
  /** 1-based line of the heading */
  line: number;
  body: string;
}

export interface ChapterText {
  title: string;
  titleLine: number;
  intro: string;
  steps: MdSection[];
  closing: { title: string; line: number; body: string } | undefined;
  /** problems found while parsing, with lines; the loader turns them into file:line errors */
  problems: Array<{ line: number; message: string }>;
}

const H2 = /^##\s+(.+?)\s*$/;
const ID = /\s*\{#([^}]*)\}\s*$/;
export const STEP_ID = /^[a-z0-9][a-z0-9-]*$/;
/** The id of a section whose id was refused: neither a step nor the closing section. */
const BAD = '\u0000refused';
const clipId = (id: string): string => (id.length > 40 ? `${id.slice(0, 40)}…` : id);

export function parseChapterMd(text: string): ChapterText {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const problems: ChapterText['problems'] = [];
  let title = '';
  let titleLine = 0;
  // Each H2 opens a section; its body collects the lines until the next H2.
  const sections: Array<{ id: string | undefined; title: string; line: number; body: string[] }> = [];
  const intro: string[] = [];
  let body = intro;
  let fence: string | undefined;

  lines.forEach((line, i) => {
    const n = i + 1;
    const f = /^\s*(```+|~~~+)/.exec(line);
    if (f?.[1]) {
      if (fence === undefined) fence = f[1];
      else if (line.trim().startsWith(fence)) fence = undefined;
      body.push(line);
      return;
    }
    if (fence === undefined && !title && /^#\s+\S/.test(line)) {
      title = line.replace(/^#\s+/, '').trim();
      titleLine = n;
      return;
    }
    const h = fence === undefined ? H2.exec(line) : null;
    if (!h?.[1]) {
      body.push(line);
      return;
    }
    const id = ID.exec(h[1])?.[1];
    const closingBefore = sections.find((s) => s.id === undefined);
    if (closingBefore) problems.push({ line: n, message: `a section follows the closing section "${closingBefore.title}" (line ${closingBefore.line}); the closing section (an H2 without {#id}) must come last` });
    // A step with a bad or repeated id is reported and left out: lint refuses it, and so do
    // status, goto and check, which resolve steps through this list (one ▶ per step in list).
    let usable = true;
    if (id !== undefined) {
      if (!STEP_ID.test(id)) {
        problems.push({ line: n, message: `step id "${clipId(id)}" must be lowercase letters, digits and dashes` });
        usable = false;
      }
      const dup = sections.find((s) => s.id === id);
      if (dup) {
        problems.push({ line: n, message: `duplicate step id "${clipId(id)}" (first at line ${dup.line})` });
        usable = false;
      }
    }
    body = [];
    sections.push({ id: usable ? id : BAD, title: h[1].replace(ID, '').trim(), line: n, body });
  });
  if (!title) problems.push({ line: 1, message: 'chapter.md must start with "# Title"' });
  const steps = sections.flatMap((s) => (s.id === undefined || s.id === BAD ? [] : [{ id: s.id, title: s.title, line: s.line, body: s.body.join('\n').trim() }]));
  if (steps.length === 0) problems.push({ line: titleLine || 1, message: 'no steps: add "## Step title {#step-id}" sections' });
  const c = sections.find((s) => s.id === undefined);
  const closing = c ? { title: c.title, line: c.line, body: c.body.join('\n').trim() } : undefined;
  return { title, titleLine, intro: intro.join('\n').trim(), steps, closing, problems };
}

/** What a nonce looks like (engine/progress newNonce); anything else is never pasted into a command. */
const NONCE = /^[A-Za-z0-9_-]{1,64}$/;
/** A folder that can be pasted into a shell command as it is. */
const PLAIN_PATH = /^\/[A-Za-z0-9_.\/-]*$/;

/**
 * Replaces {{nonce}} and {{dir}} in learner text. The text is copied into a shell, and state.json
 * may have been edited by hand: a nonce of another shape is not pasted (the placeholder says how
 * to get one), and a folder with spaces or shell characters is single-quoted.
 */
export function fillPlaceholders(text: string, vars: { nonce?: string | undefined; dir?: string | undefined }): string {
  const nonce = vars.nonce !== undefined && NONCE.test(vars.nonce) ? vars.nonce : '<the nonce: run `workshop next` to start the chapter>';
  const dir = vars.dir === undefined || /[\u0000-\u001f]/.test(vars.dir) ? '$(workshop path)' : PLAIN_PATH.test(vars.dir) ? vars.dir : `'${vars.dir.replaceAll("'", "'\\''")}'`;
  return text.replaceAll('{{nonce}}', nonce).replaceAll('{{dir}}', dir);
}

// ── The as-written convention: which code blocks a learner types, and into which shell ──────
// ```bash runs in terminal 1; ```bash terminal=2 in a second persistent terminal; ```bash norun
// is shown but not part of the path (a mistake on purpose, an alternative); ```text never runs.

export interface CodeBlock {
  /** the info string after the fence, e.g. `bash norun` */
  info: string;
  /** its first word: bash, text, … */
  lang: string;
  /** 1-based line of the opening fence */
  line: number;
  /** 1..4; default 1 */
  terminal: number;
  /** shown, but not typed as part of the path */
  norun: boolean;
  /** the block's lines, without a blockquote's `> ` prefix */
  lines: string[];
}

/** Languages whose blocks a learner types into a shell. */
export const SHELL_LANGS: ReadonlySet<string> = new Set(['bash', 'sh', 'shell']);

/** True for a block that the as-written runner types: a shell block not marked norun. */
export const runsAsWritten = (b: CodeBlock): boolean => SHELL_LANGS.has(b.lang) && !b.norun;

/**
 * The fenced code blocks of a piece of markdown, also those inside a blockquote (`> ```bash`).
 * `firstLine` is the file line of the text's first line, so that each block knows its own.
 */
export function codeBlocks(text: string, firstLine = 1): CodeBlock[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { fence: string; quote: string; block: CodeBlock } | undefined;
  lines.forEach((raw, i) => {
    if (open) {
      const body = raw.startsWith(open.quote) ? raw.slice(open.quote.length) : raw.replace(/^\s*>\s?/, '');
      if (body.trim().startsWith(open.fence) && body.trim().replace(/[`~]/g, '') === '') {
        blocks.push(open.block);
        open = undefined;
      } else open.block.lines.push(body);
      return;
    }
    const f = /^((?:\s*>\s?)*)\s*(```+|~~~+)\s*(.*)$/.exec(raw);
    if (!f) return;
    const info = (f[3] ?? '').trim();
    const words = info.split(/\s+/).filter(Boolean);
    const term = words.map((w) => /^terminal=([1-4])$/.exec(w)?.[1]).find((x) => x !== undefined);
    open = {
      fence: f[2] ?? '```',
      quote: f[1] ?? '',
      block: { info, lang: words[0] ?? '', line: firstLine + i, terminal: term === undefined ? 1 : Number(term), norun: words.includes('norun'), lines: [] },
    };
  });
  return blocks;
}

/**
 * The prompts a chapter shows, as regexps that match at the start of a typed line: every
 * `PS1="…"` it sets (a `$var`, `${…}` or `$(…)` in it matches any word, since the value is only
 * known at run time: `PS1="$nonce-# "` matches `<nonce1>-# `), and the prompt of
 * `workshop shell NAME`: `[lab NAME]…# `.
 */
export function promptPatterns(markdown: string): RegExp[] {
  const found = new Set<string>();
  for (const m of markdown.matchAll(/\bPS1=(?:"([^"]*)"|'([^']*)')/g)) {
    const v = m[1] ?? m[2] ?? '';
    if (v.trim() !== '') found.add(v);
  }
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pats = [...found].map((v) => {
    const parts = v.split(/(\$\([^)]*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\\.)/);
    return new RegExp(`^${parts.map((p, i) => (i % 2 === 1 ? '\\S+?' : esc(p))).join('')}`);
  });
  pats.push(/^\[lab [^\]\s]+\][^#$\n]*[#$] /);
  return pats;
}

/** What the runner does with one typed line. */
export type TypedLine =
  /** typed into the current shell */
  | { kind: 'type'; text: string; line: number }
  /** typed, and it starts a shell that reads the following lines (a chroot, `workshop shell host`) */
  | { kind: 'start'; text: string; line: number; prompt: string }
  /** `exit` (or `logout`): leaves the current inner shell */
  | { kind: 'exit'; text: string; line: number }
  /** not typed by the runner: `workshop next` (the runner verifies the step itself), blank lines */
  | { kind: 'skip'; text: string; line: number };

const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/**
 * Pure: classifies a block's lines as the learner types them. A line followed by lines that start
 * with a prompt starts the shell that shows that prompt; the prompt is stripped. `workshop shell
 * NAME` (with no command) starts the lab shell. Heredoc bodies are typed verbatim.
 */
export function typedLines(block: Pick<CodeBlock, 'lines' | 'line'>, prompts: readonly RegExp[]): TypedLine[] {
  const promptOf = (l: string) => {
    for (const p of prompts) {
      const m = p.exec(l);
      if (m) return m[0];
    }
    return undefined;
  };
  const out: TypedLine[] = [];
  let heredoc: string | undefined;
  const src = block.lines.map((raw, i) => ({ raw, n: block.line + 1 + i, prompt: promptOf(raw) }));
  src.forEach(({ raw, n, prompt }, i) => {
    if (heredoc !== undefined) {
      out.push({ kind: 'type', text: raw, line: n });
      if (raw.replace(/^\t+/, '') === heredoc) heredoc = undefined;
      return;
    }
    const text = prompt === undefined ? raw : raw.slice(prompt.length);
    const cmd = text.trim();
    const h = HEREDOC.exec(text);
    if (h?.[2]) heredoc = h[2];
    if (cmd === '' || /^workshop\s+next\s*$/.test(cmd)) return out.push({ kind: 'skip', text, line: n });
    if (/^(exit|logout)(\s+\d+)?$/.test(cmd)) return out.push({ kind: 'exit', text: cmd, line: n });
    const nextPrompt = heredoc === undefined ? src[i + 1]?.prompt : undefined;
    if (nextPrompt !== undefined && nextPrompt !== prompt) return out.push({ kind: 'start', text, line: n, prompt: nextPrompt.trimEnd() });
    if (/^workshop\s+shell\s+\S+\s*$/.test(cmd)) return out.push({ kind: 'start', text, line: n, prompt: `[lab ${cmd.split(/\s+/)[2] ?? ''}]#` });
    return out.push({ kind: 'type', text, line: n });
  });
  return out;
}
