// `madeOutside`: what a chapter's tutorial makes outside the workspace, which clean names and never removes.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outsideLeftovers, outsideLines } from '../../src/engine/outside.ts';
import { outsideProblems } from '../../src/lessons/load.ts';

describe('madeOutside in steps.ts', () => {
  it('wants absolute, normalized paths other than /, each with what makes it and how to remove it', () => {
    expect(outsideProblems(undefined)).toEqual([]);
    expect(outsideProblems([{ path: '/littlebox', madeBy: "Container the Hard Way's docs/04", remove: 'rmdir /littlebox' }])).toEqual([]);
    expect(outsideProblems('/littlebox')).toEqual(['madeOutside must be a list of { path, madeBy, remove }']);
    expect(outsideProblems([{ path: '/littlebox', madeBy: '' , remove: 'x' }])).toEqual(['madeOutside[0] must be { path, madeBy, remove }, each a non-empty string']);
    for (const path of ['/', 'littlebox', '/var/lib/../littlebox', '/littlebox/', '//littlebox']) {
      expect(outsideProblems([{ path, madeBy: 'm', remove: 'r' }]), path).toEqual([expect.stringMatching(/must be an absolute path other than \//)]);
    }
  });
});

describe('what clean names outside the workspace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-unit-outside-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync('/nonexistent-ws-target', join(dir, 'dangling'));
  const at = (name: string) => ({ path: join(dir, name), madeBy: 'a tutorial', remove: `rmdir ${join(dir, name)}` });

  it('lists the declared paths that exist, once each, with the chapter that names them', async () => {
    const chapters = [
      { id: 'namespaces', madeOutside: [at('dangling'), at('missing')] },
      { id: 'capstone', madeOutside: [at('dangling')] },
      { id: 'chroot' },
    ];
    const left = await outsideLeftovers(chapters);
    expect(left).toEqual([{ ...at('dangling'), chapter: 'namespaces' }]);
    expect(outsideLines(left)).toEqual([
      'Outside the workspace, for you to remove (workshop never removes what lies outside it):',
      `  ${join(dir, 'dangling')}  made by a tutorial (chapter namespaces): rmdir ${join(dir, 'dangling')}`,
    ]);
    expect(outsideLines([])).toEqual([]);
  });
});

describe("chapter 06 and Container the Hard Way's /littlebox", () => {
  it('declares it, so that clean names it', async () => {
    const ch06 = (await import('../../lessons/06-namespaces/steps.ts')).default;
    expect(ch06.madeOutside).toEqual([{ path: '/littlebox', madeBy: "Container the Hard Way's docs/04 (mkdir -p /littlebox)", remove: 'rmdir /littlebox' }]);
    expect(outsideProblems(ch06.madeOutside)).toEqual([]);
  });
});
