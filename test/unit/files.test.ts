import { mkdtemp, mkdir, rm, symlink, utimes, writeFile, chmod, readFile, copyFile } from 'node:fs/promises';
import { checkContext } from '../../src/engine/context.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.ts';
import {
  diffManifests,
  directoryExists,
  fileContains,
  fileExists,
  isExecutableFile,
  modifiedSince,
  pathAbsent,
  symlinkTo,
  treeManifest,
  treeMatches,
  type ManifestEntry,
} from '../../src/checks/files.ts';
import { isStaticExecutable, parseElf, readElf } from '../../src/checks/chroot.ts';

const fixture = (name: string): string => path.join(import.meta.dirname, '../fixtures/elf', name);
const load = (name: string): Promise<Buffer> => readFile(fixture(name));

describe('parseElf', () => {
  it.each([
    ['busybox-static.bin', { kind: 'elf', bits: 64, type: 'exec', machine: 62, interpreter: null }],
    ['ls-dynamic.bin', { kind: 'elf', bits: 64, type: 'dyn', machine: 62, interpreter: '/lib64/ld-linux-x86-64.so.2' }],
    ['static-pie.bin', { kind: 'elf', bits: 64, type: 'dyn', machine: 62, interpreter: null }],
    ['object-rel.bin', { kind: 'elf', bits: 64, type: 'rel', machine: 62, interpreter: null }],
    ['zless-script.bin', { kind: 'not-elf' }],
  ])('reads %s', async (name, expected) => {
    expect(parseElf(await load(name))).toEqual(expected);
  });

  it('says not-elf for an empty buffer', () => {
    expect(parseElf(Buffer.alloc(0))).toEqual({ kind: 'not-elf' });
  });

  it('throws, naming the length it needs, when the ELF header is cut off', () => {
    expect(() => parseElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]))).toThrow(/need 64 bytes, found 6/);
  });

  it('rejects a truncated copy of ls instead of calling it static', async () => {
    // 13 program headers of 56 bytes from offset 64 end at 792
    const cut = await load('ls-truncated-300.bin');
    expect(() => parseElf(cut)).toThrow(/need 792 bytes, found 300/);
  });
});

