// `workshop show` on a real terminal (tmux, 60 columns): inline markdown in list items is
// rendered, a blockquote keeps its style on every line, wrapping never starts a line with
// punctuation, and the as-written markers of a code fence are not taken for a language.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, NODE } from '../helpers/workshop.ts';
import { makePack } from '../helpers/pack.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

// Code spans followed by "." at every column, so that one of them ends right at the wrap width.
const boundary = Array.from({ length: 40 }, (_, i) => `${'x'.repeat(i + 1)} then \`cmd${i}\`. Next.`).join(' ');
const MD = `# Render

## The step {#step}

- **The image is not protected.** The container writes \`rootfs\` itself.
- plain

> **Warning:** the first line of the warning is long enough to wrap at sixty columns, and so is the line that follows it.

${boundary}

\`\`\`bash norun
echo not a language
\`\`\`
`;
const TS = `import { defineChapter, fileContains } from 'workshop/lesson';
export default defineChapter({
  formatVersion: 1, id: 'render', title: 'Render',
  steps: { step: { verify: () => [fileContains('x', 'y')], solve: async () => {}, hints: ['none'] } },
  cleanup: async () => {},
});
`;
const ANSI = /\u001b\[[0-9;]*m/g;

describe.skipIf(!hasTmux)('workshop show on a terminal', () => {
  const pack = makePack({ '01-render': { md: MD, ts: TS } });
  const home = mkdtempSync('/tmp/ws-show-home-');
  afterAll(() => {
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('renders list items, keeps the blockquote style, and never starts a line with "."', async () => {
    const t = Tmux.start('show', { cwd: '/tmp', width: 60, height: 50 });
    try {
      t.type(`clear; ${NODE} ${CLI} --lessons ${pack.dir} --home ${home} show render/step; echo "rc=$?"`);
      await t.waitFor(/rc=\d+/);
      const screen = t.capture(true, true);
      const lines = screen.split('\n').map((l) => ({ raw: l, text: l.replace(ANSI, '') }));
      expect(screen.replace(ANSI, '')).not.toContain('**');
      const item = lines.find((l) => l.text.includes('The image is not protected.'));
      expect(item?.raw).toMatch(/\u001b\[1m[^\n]*The image is not protected\./);
      const quote = lines.findIndex((l) => l.text.includes('Warning:'));
      expect(quote).toBeGreaterThan(0);
      // the wrapped line after "Warning:" is still grey/italic
      expect(lines[quote + 1]?.text.trim()).not.toBe('');
      expect(lines[quote + 1]?.raw).toMatch(/\u001b\[(?:[0-9;]*;)?(?:3|90)(?:;[0-9;]*)?m/);
      const punct = lines.filter((l) => /^\s*[.,;:]/.test(l.text));
      expect(punct.map((l) => l.text)).toEqual([]);
      expect(screen).not.toContain('Could not find the language');
      expect(screen).toMatch(/rc=0/);
    } finally {
      t.kill();
    }
  });
});
