// Progress is never lost and never blamed on the learner: the first step works the first time,
// one bad field does not throw the rest away, and a home that cannot be written is the machine's
// state (exit 3, with the path), not a bug in workshop. Through the built binary.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRoot, workshop } from '../helpers/workshop.ts';

let home = '';
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-it-safety-'));
});
afterEach(() => {
  try {
    execFileSync('chattr', ['-i', home], { stdio: 'ignore' });
  } catch {
    // not immutable
  }
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('progress, as a learner meets it', () => {
  it('passes the very first step the first time, for a learner who types the text exactly (cd $(workshop path) first)', async () => {
    const path = await workshop(home, ['path']);
    expect(path.code, path.stderr).toBe(0);
    const dir = path.stdout.trim();
    execFileSync('bash', ['-c', 'systemd-detect-virt --vm | tee vm.txt || true'], { cwd: dir, stdio: 'ignore' });
    const next = await workshop(home, ['next']);
    expect(next.stdout, next.stderr).toContain('preflight/vm passed');
    expect(next.code).toBe(0);
  });

  it('salvages a state.json with one bad field: the rest of the progress is kept, and what was dropped is named', async () => {
    const good = { attempts: 1, hintsShown: 0, done: { at: '2026-12-01T00:00:00.000Z', by: 'learner' } };
    writeFileSync(join(home, 'state.json'), JSON.stringify({ formatVersion: 1, current: { chapter: 'preflight', step: 'tools' }, chapters: { preflight: { nonce: 'abcdef012345', startedAt: 1, steps: { vm: good, root: { attempts: '2', hintsShown: 0 } } } } }));
    const status = await workshop(home, ['--json', 'status']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ current: 'preflight/tools', done: 1 });
    expect(status.stderr).toContain('step "preflight/root" is malformed; dropped, the rest of your progress is kept');
    // a read-only command wrote nothing
    expect(readdirSync(home)).toEqual(['state.json']);
    const hint = await workshop(home, ['hint']);
    expect(hint.code, hint.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8'));
    expect(saved.chapters.preflight.steps.vm).toEqual(good);
    expect(saved.chapters.preflight.steps.root).toBeUndefined();
    expect(readdirSync(home).some((f) => f.startsWith('state.json.salvaged-'))).toBe(true);
  });

  it('refuses a state.json from a newer workshop and leaves it untouched, for every command', async () => {
    const text = JSON.stringify({ formatVersion: 99, current: null, chapters: {} });
    writeFileSync(join(home, 'state.json'), text);
    for (const args of [['status'], ['hint'], ['next']]) {
      const r = await workshop(home, args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain('newer workshop (formatVersion 99');
      expect(r.stderr).not.toContain('bug in workshop');
    }
    expect(readFileSync(join(home, 'state.json'), 'utf8')).toBe(text);
  });

  it('an immutable home is exit 3 with the path and what to do, and leaves no temp file', async () => {
    execFileSync('chattr', ['+i', home]);
    const r = await workshop(home, ['hint']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`error: cannot (take the lock|write) ${home}`));
    expect(r.stderr).toContain('chattr -i');
    expect(r.stderr).not.toContain('bug in workshop');
    execFileSync('chattr', ['-i', home]);
    expect(readdirSync(home).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a lock that is a directory is exit 3, naming it', async () => {
    mkdirSync(join(home, 'lock'));
    const r = await workshop(home, ['hint']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`rmdir ${join(home, 'lock')}`);
  });

  it('an unwritable state.json is exit 3 and leaves no state.json.tmp-* behind', async () => {
    writeFileSync(join(home, 'state.json'), JSON.stringify({ formatVersion: 1, current: null, chapters: {} }));
    execFileSync('chattr', ['+i', join(home, 'state.json')]);
    try {
      const r = await workshop(home, ['hint']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`cannot write ${join(home, 'state.json')}`);
      expect(readdirSync(home).filter((f) => f.includes('.tmp-'))).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', join(home, 'state.json')]);
    }
  });

  // issue 26: `hint` writes its count without fsync, in a file of its own, so that a power cut can
  // cost a hint count but never progress.
  it('a hint does not rewrite state.json; a lost hint count costs a hint shown again, and the next progress write keeps the count', async () => {
    const first = await workshop(home, ['hint']); // starts preflight: a progress write
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Hint 1\/2 for preflight\/vm:/);
    const state = join(home, 'state.json');
    const before = { text: readFileSync(state, 'utf8'), ino: statSync(state).ino };
    const second = await workshop(home, ['hint']);
    expect(second.stdout).toMatch(/^Hint 2\/2 for preflight\/vm:/);
    expect({ text: readFileSync(state, 'utf8'), ino: statSync(state).ino }).toEqual(before);
    expect(JSON.parse(readFileSync(join(home, 'hints-shown.json'), 'utf8'))).toMatchObject({ chapters: { preflight: { steps: { vm: 2 } } } });
    // a power cut before the rename reached the disk: an empty file. The count is lost, not the progress.
    writeFileSync(join(home, 'hints-shown.json'), '');
    const status = await workshop(home, ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toBe('');
    expect((await workshop(home, ['hint'])).stdout).toMatch(/^Hint 1\/2 for preflight\/vm:/);
    expect({ text: readFileSync(state, 'utf8'), ino: statSync(state).ino }).toEqual(before);
    // a failed next is a progress write (with fsync): the count goes into state.json too
    const next = await workshop(home, ['next']);
    expect(next.code).toBe(1);
    rmSync(join(home, 'hints-shown.json'));
    const steps = (JSON.parse(readFileSync(state, 'utf8')) as { chapters: Record<string, { steps: Record<string, { hintsShown: number; attempts: number }> }> }).chapters['preflight']?.steps;
    expect(steps?.['vm']).toMatchObject({ attempts: 1, hintsShown: 1 });
  });

  it.each([
    [['--home=', 'status'], {}, '--home needs a folder'],
    [['status'], { WORKSHOP_HOME: '' }, 'WORKSHOP_HOME is set but empty'],
  ])('refuses an empty home (%j) instead of making the current folder the home', async (args, env, message) => {
    const cwd = mkdtempSync(join(tmpdir(), 'ws-it-cwd-'));
    try {
      const r = await workshop(home, args, { cwd, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      chmodSync(cwd, 0o755);
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('workshop --help and -h list every command, as workshop help does', async () => {
    const help = await workshop(home, ['help']);
    for (const args of [['--help'], ['-h']]) {
      const r = await workshop(home, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(help.stdout);
    }
    for (const verb of ['status', 'next', 'classroom', 'state', 'test', 'clean']) expect(help.stdout).toMatch(new RegExp(`^  ${verb} `, 'm'));
    expect(existsSync(join(home, 'state.json'))).toBe(false);
  });
});
