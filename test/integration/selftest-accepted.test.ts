// An accepted mutant is reported with every row that passed on its wrong state, as the learner's
// table shows them (issue 27): the author sees which checks could not tell it from the solution.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePack } from '../helpers/pack.ts';
import { isRoot, workshop, type TestJson as Report } from '../helpers/workshop.ts';

const pack = makePack({
  '01-greeting': {
    md: '# Greeting\n\n## Write a greeting {#greet}\n\n```bash\necho hi > greeting.txt\n```\n\n## What you built\n\nA file.\n',
    ts: `import { defineChapter, fileExists, directoryExists } from 'workshop/lesson';
export default defineChapter({
  formatVersion: 1,
  id: 'greeting',
  title: 'Greeting',
  steps: {
    greet: {
      verify: () => [directoryExists('.'), fileExists('greeting.txt')],
      solve: async ({ $ }) => {
        await $\`echo hi > greeting.txt\`;
      },
      hints: ['echo', 'echo hi > greeting.txt'],
      // wrong words, but no check reads the words: verify accepts it
      mutants: { wrongWords: async ({ $ }) => { await $\`echo bye > greeting.txt\`; } },
    },
  },
  cleanup: async ({ $ }) => {
    await $\`rm -f greeting.txt\`;
  },
});
`,
  },
});
const home = mkdtempSync(join(tmpdir(), 'ws-it-accepted-'));
afterAll(() => {
  pack.dispose();
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('workshop test on a mutant that verify accepts', () => {
  it('prints the rows that passed, and --json carries them', async () => {
    const text = await workshop(home, ['--lessons', pack.dir, 'test']);
    expect(text.code).toBe(1);
    const out = `${text.stdout}${text.stderr}`;
    expect(out).toContain('FAIL greeting/greet mutant:wrongWords');
    expect(out).toContain('mutant "wrongWords" was accepted: verify passed on a wrong state; no check tells it from the solution. Its rows, all passed:');
    expect(out).toMatch(/^\s+✔ greeting\.txt is a file$/m);
    const json = await workshop(home, ['--lessons', pack.dir, 'test', '--json']);
    const phase = (JSON.parse(json.stdout) as Report).chapters[0]?.steps[0]?.phases['mutant:wrongWords'];
    expect(phase?.status).toBe('fail');
    expect(phase?.rows?.map((r) => r.status)).toEqual(['pass', 'pass']);
    expect(phase?.rows?.[1]?.check).toContain('greeting.txt');
  });
});
