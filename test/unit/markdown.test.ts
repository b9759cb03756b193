import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillPlaceholders, parseChapterMd } from '../../src/lessons/markdown.ts';
import { codeRule, plainMarkdown } from '../../src/render/markdown.ts';
import { scanStepKeys } from '../../src/lessons/scan.ts';

const md = `# Title

Intro text.

\`\`\`bash
## not a heading inside a fence {#nope}
\`\`\`

## First step {#one}

Body one.

## Second step {#two}

Body two.

## What you built

Closing.
`;

describe('parseChapterMd', () => {
  it('reads the title, intro, steps with their lines, and the closing section', () => {
    const t = parseChapterMd(md);
    expect(t.title).toBe('Title');
    expect(t.intro).toContain('Intro text.');
    expect(t.steps.map((s) => [s.id, s.title, s.line])).toEqual([
      ['one', 'First step', 9],
      ['two', 'Second step', 13],
    ]);
    expect(t.steps[0]?.body).toBe('Body one.');
    expect(t.closing).toEqual({ title: 'What you built', line: 17, body: 'Closing.' });
    expect(t.problems).toEqual([]);
  });
  it('ignores headings inside code fences', () => {
    expect(parseChapterMd(md).steps.some((s) => s.id === 'nope')).toBe(false);
  });
  it('reports a duplicate step id at the line of the second one', () => {
    const t = parseChapterMd('# T\n\n## A {#a}\n\n## B {#a}\n');
    expect(t.problems).toEqual([{ line: 5, message: 'duplicate step id "a" (first at line 3)' }]);
  });
  it('reports a step after the closing section, a bad id and a missing title', () => {
    const t = parseChapterMd('## End\n\n## Late {#Bad_Id}\n');
    const messages = t.problems.map((p) => p.message).join('\n');
    expect(messages).toContain('must come last');
    expect(messages).toContain('lowercase');
    expect(messages).toContain('must start with "# Title"');
  });
});

