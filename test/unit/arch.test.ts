// Every probe is architecture-neutral: the same checks on x86_64 and arm64, read from files
// recorded on each (test/fixtures/README.md says how).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { elfMachineName, parseElf } from '../../src/checks/chroot.ts';
import { blockedInStdinRead, READ_SYSCALL } from '../../src/engine/aswritten.ts';

const fixture = (...p: string[]): Buffer => readFileSync(path.join(import.meta.dirname, '../fixtures', ...p));
const text = (...p: string[]): string => fixture(...p).toString('utf8');

describe('ELF headers of both architectures', () => {
  it.each([
    ['busybox-static.bin', { bits: 64, type: 'exec', machine: 62, interpreter: null }, 'x86-64'],
    ['ls-dynamic.bin', { bits: 64, type: 'dyn', machine: 62, interpreter: '/lib64/ld-linux-x86-64.so.2' }, 'x86-64'],
    ['busybox-static-arm64.bin', { bits: 64, type: 'exec', machine: 183, interpreter: null }, 'aarch64'],
    ['ls-dynamic-arm64.bin', { bits: 64, type: 'dyn', machine: 183, interpreter: '/lib/ld-linux-aarch64.so.1' }, 'aarch64'],
  ])('reads %s', (name, expected, machine) => {
    const elf = parseElf(fixture('elf', name));
    expect(elf).toMatchObject({ kind: 'elf', ...expected });
    expect(elf.kind === 'elf' ? elfMachineName(elf.machine) : '').toBe(machine);
  });

  it("accepts arm64's static busybox and names its loader when it is dynamic, as on x86", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { checkContext } = await import('../../src/engine/context.ts');
    const { isStaticExecutable } = await import('../../src/checks/chroot.ts');
    const dir = await mkdtemp(path.join(tmpdir(), 'ws-arch-'));
    try {
      await writeFile(path.join(dir, 'busybox'), fixture('elf', 'busybox-static-arm64.bin'));
      await writeFile(path.join(dir, 'ls'), fixture('elf', 'ls-dynamic-arm64.bin'));
      const ctx = checkContext({ chapter: 't', dir, home: dir, nonce: 'n', startedAt: 0 });
      expect(await isStaticExecutable('busybox').run(ctx)).toMatchObject({ status: 'pass', actual: 'statically linked 64-bit aarch64 ELF' });
      expect(await isStaticExecutable('ls').run(ctx)).toMatchObject({ status: 'fail', actual: 'dynamically linked, interpreter /lib/ld-linux-aarch64.so.1' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a machine it does not know by its number', () => {
    expect(elfMachineName(4242)).toBe('machine 4242');
  });
});

describe('a shell waiting for its next line, in /proc/PID/syscall', () => {
  it.each([
    ['syscall-read-stdin-x86_64.txt', 'x64', true],
    ['syscall-pselect-x86_64.txt', 'x64', false],
    ['syscall-read-stdin-aarch64.txt', 'arm64', true],
  ] as const)('%s on %s: %s', (name, arch, waiting) => {
    expect(blockedInStdinRead(text('proc', name), arch)).toBe(waiting);
  });

  it("is not a read on another architecture's table", () => {
    // x86-64's read is 0; on arm64, 0 is io_setup and read is 63 (63 is readv on x86-64)
    expect(blockedInStdinRead(text('proc', 'syscall-read-stdin-x86_64.txt'), 'arm64')).toBe(false);
    expect(blockedInStdinRead(text('proc', 'syscall-read-stdin-aarch64.txt'), 'x64')).toBe(false);
  });

  it('says nothing for an architecture whose number it does not know, or for a running process', () => {
    expect(blockedInStdinRead('63 0x0 0x1 0x2', 's390x')).toBeUndefined();
    expect(blockedInStdinRead('running', 'x64')).toBe(false);
    expect(READ_SYSCALL[process.arch]).toBeDefined();
  });
});
