// Which lessons a command uses (flag > WORKSHOP_LESSONS > the pack in use > built-in), what
// `pack add` takes a source for, pack names, each pack's own progress, and the prompts that carry
// a one-off --lessons.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { checkName, classifySource, isLocalSource } from '../../src/engine/pack-install.ts';
import { BUILTIN, RECORD_FILE, selectLessons } from '../../src/engine/packs.ts';
import { workspace } from '../../src/engine/workspace.ts';

const home = mkdtempSync(join(tmpdir(), 'ws-unit-packs-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function install(name: string): void {
  mkdirSync(join(home, 'packs', name), { recursive: true });
  writeFileSync(join(home, 'packs', name, RECORD_FILE), JSON.stringify({ name, kind: 'dir', source: '/x', version: null, commit: null, addedAt: '', tested: 'passed' }));
}

describe('selectLessons', () => {
  it('takes the flag, then WORKSHOP_LESSONS, then the pack in use, then the built-in lessons', () => {
    install('alpha');
    expect(selectLessons(home, undefined, '/b', {})).toEqual({ dir: '/b', source: 'builtin', pack: undefined, progress: undefined });
    writeFileSync(join(home, 'packs', '.in-use'), '"alpha"');
    expect(selectLessons(home, undefined, '/b', {})).toEqual({ dir: join(home, 'packs/alpha'), source: 'pack', pack: 'alpha', progress: 'alpha' });
    expect(selectLessons(home, undefined, '/b', { WORKSHOP_LESSONS: '/e' })).toMatchObject({ dir: '/e', source: 'env', pack: undefined });
    expect(selectLessons(home, '/f', '/b', { WORKSHOP_LESSONS: '/e' })).toMatchObject({ dir: '/f', source: 'flag', pack: undefined });
    // --lessons naming an installed pack's folder keeps that pack's progress
    expect(selectLessons(home, join(home, 'packs/alpha'), '/b', {})).toMatchObject({ pack: 'alpha', progress: 'alpha' });
  });

  it('gives a loose folder progress of its own, never the built-in lessons\' or another folder\'s', () => {
    const a = join(home, 'loose', 'my pack');
    const b = join(home, 'other', 'my pack');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    symlinkSync(a, join(home, 'link-to-a'));
    const fromFlag = selectLessons(home, a, '/b', {}).progress;
    expect(fromFlag).toMatch(/^@my_pack-[0-9a-f]{8}$/);
    // the same folder by WORKSHOP_LESSONS, or through a link, is the same progress
    expect(selectLessons(home, undefined, '/b', { WORKSHOP_LESSONS: a }).progress).toBe(fromFlag);
    expect(selectLessons(home, join(home, 'link-to-a'), '/b', {}).progress).toBe(fromFlag);
    // a folder of the same name elsewhere is another
    expect(selectLessons(home, b, '/b', {}).progress).not.toBe(fromFlag);
    // --lessons naming the built-in folder is the built-in progress
    expect(selectLessons(home, a, a, {}).progress).toBeUndefined();
    // and the key is a folder under progress/, never the home's own state.json
    expect(workspace(home, fromFlag).statePath).toBe(join(home, 'progress', fromFlag ?? '', 'state.json'));
  });

  it('falls back to the built-in lessons, with a warning, when the pack in use is gone', () => {
    writeFileSync(join(home, 'packs', '.in-use'), '"gone"');
    const s = selectLessons(home, undefined, '/b', {});
    expect(s).toMatchObject({ dir: '/b', source: 'builtin' });
    expect(s.warning).toMatch(/gone, is no longer installed/);
    writeFileSync(join(home, 'packs', '.in-use'), `"${BUILTIN}"`);
  });
});

describe('pack sources and names', () => {
  it('tells a folder, a git URL, an npm name and a tarball apart', () => {
    expect(classifySource(home)).toEqual({ kind: 'dir', path: home });
    expect(classifySource('https://example.org/a/pack.git')).toEqual({ kind: 'git', url: 'https://example.org/a/pack.git' });
    expect(classifySource('file:///srv/pack')).toEqual({ kind: 'git', url: 'file:///srv/pack' });
    expect(classifySource('git@example.org:a/pack')).toEqual({ kind: 'git', url: 'git@example.org:a/pack' });
    expect(classifySource('@scope/pack@1.2.0')).toEqual({ kind: 'npm', spec: '@scope/pack@1.2.0' });
    expect(classifySource('mount-pack')).toEqual({ kind: 'npm', spec: 'mount-pack' });
    // a tarball over HTTP(S): a class server's, or a published release
    expect(classifySource('http://10.0.2.2:7878/api/pack.tgz?code=AB12CD')).toEqual({ kind: 'url', url: 'http://10.0.2.2:7878/api/pack.tgz?code=AB12CD' });
    expect(classifySource('https://example.org/r/pack-1.0.tar.gz')).toEqual({ kind: 'url', url: 'https://example.org/r/pack-1.0.tar.gz' });
    expect(classifySource('https://example.org/tgz/pack.git')).toEqual({ kind: 'git', url: 'https://example.org/tgz/pack.git' });
  });

  it('tells a source only this machine can reach (the class server then hands the pack out) from a published one', () => {
    const r = (kind: 'dir' | 'git' | 'npm' | 'url', source: string) => ({ name: 'p', kind, source, version: null, commit: null, addedAt: '', tested: 'passed' as const });
    expect([r('dir', '/home/me/pack'), r('npm', '/tmp/p-1.0.0.tgz'), r('git', 'file:///srv/pack'), r('git', '/srv/pack.git')].map(isLocalSource)).toEqual([true, true, true, true]);
    expect([r('npm', 'mount-pack'), r('git', 'https://example.org/a/pack.git'), r('git', 'git@example.org:a/pack'), r('url', 'https://example.org/p.tgz')].map(isLocalSource)).toEqual([false, false, false, false]);
  });

  it('refuses what is none of them, and what would be read as an option', () => {
    expect(() => classifySource('/no/such/folder')).toThrow(/no such folder/);
    expect(() => classifySource('../../ws-no-such-folder')).toThrow(/no such folder/);
    expect(() => classifySource('--upload-pack=touch x')).toThrow(/not a pack source/);
  });

  it('takes only names that stay inside the packs folder', () => {
    for (const bad of ['..', '.in-use', 'a/b', '../x', 'A', '', BUILTIN, 'x'.repeat(41)]) expect(() => checkName(bad, 'test')).toThrow(/cannot be a pack's name/);
    expect(checkName('mount-pack-2', 'test')).toBe('mount-pack-2');
  });
});

it("keeps each installed pack's progress and chapter folders apart from the built-in lessons'", () => {
  const builtin = workspace('/srv/ws');
  const a = workspace('/srv/ws', 'alpha');
  expect(builtin.statePath).toBe('/srv/ws/state.json');
  expect(a.statePath).toBe('/srv/ws/progress/alpha/state.json');
  expect(a.chapterDir('greeting')).toBe('/srv/ws/progress/alpha/chapters/greeting');
  expect(a.ownedDirs).toEqual(builtin.ownedDirs);
});

it('knows every command that a printed prompt may name (output.ts carries --lessons into them)', async () => {
  const { readFileSync } = await import('node:fs');
  const verbs = /const VERBS = '([^']+)'/.exec(readFileSync(new URL('../../src/cli/output.ts', import.meta.url), 'utf8'))?.[1]?.split('|') ?? [];
  for (const v of Object.keys(COMMANDS)) expect(verbs).toContain(v);
});

it('carries a one-off --lessons into prompts, never into a mention of a command', async () => {
  const { carryArgs } = await import('../../src/cli/output.ts');
  const c = (t: string) => carryArgs(t, ['--lessons', '/p/my pack']);
  expect(c('run `workshop next` again; cd $(workshop path)\nsudo workshop clean\n  workshop hint\n\u001b[1mworkshop show')).toBe(
    "run `workshop --lessons '/p/my pack' next` again; cd $(workshop --lessons '/p/my pack' path)\nsudo workshop --lessons '/p/my pack' clean\n  workshop --lessons '/p/my pack' hint\n\u001b[1mworkshop --lessons '/p/my pack' show",
  );
  expect(c('waiting for workshop solve (pid 1)… the workshop test passed')).toBe('waiting for workshop solve (pid 1)… the workshop test passed');
});
