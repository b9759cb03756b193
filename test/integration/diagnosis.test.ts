// Verified diagnoses through the built CLI, as root, on the third-party pack of
// test/fixtures/lessons/good (one diagnosed mutant, one bare function) and twins of it.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, REPO, workshop, type TestJson } from '../helpers/workshop.ts';

let home = '';
let pack = '';
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-it-diag-'));
  pack = mkdtempSync(join(tmpdir(), 'ws-it-diag-pack-'));
  cpSync(join(REPO, 'test/fixtures/lessons/good/01-greeting'), join(pack, '01-greeting'), { recursive: true });
});
afterAll(async () => {
  await workshop(home, ['clean', '--allow-host']);
  rmSync(home, { recursive: true, force: true });
  rmSync(pack, { recursive: true, force: true });
});

const run = async (args: readonly string[]) => {
  const r = await workshop(home, ['--allow-host', '--lessons', pack, 'test', '--json', ...args]);
  return { code: r.code, report: JSON.parse(r.stdout) as TestJson };
};
/** The pack's drill catalogue (`drill --list --json`): built from the same rule as the self-test's proven `mutants.drills`. */
const drillList = async () => {
  const r = await workshop(home, ['--allow-host', '--lessons', pack, 'drill', '--list', '--json']);
  const c = (JSON.parse(r.stdout) as { chapters: Array<{ drills: string[]; leftOut: Array<{ drill: string; why: string }> }> }).chapters[0];
  return { drills: c?.drills, leftOut: c?.leftOut };
};
const phases = (report: TestJson) => Object.fromEntries((report.chapters[0]?.steps ?? []).flatMap((s) => Object.entries(s.phases).map(([n, p]) => [`${s.id}/${n}`, p])));

