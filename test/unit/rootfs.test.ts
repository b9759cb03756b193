// The real-image roots of the self-test's controls: what they take from ldd and the ELF header.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseElf, resolveInRoot } from '../../src/checks/chroot.ts';
import { insideOnlyLoader, parseLdd } from '../../src/lessons/rootfs.ts';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url));

describe('a dynamically linked BusyBox (Debian 12 package busybox, recorded)', () => {
  it('names its loader in PT_INTERP', () => {
    expect(parseElf(fixture('elf/busybox-dynamic.bin'))).toMatchObject({ kind: 'elf', type: 'dyn', interpreter: '/lib64/ld-linux-x86-64.so.2' });
  });

  it('takes from ldd the libraries and the loader, by absolute path, and not the vDSO', () => {
    expect(parseLdd(fixture('rootfs/ldd-busybox-dynamic.txt').toString('utf8'))).toEqual(['/lib/x86_64-linux-gnu/libresolv.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('renames the loader to a path of the same length that no host has', () => {
    expect(insideOnlyLoader('/lib64/ld-linux-x86-64.so.2')).toBe('/lib64/ld-wsbox-x86-64.so.2');
    expect(insideOnlyLoader('/lib/ld-linux-aarch64.so.1')).toBe('/lib/ld-wsbox-aarch64.so.1');
    expect(() => insideOnlyLoader('/lib/ld-musl-x86_64.so.1')).toThrow(/no \/ld-linux/);
  });
});

describe('a path as a process chrooted at a root sees it', () => {
  const root = mkdtempSync(join(tmpdir(), 'ws-unit-inroot-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'lib64'));
  writeFileSync(join(root, 'bin/busybox'), '');
  symlinkSync('/bin/busybox', join(root, 'bin/sh')); // absolute: busybox --install -s makes these
  symlinkSync('busybox', join(root, 'bin/ash'));
  symlinkSync('../../../../lib64', join(root, 'bin/up'));
  symlinkSync('/bin/loop', join(root, 'bin/loop'));

  it('follows absolute links from the root, relative ones from their folder, and clamps .. at the root', async () => {
    expect(await resolveInRoot(root, '/bin/sh')).toBe(join(root, 'bin/busybox'));
    expect(await resolveInRoot(root, 'bin/ash')).toBe(join(root, 'bin/busybox'));
    expect(await resolveInRoot(root, '/bin/up')).toBe(join(root, 'lib64'));
  });

  it('is null for what is missing, or a loop', async () => {
    expect(await resolveInRoot(root, '/lib64/ld-linux-x86-64.so.2')).toBeNull();
    expect(await resolveInRoot(root, '/bin/loop')).toBeNull();
  });
});
