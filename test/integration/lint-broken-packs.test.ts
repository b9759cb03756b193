// `workshop lint` and `workshop list` on packs whose steps.ts misbehaves while it is imported:
// each is a lesson error at steps.ts:LINE with exit 4, never a silent exit 0 or Node's exit 13.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { workshop } from '../helpers/workshop.ts';
import { makePack, type PackChapter } from '../helpers/pack.ts';

const chapter = (id: string, top: string): PackChapter => ({
  md: `# ${id}\n\n## The step {#step}\n\nDo it.\n`,
  ts: `import { defineChapter, fileContains } from 'workshop/lesson';
${top}
export default defineChapter({
  formatVersion: 1,
  id: '${id}',
  title: '${id}',
  steps: { step: { verify: () => [fileContains('x', 'y')], solve: async () => {}, hints: ['none'] } },
  cleanup: async () => {},
});
`,
});

describe('lint and list of a steps.ts that misbehaves at import', () => {
  const home = mkdtempSync('/tmp/ws-lint-home-');
  const packs: Array<{ dispose(): void }> = [];
  afterAll(() => {
    for (const p of packs) p.dispose();
    rmSync(home, { recursive: true, force: true });
  });
  const pack = (id: string, top: string) => {
    const p = makePack({ [`01-${id}`]: chapter(id, top) });
    packs.push(p);
    return p.dir;
  };

  it.each([
    ['exits', "const x = 1;\nprocess.exit(0);", /01-exits\/steps\.ts:3: it calls process\.exit\(0\) while it is imported/],
    ['hangs', 'const x = 1;\nawait new Promise(() => {});', /01-hangs\/steps\.ts:3: importing it never finished: it waits for a promise that nothing settles/],
    ['sleeps', 'await new Promise((r) => setTimeout(r, 600_000));', /01-sleeps\/steps\.ts:2: importing it did not finish within 5 s/],
    ['nopkg', "import { nothing } from 'ws-no-such-package';", /01-nopkg\/steps\.ts:2: cannot import: Cannot find package 'ws-no-such-package'/],
    ['nofile', "import { nothing } from './ws-missing.ts';", /01-nofile\/steps\.ts:2: cannot import: Cannot find module/],
    ['reallyexits', 'const x = 1;\nprocess.reallyExit(0);', /01-reallyexits\/steps\.ts:3: it calls process\.reallyExit\(0\) while it is imported/],
    ['spins', 'const x = 1;\nwhile (true) {}', /01-spins\/steps\.ts:1: importing it did not finish within 5 s: a top-level await that never settles, or a loop that never ends\?/],
    ['killsitself', "process.kill(process.pid, 'SIGKILL');", /01-killsitself\/steps\.ts:1: importing it ended the lesson host before it returned \(killed by SIGKILL\)/],
  ])('lint reports %s at its line with exit 4', async (id, top, want) => {
    const r = await workshop(home, ['lint', pack(id, top)], { timeoutMs: 30_000 });
    expect(r.stdout).toMatch(want);
    expect(r.stderr).not.toContain('unsettled top-level await');
    expect(r.code).toBe(4);
  });

  it('list of a pack that exits at import says so instead of printing nothing', async () => {
    const r = await workshop(home, ['--lessons', pack('exits2', 'process.exit(0);'), 'list'], { env: { NO_COLOR: '1' } });
    expect(r.stdout).toMatch(/skipped: .*steps\.ts:2: it calls process\.exit\(0\)/);
    expect(r.code).toBe(0);
  });

  // Issue 19, item 11: an import that never ends froze lint, list and check for ever.
  it('list and check of a pack whose steps.ts loops for ever at import end, with the problem', async () => {
    const dir = pack('loops', 'while (true) {}');
    const t0 = Date.now();
    const l = await workshop(home, ['--lessons', dir, 'list'], { env: { NO_COLOR: '1' }, timeoutMs: 30_000 });
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/skipped: .*steps\.ts:1: importing it did not finish within 5 s/);
    const c = await workshop(home, ['--lessons', dir, 'check'], { env: { NO_COLOR: '1' }, timeoutMs: 30_000 });
    expect(c.code, c.stdout + c.stderr).toBe(c.code === 3 ? 3 : 4); // 3 only where check refuses a non-root user
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  // Issue 19, item 12: a steps.ts that prints broke `list --json | jq`.
  it('what a steps.ts prints while it is imported goes to stderr: list --json stays JSON', async () => {
    const r = await workshop(home, ['--lessons', pack('prints', "console.log('hello from steps.ts');"), 'list', '--json']);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow();
    expect(r.stderr).toContain('hello from steps.ts');
  });
});
