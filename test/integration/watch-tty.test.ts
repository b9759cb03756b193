// `workshop watch` in a real terminal (tmux): frames are drawn on the alternate screen and never
// pile up in the scrollback, long check names wrap in a narrow pane, a mount is seen within
// 300 ms (not by the 30 s timer), and a burst of changes is verified once it has settled.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, NODE, spawnCollect, workshop } from '../helpers/workshop.ts';
import { makePack } from '../helpers/pack.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';
import { sleep } from '../helpers/wait.ts';

const LONG = 'the flag file that this rather long check name talks about is in the chapter folder';
const MD = `# Watched\n\n## Make the flag and the mount {#flag}\n\nDo it.\n\n## Make many files {#many}\n\nDo it.\n`;
const TS = `import { readdir } from 'node:fs/promises';
import { defineChapter, defineCheck, fileExists, mountedAt, pass, fail } from 'workshop/lesson';
const count = defineCheck('many holds 300 files', async (ctx) => {
  const n = (await readdir(ctx.path('many')).catch(() => [])).length;
  return n === 300 ? pass('300 files') : fail('300 files', n + ' files');
});
export default defineChapter({
  formatVersion: 1, id: 'watched', title: 'Watched',
  steps: {
    flag: { verify: () => [defineCheck(${JSON.stringify(LONG)}, async (ctx) => ((await fileExists('flag').run(ctx)).status === 'pass' ? pass('there') : fail('a file', 'nothing'))), mountedAt('mnt')], solve: async () => {}, hints: ['none'] },
    many: { verify: () => [count], solve: async () => {}, hints: ['none'] },
  },
  cleanup: async () => {},
});
`;

describe.skipIf(!isRoot || !hasTmux)('workshop watch on a terminal', () => {
  const pack = makePack({ '01-watched': { md: MD, ts: TS } });
  const home = mkdtempSync('/tmp/ws-watch-home-');
  let dir = '';
  beforeAll(async () => {
    dir = (await workshop(home, ['--lessons', pack.dir, 'path'])).stdout.trim();
    mkdirSync(path.join(dir, 'mnt'), { recursive: true });
  });
  afterAll(async () => {
    await spawnCollect('umount', [path.join(dir, 'mnt')]);
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('redraws in place on the alternate screen, wraps long names, and sees a mount in < 300 ms', async () => {
    const t = Tmux.start('watch', { cwd: '/tmp', width: 50, height: 24 });
    try {
      t.type(`clear; ${NODE} ${CLI} --lessons ${pack.dir} --home ${home} watch --interval 30`);
      await t.waitFor(/watching watched\/flag/);
      const history = t.historySize();
      for (let i = 0; i < 6; i++) {
        if (i % 2 === 0) writeFileSync(path.join(dir, 'flag'), 'x');
        else rmSync(path.join(dir, 'flag'));
        await sleep(400);
      }
      const screen = t.capture();
      expect(t.historySize() - history).toBe(0);
      // The long name is all there, over two lines, each within the pane.
      const lines = screen.split('\n');
      expect(lines.every((l) => l.length <= 50)).toBe(true);
      expect(lines.map((l) => l.trim()).join(' ')).toContain(LONG);
      expect(screen.match(/watching watched\/flag/g)?.length).toBe(1);
      // A mount, with the timer 30 s away: only the mount notification can explain a quick ✔.
      const t0 = Date.now();
      expect((await spawnCollect('mount', ['-t', 'tmpfs', 'ws-watch-it', path.join(dir, 'mnt')])).code).toBe(0);
      await t.waitFor(/✔ [^\n]*mnt/, 3000);
      const reactMs = Date.now() - t0;
      console.log(`watch saw the mount after ${reactMs} ms`);
      expect(reactMs).toBeLessThan(300);
      t.keys('C-c');
      // Leaving the alternate screen prints the last frame once, on the normal screen.
      const after = await t.waitFor(/✔ [^\n]*mnt[\s\S]*\n[^\n]*#\s*$/);
      expect(after).toMatch(/✔ [^\n]*mnt/);
    } finally {
      t.kill();
    }
  });

  it('verifies a burst of changes once it has settled, with no half-done ✘ in between', async () => {
    expect((await workshop(home, ['--lessons', pack.dir, 'goto', 'watched/many'])).code).toBe(0);
    const many = path.join(dir, 'many');
    mkdirSync(many, { recursive: true });
    const child = spawnCollect(NODE, [CLI, '--lessons', pack.dir, '--home', home, 'watch', '--json', '--interval', '30'], { timeoutMs: 8000 });
    await sleep(1500);
    // 300 files, a few at a time, never 150 ms apart: one burst
    for (let i = 0; i < 300; i++) {
      writeFileSync(path.join(many, `f${i}`), '');
      if (i % 10 === 9) await sleep(20);
    }
    const r = await child;
    const actuals = r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { results: Array<{ actual?: string }> }).results[0]?.actual);
    expect(actuals).toEqual(['0 files', '300 files']);
  });
});