let dir = '';
let ctx: CheckContext;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ws-h2-fs-'));
  ctx = checkContext({ chapter: 't', dir, home: dir, nonce: 'n', startedAt: Date.now() - 60_000 });
  await mkdir(path.join(dir, 'rootfs/bin'), { recursive: true });
  await copyFile(fixture('busybox-static.bin'), path.join(dir, 'rootfs/bin/busybox'));
  await chmod(path.join(dir, 'rootfs/bin/busybox'), 0o755);
  await copyFile(fixture('ls-dynamic.bin'), path.join(dir, 'ls'));
  await writeFile(path.join(dir, 'script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
  await symlink('/bin/busybox', path.join(dir, 'rootfs/bin/ls'));
  await symlink('busybox', path.join(dir, 'rootfs/bin/cat'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const status = async (c: ReturnType<typeof fileExists>) => c.run(ctx);

describe('file checks', () => {
  it('reads the ELF header of a real file through readElf', async () => {
    expect(await readElf(path.join(dir, 'ls'))).toMatchObject({ interpreter: '/lib64/ld-linux-x86-64.so.2' });
  });

  it('refuses a file that ends inside its own program headers', async () => {
    await expect(readElf(fixture('ls-truncated-300.bin'))).rejects.toThrow(/truncated ELF file/);
  });

  it('tells a directory from a file and from nothing', async () => {
    expect((await status(directoryExists('rootfs'))).status).toBe('pass');
    expect(await status(directoryExists('script.sh'))).toMatchObject({ status: 'fail', actual: expect.stringMatching(/regular file/) });
    expect((await status(fileExists('script.sh'))).status).toBe('pass');
    expect(await status(fileExists('nope'))).toMatchObject({ status: 'fail', actual: expect.stringMatching(/nothing there/) });
    expect((await status(pathAbsent('nope'))).status).toBe('pass');
    expect(await status(pathAbsent('rootfs/bin/ls'))).toMatchObject({ status: 'fail', actual: 'a symlink to /bin/busybox' });
  });

  it('wants the execute bit', async () => {
    expect((await status(isExecutableFile('rootfs/bin/busybox'))).status).toBe('pass');
    expect(await status(isExecutableFile('script.sh'))).toMatchObject({ status: 'fail', actual: 'mode 0644' });
  });

  it('accepts a static busybox and explains why others are not static', async () => {
    expect(await status(isStaticExecutable('rootfs/bin/busybox'))).toMatchObject({ status: 'pass' });
    expect(await status(isStaticExecutable('ls'))).toMatchObject({
      status: 'fail',
      actual: 'dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2',
    });
    expect(await status(isStaticExecutable('script.sh'))).toMatchObject({ status: 'fail', actual: 'not an ELF file (starts with #!)' });
    expect((await status(isStaticExecutable('nope'))).status).toBe('error');
  });

  it('reads absolute symlink targets inside the chroot when given a root', async () => {
    expect((await status(symlinkTo('rootfs/bin/ls', '/bin/busybox', { root: 'rootfs' }))).status).toBe('pass');
    expect((await status(symlinkTo('rootfs/bin/cat', '/bin/busybox', { root: 'rootfs' }))).status).toBe('pass');
    expect((await status(symlinkTo('rootfs/bin/cat', 'rootfs/bin/busybox'))).status).toBe('pass');
    // without a root, /bin/busybox is the host's file, not the rootfs one
    expect((await status(symlinkTo('rootfs/bin/ls', 'rootfs/bin/busybox'))).status).toBe('fail');
    expect(await status(symlinkTo('rootfs/bin/busybox', '/bin/busybox', { root: 'rootfs' }))).toMatchObject({ status: 'fail' });
  });

  it('takes a link to the same place by any text, and with exact only the text given', async () => {
    // bin/cat holds "busybox"; an absolute text to the same file passes too, unless exact
    expect((await status(symlinkTo('rootfs/bin/cat', path.join(dir, 'rootfs/bin/busybox')))).status).toBe('pass');
    expect((await status(symlinkTo('rootfs/bin/cat', 'busybox', { exact: true }))).status).toBe('pass');
    expect(await status(symlinkTo('rootfs/bin/ls', 'busybox', { exact: true }))).toMatchObject({ status: 'fail', expected: 'a symlink whose text is exactly busybox', actual: 'a symlink to /bin/busybox', hint: 'ln -sfn busybox rootfs/bin/ls' });
  });

  it('finds text in a file', async () => {
    expect((await status(fileContains('script.sh', 'echo hi'))).status).toBe('pass');
    expect(await status(fileContains('script.sh', 'busybox'))).toMatchObject({ status: 'fail', actual: expect.stringMatching(/^18 characters/) });
  });

  it('rejects a file made before the chapter started', async () => {
    const f = path.join(dir, 'old');
    await writeFile(f, 'x');
    const old = new Date(ctx.startedAt - 3_600_000);
    await utimes(f, old, old);
    expect(await status(modifiedSince('old'))).toMatchObject({ status: 'fail', actual: expect.stringMatching(/before the chapter started/) });
    await writeFile(path.join(dir, 'fresh'), 'x');
    const now = { ...ctx, startedAt: Date.now() };
    await writeFile(path.join(dir, 'fresh'), 'y');
    expect((await modifiedSince('fresh').run(now)).status).toBe('pass');
  });
});

describe('manifests', () => {
  const file = (sha256: string, size = 1): ManifestEntry => ({ type: 'file', mode: 0o644, size, sha256 });

  it('diffs two manifests into added, removed and changed paths', () => {
    const before = new Map<string, ManifestEntry>([
      ['bin', { type: 'dir', mode: 0o755 }],
      ['bin/ls', { type: 'symlink', target: '/bin/busybox' }],
      ['etc/passwd', file('a')],
      ['tmp', { type: 'dir', mode: 0o1777 }],
    ]);
    const after = new Map<string, ManifestEntry>([
      ['bin', { type: 'dir', mode: 0o755 }],
      ['bin/ls', { type: 'symlink', target: 'busybox' }],
      ['etc/passwd', file('b')],
      ['root/.ash_history', file('c')],
    ]);
    expect(diffManifests(before, after)).toEqual({ added: ['root/.ash_history'], removed: ['tmp'], changed: ['bin/ls', 'etc/passwd'] });
    expect(diffManifests(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });

  it('records a tree and notices a change to it', async () => {
    const m = await treeManifest(path.join(dir, 'rootfs'));
    expect([...m.keys()]).toEqual(['bin', 'bin/busybox', 'bin/cat', 'bin/ls']);
    expect(m.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755, size: 1024 });
    expect((await treeMatches('rootfs', m).run(ctx)).status).toBe('pass');
    await writeFile(path.join(dir, 'rootfs/hello'), 'hi');
    expect(await treeMatches('rootfs', m).run(ctx)).toMatchObject({ status: 'fail', actual: '1 added (hello)' });
    await rm(path.join(dir, 'rootfs/hello'));
  });
});
