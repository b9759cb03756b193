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
    if (id !== undefined) {
      if (!STEP_ID.test(id)) problems.push({ line: n, message: `step id "${id}" must be lowercase letters, digits and dashes` });
      const dup = sections.find((s) => s.id === id);
      if (dup) problems.push({ line: n, message: `duplicate step id "${id}" (first at line ${dup.line})` });
    }
    body = [];
    sections.push({ id, title: h[1].replace(ID, '').trim(), line: n, body });
  });
  if (!title) problems.push({ line: 1, message: 'chapter.md must start with "# Title"' });
  const steps = sections.flatMap((s) => (s.id === undefined ? [] : [{ id: s.id, title: s.title, line: s.line, body: s.body.join('\n').trim() }]));
  if (steps.length === 0) problems.push({ line: titleLine || 1, message: 'no steps: add "## Step title {#step-id}" sections' });
  const c = sections.find((s) => s.id === undefined);
  const closing = c ? { title: c.title, line: c.line, body: c.body.join('\n').trim() } : undefined;
  return { title, titleLine, intro: intro.join('\n').trim(), steps, closing, problems };
}

/** Replaces {{nonce}} and {{dir}} in learner text. */
export function fillPlaceholders(text: string, vars: { nonce?: string | undefined; dir?: string | undefined }): string {
  return text
    .replaceAll('{{nonce}}', vars.nonce ?? '<the nonce: run `workshop next` to start the chapter>')
    .replaceAll('{{dir}}', vars.dir ?? '$(workshop path)');
}
