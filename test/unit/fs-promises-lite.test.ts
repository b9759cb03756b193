// The build's node:fs/promises on callback fs (scripts/fs-promises-lite.mjs) stands in for the
// real module in the bundle and in lesson code. Each function must answer as the real one does:
// the same values, the same errors (code, syscall, path), and the real module's behaviour where
// it hands over (a FileHandle, data from an iterable, open).
import * as realFs from 'node:fs/promises';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Fs = typeof realFs;
let lite: Fs;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ws-fslite-'));
  const gen = (await import(pathToFileURL(join(import.meta.dirname, '..', '..', 'scripts', 'fs-promises-lite.mjs')).href)) as { fsPromisesLite: (mod: object, names: string[]) => string };
  const file = join(dir, 'fs-promises.mjs');
  writeFileSync(file, gen.fsPromisesLite(realFs, Object.keys(realFs).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k))));
  lite = (await import(pathToFileURL(file).href)) as Fs;
  writeFileSync(join(dir, 'a.txt'), 'héllo ✔\n');
  symlinkSync('a.txt', join(dir, 'link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rejection's fields that callers read. */
const failure = async (p: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await p;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { code: e.code, syscall: e.syscall, path: e.path, errno: e.errno, message: e.message };
  }
  throw new Error('it did not fail');
};

describe('the build’s node:fs/promises', () => {
  it('exports every name the real module does', () => {
    const names = (m: object) => Object.keys(m).filter((k) => k !== 'default').sort();
    expect(names(lite)).toEqual(names(realFs).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k)));
    expect(lite.constants).toBe(realFs.constants);
  });

  it('reads as the real one does', async () => {
    const a = join(dir, 'a.txt');
    expect(await lite.readFile(a, 'utf8')).toBe(await realFs.readFile(a, 'utf8'));
    expect(await lite.readFile(a)).toEqual(await realFs.readFile(a));
    expect(await lite.readFile(pathToFileURL(a), { encoding: 'utf8' })).toBe('héllo ✔\n');
    const [s1, s2] = [await lite.stat(a), await realFs.stat(a)];
    expect([s1.ino, s1.size, s1.mode, s1.isFile()]).toEqual([s2.ino, s2.size, s2.mode, true]);
    expect((await lite.lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await lite.readlink(join(dir, 'link'))).toBe('a.txt');
    expect(await lite.realpath(join(dir, 'link'))).toBe(await realFs.realpath(join(dir, 'link')));
    // realpath(3), as the real one: /proc/self/cwd resolves through the kernel's link
    expect(await lite.realpath('/proc/self/cwd')).toBe(await realFs.realpath('/proc/self/cwd'));
    expect((await lite.readdir(dir, { withFileTypes: true })).map((d) => [d.name, d.isFile()]).sort()).toEqual((await realFs.readdir(dir, { withFileTypes: true })).map((d) => [d.name, d.isFile()]).sort());
    expect(await lite.access(a)).toBeUndefined();
  });

  it('fails as the real one does', async () => {
    const missing = join(dir, 'missing', 'x');
    expect(await failure(lite.stat(missing))).toEqual(await failure(realFs.stat(missing)));
    expect(await failure(lite.readFile(missing, 'utf8'))).toEqual(await failure(realFs.readFile(missing, 'utf8')));
    expect(await failure(lite.readdir(join(dir, 'a.txt')))).toEqual(await failure(realFs.readdir(join(dir, 'a.txt'))));
    expect(await failure(lite.rmdir(dir))).toMatchObject({ code: 'ENOTEMPTY', syscall: 'rmdir' });
    expect((await failure(lite.stat(missing))).code).toBe('ENOENT');
  });

  it('writes as the real one does', async () => {
    const d = join(dir, 'w');
    // the first folder it made, as the real one returns
    expect(await lite.mkdir(join(d, 'x', 'y'), { recursive: true })).toBe(d);
    await lite.writeFile(join(d, 'f'), 'one');
    await lite.appendFile(join(d, 'f'), Buffer.from(' two'));
    expect(await realFs.readFile(join(d, 'f'), 'utf8')).toBe('one two');
    await lite.rename(join(d, 'f'), join(d, 'g'));
    await lite.chmod(join(d, 'g'), 0o600);
    expect((await realFs.stat(join(d, 'g'))).mode & 0o777).toBe(0o600);
    await lite.copyFile(join(d, 'g'), join(d, 'h'));
    await lite.symlink('g', join(d, 'l'));
    await lite.unlink(join(d, 'l'));
    await lite.rm(join(d, 'nothing-here'), { force: true });
    await lite.rm(d, { recursive: true });
    expect(await failure(lite.stat(d))).toMatchObject({ code: 'ENOENT' });
    expect((await lite.mkdtemp(join(dir, 'ws-t-'))).startsWith(join(dir, 'ws-t-'))).toBe(true);
  });

  it('hands a FileHandle, an iterable or open to the real module', async () => {
    const fh = await lite.open(join(dir, 'a.txt'), 'r');
    try {
      expect(await lite.readFile(fh, 'utf8')).toBe('héllo ✔\n');
    } finally {
      await fh.close();
    }
    async function* parts() {
      yield 'a';
      yield 'b';
    }
    await lite.writeFile(join(dir, 'it.txt'), parts());
    expect(await realFs.readFile(join(dir, 'it.txt'), 'utf8')).toBe('ab');
  });
});
