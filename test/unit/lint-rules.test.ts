// Each rule of `workshop lint` beyond loading (src/engine/lint-rules.ts, src/lessons/inspect.ts):
// a clean chapter has no problem, and one change to it gives exactly the problem of one rule, at
// its file:line. Each case fails when its rule is taken out of LINT_RULES.
import { afterAll, describe, expect, it } from 'vitest';
import { lintPack, LINT_RULES } from '../../src/engine/lint.ts';
import { formatProblem } from '../../src/lessons/catalog.ts';
import { makePack, type Pack } from '../helpers/pack.ts';

const MD = `# Greeting

Intro.

## Write a greeting {#greet}

\`\`\`bash
echo hi > greeting.txt
\`\`\`

## What you built

A file.
`;

const TS = `import { defineChapter, fileExists } from 'workshop/lesson';

export default defineChapter({
  formatVersion: 1,
  id: 'greeting',
  title: 'Greeting',
  steps: {
    greet: {
      verify: () => [fileExists('greeting.txt')],
      solve: async ({ $ }) => {
        await $\`echo hi > greeting.txt\`;
      },
      hints: ['echo', 'echo hi > greeting.txt'],
      mutants: { empty: { apply: async () => {}, diagnosis: /greeting/ } },
    },
  },
  cleanup: async () => {},
});
`;

const packs: Pack[] = [];
afterAll(() => {
  for (const p of packs) p.dispose();
});

async function lint(md: string, ts: string, files: Record<string, string> = {}): Promise<string[]> {
  const p = makePack({ '01-greeting': { md, ts } });
  packs.push(p);
  for (const [name, text] of Object.entries(files)) (await import('node:fs')).writeFileSync(`${p.dir}/01-greeting/${name}`, text);
  const { problems } = await lintPack(p.dir);
  return problems.map((q) => formatProblem(q).replace(`${p.dir}/`, ''));
}

describe('lint rules', () => {
  it('are a list that a new rule joins', () => {
    expect(LINT_RULES.length).toBeGreaterThanOrEqual(5);
  });

  it('find nothing in a clean chapter', async () => {
    expect(await lint(MD, TS)).toEqual([]);
  });

  it('refuse a relative import (the README forbids it; the loader loads it)', async () => {
    const ts = TS.replace("from 'workshop/lesson';", "from 'workshop/lesson';\nimport { word } from './helper.ts';\nconst w = await import('../x.ts').catch(() => word);");
    const got = await lint(ts === TS ? '' : MD, ts, { 'helper.ts': "export const word = 'hi';\n" });
    expect(got).toEqual([
      '01-greeting/steps.ts:2: import of a file, "./helper.ts": a steps.ts imports only from workshop/lesson, node: built-ins and packages; put the code in steps.ts itself (README, "Writing a lesson")',
      '01-greeting/steps.ts:3: import of a file, "../x.ts": a steps.ts imports only from workshop/lesson, node: built-ins and packages; put the code in steps.ts itself (README, "Writing a lesson")',
    ]);
  });

  it('want the closing "## What you built"', async () => {
    expect(await lint(MD.replace('## What you built\n\nA file.\n', ''), TS)).toEqual([
      '01-greeting/chapter.md:9: missing "## What you built": chapter.md ends with a closing section, an H2 without {#id} that says what the learner built',
    ]);
    expect(await lint(MD.replace('## What you built', '## Summary'), TS)).toEqual([
      '01-greeting/chapter.md:11: the closing section is "## Summary": it must be "## What you built" (an H2 without {#id}, after the last step)',
    ]);
  });

  it("want steps.ts's title to be chapter.md's", async () => {
    const got = await lint(MD, TS.replace("title: 'Greeting'", "title: 'A greeting'"));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^01-greeting\/steps\.ts:6: title "A greeting" differs from chapter\.md's "# Greeting" \(.*01-greeting\/chapter\.md:1\): keep them the same$/);
  });

  it('name unknown fields of a chapter, a step and a mutant, with the likely one', async () => {
    const ts = TS.replace("  title: 'Greeting',", "  title: 'Greeting',\n  summary: 'x',").replace("      hints: ['echo',", "      hint: 'x',\n      hints: ['echo',").replace('diagnosis: /greeting/', 'diagnose: /greeting/');
    expect(await lint(MD, ts)).toEqual([
      '01-greeting/steps.ts:7: the chapter has an unknown field "summary": workshop ignores it; the fields are formatVersion, id, title, requires, env, setup, steps, cleanup, madeOutside, removes, shellVars, state',
      '01-greeting/steps.ts:14: step "greet" has an unknown field "hint" (did you mean "hints"?): workshop ignores it; the fields are verify, solve, hints, mutants, controls, undoes',
      '01-greeting/steps.ts:16: step "greet": mutant "empty" has an unknown field "diagnose" (did you mean "diagnosis"?): workshop ignores it; the fields are apply, revert, diagnosis, recovery',
    ]);
  });

  it.each([
    ['a string', "() => 'greeting.txt exists'", 'verify returns the string "greeting.txt exists", not a list of checks (build them with defineCheck or the library\'s checks)'],
    ['a promise', "async () => [fileExists('greeting.txt')]", 'verify returns a Promise (is verify async? it must return the checks themselves; each check may be async), not a list of checks (build them with defineCheck or the library\'s checks)'],
    ['a lone check', "() => fileExists('greeting.txt')", "verify returns a single check (wrap it in a list: [check]), not a list of checks (build them with defineCheck or the library's checks)"],
    ['a list with a string', "() => [fileExists('greeting.txt'), 'x']", 'verify\'s item 2 is the string "x", not a check (build checks with defineCheck)'],
    ['a throw', "() => { throw new Error('boom'); }", 'verify throws when it is called: boom'],
  ])('call each verify and want a list of checks, not %s', async (_what, verify, message) => {
    expect(await lint(MD, TS.replace("() => [fileExists('greeting.txt')]", verify))).toEqual([`01-greeting/steps.ts:9: step "greet": ${message}`]);
  });

  it('stop a verify that never returns within the time limit', async () => {
    const got = await lint(MD, TS.replace("() => [fileExists('greeting.txt')]", '() => { for (;;) {} }'));
    expect(got).toEqual([expect.stringMatching(/^01-greeting\/steps\.ts:1: calling its verify functions did not finish within \d+(\.\d)? s/)]);
  }, 30_000);

  it('check the as-written markers of the code blocks', async () => {
    const md = MD.replace('```bash\necho hi', '```bash terminal=5\necho hi').replace('## What you built', '```\nls\n```\n\n```bash no-run\nls\n```\n\n```text terminal=2\nout\n```\n\n## What you built');
    expect(await lint(md, TS)).toEqual([
      '01-greeting/chapter.md:7: unknown marker `terminal=5`: a shell block takes `norun` or `terminal=N` (N = 1..4), nothing else',
      '01-greeting/chapter.md:11: a code block without a language: mark it ```bash (typed by --as-written), ```bash norun (shown, not typed) or ```text (never run)',
      '01-greeting/chapter.md:15: unknown marker `no-run`: a shell block takes `norun` or `terminal=N` (N = 1..4), nothing else',
      '01-greeting/chapter.md:19: `terminal=2` after `text`: only a shell block (```bash) takes markers; this block is never run',
    ]);
  });
});