describe.skipIf(!isRoot)('verified diagnoses', () => {
  it('proves a declared diagnosis and lets a third-party bare mutant pass without one', async () => {
    const { code, report } = await run([]);
    expect(code).toBe(0);
    const p = phases(report);
    expect(p['greet/diagnosis:wrongWords']).toMatchObject({ status: 'pass', diagnosed: true });
    expect(p['freeze/mutant:groupWritable']).toMatchObject({ status: 'pass' });
    expect(p['freeze/diagnosis:groupWritable']).toBeUndefined();
    // the bare mutant is proven rejected, but names nothing: it is no drill
    expect(report.chapters[0]?.mutants).toEqual({ total: 2, diagnosed: 1, recoveredBySolve: 2, needRestore: [], drills: ['greet/wrongWords'] });
    expect(await drillList()).toEqual({ drills: ['greet/wrongWords'], leftOut: [{ drill: 'freeze/groupWritable', why: expect.stringMatching(/declares no diagnosis/) }] });
    expect(p['greet/control:noNewline']).toMatchObject({ status: 'pass' });
    expect(report.chapters[0]?.controls).toEqual({ total: 1, accepted: 1 });
  });

  it('fails a chapter whose bare mutant has no diagnosis when diagnoses are required', async () => {
    const { code, report } = await run(['--require-diagnosis']);
    expect(code).toBe(1);
    expect(phases(report)['freeze/diagnosis:groupWritable']).toMatchObject({ status: 'fail', diagnosed: false, detail: expect.stringMatching(/declares no diagnosis[\s\S]*0464/) });
  });

  // Issue 21: every mistake has a way out. From a mutant's state, the step's solution alone (what
  // `workshop solve` runs) must reach a passing state, with no cleanup and no revert in between.
  describe('the way out of a mutant', () => {
    let steps = '';
    beforeAll(() => {
      steps = readFileSync(join(pack, '01-greeting/steps.ts'), 'utf8');
    });
    afterAll(() => writeFileSync(join(pack, '01-greeting/steps.ts'), steps));
    const withMutant = (mutant: string, solve = "await $`chmod 0444 greeting.txt`;") =>
      writeFileSync(
        join(pack, '01-greeting/steps.ts'),
        steps.replace(/groupWritable: async \(\{ \$ \}\) => \{\n\s*await \$`chmod 0464 greeting.txt`;\n\s*\},/, () => `groupWritable: ${mutant},`).replace("await $`chmod 0444 greeting.txt`;", () => solve),
      );

    it('proves it in a recover phase, and fails a mutant that only a revert got out of', async () => {
      // The solution chmods a file that the mutant removed: solve alone cannot repair it.
      withMutant("{ apply: async ({ $ }) => { await $`rm greeting.txt`; }, revert: async ({ $, nonce }) => { await $`echo ${`hello ${nonce}`} > greeting.txt`; }, diagnosis: /no such file/ }");
      const loose = await run([]);
      expect(phases(loose.report)['freeze/recover:groupWritable']).toMatchObject({ status: 'pass' });
      const strict = await run(['--require-diagnosis']);
      expect(strict.code).toBe(1);
      expect(phases(strict.report)['freeze/recover:groupWritable']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/has a revert: a learner has none/) });
    });

    it('fails a mutant from whose state workshop solve does not reach a passing state', async () => {
      withMutant("{ apply: async ({ $ }) => { await $`rm greeting.txt`; }, diagnosis: /no such file/ }");
      const { code, report } = await run([]);
      expect(code).toBe(1);
      expect(phases(report)['freeze/recover:groupWritable']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/workshop solve failed in the state of mutant "groupWritable": .*chmod: cannot access 'greeting.txt'/) });
    });

    it("restores a mutant marked recovery: 'restore', whose rows must name the restore", async () => {
      withMutant("{ apply: async ({ $ }) => { await $`rm greeting.txt`; }, diagnosis: /no such file/, recovery: 'restore' }");
      const unnamed = await run([]);
      expect(unnamed.code).toBe(1);
      expect(phases(unnamed.report)['freeze/diagnosis:groupWritable']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/needs a restore, but its failing output does not name `workshop goto greeting\/freeze --restore`/) });
      // the row's hint names it: the mutant passes, recovered by the restore (cleanup, then every solution up to the step)
      const named = readFileSync(join(pack, '01-greeting/steps.ts'), 'utf8').replace("if (!st) return fail('mode 0444', 'no such file');", () => "if (!st) return fail('mode 0444', 'no such file', 'workshop goto greeting/freeze --restore');");
      writeFileSync(join(pack, '01-greeting/steps.ts'), named);
      const { code, report } = await run([]);
      expect(phases(report)['freeze/recover:groupWritable']).toMatchObject({ status: 'pass' });
      // proven, but its way out is the restore: no drill, and the catalogue says why
    expect(report.chapters[0]?.mutants).toEqual({ total: 2, diagnosed: 2, recoveredBySolve: 1, needRestore: ['freeze/groupWritable'], drills: ['greet/wrongWords'] });
    expect(await drillList()).toEqual({ drills: ['greet/wrongWords'], leftOut: [{ drill: 'freeze/groupWritable', why: expect.stringMatching(/goto --restore/) }] });
      expect(code).toBe(0);
    });
  });

  it('fails a mutant whose failing rows do not name its diagnosis, and shows what they said', async () => {
    const file = join(pack, '01-greeting/steps.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('diagnosis: /without it: "goodbye/', 'diagnosis: /the wrong words/'));
    const { code, report } = await run([]);
    expect(code).toBe(1);
    expect(phases(report)['greet/diagnosis:wrongWords']).toMatchObject({ status: 'fail', diagnosed: false, detail: expect.stringMatching(/does not match \/the wrong words\/: .*goodbye/) });
    // a declared diagnosis that the rows do not name: not proven, so no drill (the test fails, CI with it)
    expect(report.chapters[0]?.mutants).toEqual({ total: 2, diagnosed: 0, recoveredBySolve: 2, needRestore: [], drills: [] });
  });

  it('fails a control that verify rejects: a valid state must pass', async () => {
    const file = join(pack, '01-greeting/steps.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('printf %s ${`hello ${nonce}`}', 'printf %s ${`hallo ${nonce}`}'));
    const { code, report } = await run([]);
    expect(code).toBe(1);
    expect(phases(report)['greet/control:noNewline']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/control "noNewline" was rejected: verify failed on a valid state: .*hallo/) });
    expect(report.chapters[0]?.controls).toEqual({ total: 1, accepted: 0 });
  });
});
