// The self-test's residue check blames a chapter only for its own files: it runs with a /tmp of
// its own, so a file another process makes in /tmp meanwhile is not the chapter's, while a file
// the chapter leaves in /tmp is still caught.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, workshop, type TestJson } from '../helpers/workshop.ts';
import { makePack, type PackChapter } from '../helpers/pack.ts';
import { sleep } from '../helpers/wait.ts';

const chapter = (id: string, solve: string, cleanup: string): PackChapter & { id: string } => ({
  id,
  md: `# ${id}\n\n## The step {#step}\n\nDo it.\n`,
  ts: `import { defineChapter, fileExists } from 'workshop/lesson';
export default defineChapter({
  formatVersion: 1, id: '${id}', title: '${id}',
  steps: { step: { verify: () => [fileExists('done')], solve: async ({ $ }) => { ${solve} await $\`touch done\`; }, hints: ['none'] } },
  cleanup: async ({ $, path }) => { ${cleanup} await $\`rm -f \${path('done')}\`; },
});
`,
});

describe.skipIf(!isRoot)("the self-test's /tmp residue", () => {
  const home = mkdtempSync('/tmp/ws-residue-home-');
  const others: string[] = [];
  const packs: Array<{ dispose(): void }> = [];
  afterAll(() => {
    for (const p of packs) p.dispose();
    for (const o of [...others, '/tmp/ws-leaked-by-chapter']) rmSync(o, { force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const run = async (c: PackChapter & { id: string }) => {
    const pack = makePack({ [`01-${c.id}`]: c });
    packs.push(pack);
    const r = await workshop(home, ['--lessons', pack.dir, 'test', '--json']);
    if (!r.stdout.includes('"chapters"')) throw new Error(`workshop test: ${r.stdout}${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) as TestJson, stderr: r.stderr };
  };

  it('does not blame the chapter for a file another process makes in /tmp while it runs', async () => {
    const pending = run(chapter('slow', 'await $`sleep 1`;', ''));
    await sleep(700);
    const other = `/tmp/ws-residue-other-${process.pid}`;
    others.push(other);
    writeFileSync(other, 'not the chapter\'s');
    const { code, report } = await pending;
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual([['slow', 'pass', []]]);
    expect(code).toBe(0);
    expect(existsSync(other)).toBe(true);
  });

  it('still catches a file the chapter leaves in /tmp, and the machine keeps none of it', async () => {
    const { code, report } = await run(chapter('leaky', 'await $`touch /tmp/ws-leaked-by-chapter`;', ''));
    expect(report.chapters[0]?.residue).toEqual(['file:/tmp/ws-leaked-by-chapter']);
    expect(report.chapters[0]?.status).toBe('fail');
    expect(code).toBe(1);
    expect(existsSync('/tmp/ws-leaked-by-chapter')).toBe(false);
  });
});