describe('fillPlaceholders and plain rendering', () => {
  it('fills the nonce and the folder', () => {
    expect(fillPlaceholders('echo {{nonce}} in {{dir}}', { nonce: 'abc', dir: '/d' })).toBe('echo abc in /d');
  });
  it('says how to get a nonce before the chapter started', () => {
    expect(fillPlaceholders('{{nonce}}', {})).toContain('workshop next');
  });
  it('renders plain text without escape codes, anchors or fences; code flush left between rules', () => {
    const out = plainMarkdown('## Step {#s}\n\nRun `ls`:\n\n```bash\nls -l\n```\n');
    expect(out).toBe(`Step\n----\n\nRun ls:\n\n${codeRule('bash')}\nls -l\n${codeRule('')}`);
    expect(out).not.toMatch(/\u001b\[/);
  });
  // Issue 21 item 11: an indented `  EOF` never ends a heredoc copied from the terminal.
  it('keeps a heredoc flush left, so that it runs when copied, also inside a quote', () => {
    const out = plainMarkdown("```bash\ncat > x.sh <<'EOF'\n#!/bin/sh\necho hi\nEOF\n```\n\n> **Warning:** try it:\n>\n> ```bash norun\n> cp /bin/ls rootfs/\n> ```\n");
    const lines = out.split('\n');
    expect(lines).toContain('#!/bin/sh');
    expect(lines).toContain('EOF');
    expect(lines).toContain('cp /bin/ls rootfs/');
    expect(lines).toContain('  Warning: try it:');
  });
  it('renders a table as two columns of plain text, wrapped under the second at a width', () => {
    const md = '| command | what it does |\n|---|---|\n| `workshop` | where you are |\n| `workshop solve` | runs the reference solution for the step, printing each command |\n';
    expect(plainMarkdown(md).split('\n')).toEqual([
      'command         what it does',
      '\u2500'.repeat(79),
      'workshop        where you are',
      'workshop solve  runs the reference solution for the step, printing each command',
    ]);
    const narrow = plainMarkdown(md, 50).split('\n');
    expect(narrow.every((l) => l.length <= 50)).toBe(true);
    expect(narrow.slice(-2)).toEqual(['workshop solve  runs the reference solution for', '                the step, printing each command']);
  });
  // Issue 21 item 13: `| head` and NO_COLOR showed *view*, *of the cgroup* and > Warning:.
  it('renders emphasis and quotes as plain text, and leaves a shell glob alone', () => {
    expect(plainMarkdown('A chroot is a different *view* of the same files, _not_ a copy.')).toBe('A chroot is a different view of the same files, not a copy.');
    expect(plainMarkdown('> **Warning:** the error is *misleading*.')).toBe('Warning: the error is misleading.');
    expect(plainMarkdown('ls /tmp/*/overlay and 2 * 3 * 4, snake_case_name')).toBe('ls /tmp/*/overlay and 2 * 3 * 4, snake_case_name');
  });
});

describe('scanStepKeys', () => {
  it('finds the keys of steps with their lines, skipping nested objects, strings and comments', () => {
    const src = [
      'export default defineChapter({',
      "  id: 'x',",
      '  steps: {',
      "    a: { verify: () => [], hints: ['b: not a key'] },",
      "    // c: a comment",
      "    'd-e': {",
      '      mutants: { f: async () => {} },',
      '    },',
      '    a: {},',
      '  },',
      '});',
    ].join('\n');
    expect(scanStepKeys(src)).toEqual([
      { key: 'a', line: 4 },
      { key: 'd-e', line: 6 },
      { key: 'a', line: 9 },
    ]);
  });

  it("skips regex literals, whose ( or quote once ended the scan (overlayfs's mutants), and still divides", () => {
    const src = [
      'export default defineChapter({',
      '  steps: {',
      "    mount: { mutants: { m: diagnosed(f, /found [\\s\\S]*\\(lowerdir=\\S*\\/decoy,/) } },",
      "    quote: { hints: [x.replace(/'/g, '')], half: a / 2, n: (b) / c },",
      '    klass: { re: /[/(]/, words: typeof x === "y" ? [] : [] },',
      '    last: {},',
      '  },',
      '});',
    ].join('\n');
    expect(scanStepKeys(src).map((k) => `${k.key}:${k.line}`)).toEqual(['mount:3', 'quote:4', 'klass:5', 'last:6']);
  });

  it("finds every step of the built-in chapters, in chapter.md's order", () => {
    const lessons = join(import.meta.dirname, '..', '..', 'lessons');
    const chapters = readdirSync(lessons).filter((d) => /^\d+-/.test(d));
    expect(chapters.length).toBeGreaterThanOrEqual(10);
    for (const d of chapters) {
      const ids = parseChapterMd(readFileSync(join(lessons, d, 'chapter.md'), 'utf8')).steps.map((s) => s.id);
      expect(scanStepKeys(readFileSync(join(lessons, d, 'steps.ts'), 'utf8')).map((k) => k.key), d).toEqual(ids);
    }
  });
});

describe('fillPlaceholders never pastes an unsafe value into a command', () => {
  it('fills a nonce of the right shape, and refuses any other', () => {
    expect(fillPlaceholders('echo {{nonce}}', { nonce: 'k3J9xQ2mZ0' })).toBe('echo k3J9xQ2mZ0');
    expect(fillPlaceholders('echo {{nonce}}', { nonce: '$(touch /tmp/x)' })).toBe('echo <the nonce: run `workshop next` to start the chapter>');
  });
  it('quotes a folder with spaces or shell characters', () => {
    expect(fillPlaceholders('cd {{dir}}', { dir: '/var/lib/workshop/chapters/x' })).toBe('cd /var/lib/workshop/chapters/x');
    expect(fillPlaceholders('cd {{dir}}', { dir: "/tmp/my home/it's" })).toBe("cd '/tmp/my home/it'\\''s'");
  });
});
