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
const phases = (report: TestJson) => Object.fromEntries((report.chapters[0]?.steps ?? []).flatMap((s) => Object.entries(s.phases).map(([n, p]) => [`${s.id}/${n}`, p])));

describe.skipIf(!isRoot)('verified diagnoses', () => {
  it('proves a declared diagnosis and lets a third-party bare mutant pass without one', async () => {
    const { code, report } = await run([]);
    expect(code).toBe(0);
    const p = phases(report);
    expect(p['greet/diagnosis:wrongWords']).toMatchObject({ status: 'pass', diagnosed: true });
    expect(p['freeze/mutant:groupWritable']).toMatchObject({ status: 'pass' });
    expect(p['freeze/diagnosis:groupWritable']).toBeUndefined();
    expect(report.chapters[0]?.mutants).toEqual({ total: 2, diagnosed: 1 });
    expect(p['greet/control:noNewline']).toMatchObject({ status: 'pass' });
    expect(report.chapters[0]?.controls).toEqual({ total: 1, accepted: 1 });
  });

  it('fails a chapter whose bare mutant has no diagnosis when diagnoses are required', async () => {
    const { code, report } = await run(['--require-diagnosis']);
    expect(code).toBe(1);
    expect(phases(report)['freeze/diagnosis:groupWritable']).toMatchObject({ status: 'fail', diagnosed: false, detail: expect.stringMatching(/declares no diagnosis[\s\S]*0464/) });
  });

  it('fails a mutant whose failing rows do not name its diagnosis, and shows what they said', async () => {
    const file = join(pack, '01-greeting/steps.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('diagnosis: /without it: "goodbye/', 'diagnosis: /the wrong words/'));
    const { code, report } = await run([]);
    expect(code).toBe(1);
    expect(phases(report)['greet/diagnosis:wrongWords']).toMatchObject({ status: 'fail', diagnosed: false, detail: expect.stringMatching(/does not match \/the wrong words\/: .*goodbye/) });
    expect(report.chapters[0]?.mutants).toEqual({ total: 2, diagnosed: 0 });
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
