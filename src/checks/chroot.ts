// The chroot family: ELF headers (is busybox static, for which machine), and whether a rootfs's
// /bin/sh runs under chroot, its symlinks read the way a chrooted process sees them.
import { lstat, open, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineCheck, fail, pass, type Check } from './check.ts';
import { describe, resolve } from './files.ts';

export type ElfInfo =
  | { kind: 'not-elf' }
  | { kind: 'elf'; bits: 32 | 64; type: 'exec' | 'dyn' | 'rel' | 'core' | 'other'; machine: number; interpreter: string | null };

/** Thrown by parseElf when the headers it needs lie beyond the buffer; `needed` is the length that would do. */
export class ElfTruncatedError extends Error {
  readonly needed: number;
  constructor(needed: number, have: number) {
    super(`truncated ELF file: its headers need ${needed} bytes, found ${have}`);
    this.needed = needed;
  }
}

const PT_INTERP = 3;
const ELF_TYPES = { 1: 'rel', 2: 'exec', 3: 'dyn', 4: 'core' } as const;
/** e_machine values of the architectures a workshop VM may run on (elf(5), <elf.h>). */
const ELF_MACHINES: Readonly<Record<number, string>> = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'aarch64', 243: 'riscv', 258: 'loongarch' };

/** Pure: the architecture an ELF e_machine names, as `file` says it ("x86-64", "aarch64"), or its number. */
export const elfMachineName = (machine: number): string => ELF_MACHINES[machine] ?? `machine ${machine}`;

/** Reads the ELF header and program headers; PT_INTERP is what makes a binary dynamically linked. */
export function parseElf(buf: Buffer): ElfInfo {
  if (buf.length < 4 || buf.readUInt32BE(0) !== 0x7f454c46) return { kind: 'not-elf' };
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw new Error(`unknown ELF class ${cls} or data encoding ${data}`);
  const bits = cls === 2 ? 64 : 32;
  const le = data === 1;
  const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const addr = (o: number): number => (bits === 64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const need = (n: number): void => {
    if (buf.length < n) throw new ElfTruncatedError(n, buf.length);
  };
  need(bits === 64 ? 64 : 52);
  const e_type = u16(16);
  const type = e_type in ELF_TYPES ? ELF_TYPES[e_type as keyof typeof ELF_TYPES] : 'other';
  const machine = u16(18);
  const phoff = addr(bits === 64 ? 32 : 28);
  const phentsize = u16(bits === 64 ? 54 : 42);
  const phnum = u16(bits === 64 ? 56 : 44);
  // 0xffff (PN_XNUM) moves the count into section 0; no executable we teach with has that many.
  if (phnum === 0xffff) throw new Error('ELF file with more than 65534 program headers');
  let interpreter: string | null = null;
  if (phnum > 0) need(phoff + phnum * phentsize);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_INTERP) continue;
    const offset = addr(bits === 64 ? ph + 8 : ph + 4);
    const size = addr(bits === 64 ? ph + 32 : ph + 16);
    need(offset + size);
    interpreter = buf.subarray(offset, offset + size).toString('latin1').replace(/\0+$/, '');
  }
  return { kind: 'elf', bits, type, machine, interpreter };
}

async function readHead(file: string, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Reads only the headers: 4 KiB holds them for every usual binary, and we reread more when they do not fit. */
export async function readElf(file: string): Promise<ElfInfo> {
  let length = 4096;
  for (;;) {
    const buf = await readHead(file, length);
    try {
      return parseElf(buf);
    } catch (err) {
      // a short read means the file really ends there; a huge need means garbage headers
      if (!(err instanceof ElfTruncatedError) || buf.length < length || err.needed > 1 << 22) throw err;
      length = err.needed;
    }
  }
}

/** `p` is an ELF executable with no program interpreter (statically linked), read from its ELF header. */
export const isStaticExecutable = (p: string): Check =>
  defineCheck(`${p} is a statically linked executable`, async (ctx) => {
    const abs = resolve(ctx, p);
    const expected = 'a statically linked ELF executable';
    const elf = await readElf(abs);
    if (elf.kind === 'not-elf') {
      const head = await readHead(abs, 2);
      const start = head.length === 0 ? 'an empty file' : head.toString('latin1') === '#!' ? 'starts with #!' : `starts with 0x${head.toString('hex')}`;
      return fail(expected, `not an ELF file (${start})`);
    }
    if (elf.interpreter !== null)
      return fail(
        expected,
        `dynamically linked, interpreter ${elf.interpreter}`,
        `This step is about the static binary: a dynamic one runs in a chroot only with its loader ${elf.interpreter} and its libraries copied in (a real image such as Alpine's ships them). cp /bin/busybox from busybox-static.`,
      );
    if (elf.type !== 'exec' && elf.type !== 'dyn') return fail(expected, `an ELF ${elf.type} file, not an executable`);
    // Static on any architecture: the machine is named, not judged (qemu-user or Rosetta may run a foreign one).
    return pass(`statically linked ${elf.bits}-bit ${elfMachineName(elf.machine)} ELF${elf.type === 'dyn' ? ' (static-pie)' : ''}`);
  });

/**
 * Where `p` (absolute, as a process chrooted at `root` names it) leads inside `root`: its symlinks
 * followed the way that process sees them (an absolute target starts again at `root`). Null when
 * something on the way is missing; a loop stops after 16 links.
 */
export async function resolveInRoot(root: string, p: string): Promise<string | null> {
  let rel = path.posix.normalize(`/${p}`);
  for (let hops = 0; hops < 16; hops++) {
    const st = await lstat(path.join(root, rel)).catch(() => null);
    if (st === null) return null;
    if (!st.isSymbolicLink()) return path.join(root, rel);
    const target = await readlink(path.join(root, rel));
    // normalize clamps `..` at the root, as the kernel does at a chroot's /
    rel = path.posix.normalize(target.startsWith('/') ? target : `${path.posix.dirname(rel)}/${target}`);
  }
  return null;
}

/** Why `/bin/sh` of `root` (a folder) does not run under chroot, told from the files: the learner's next move is in the hint. */
async function whyNoShell(root: string, shown: string, ran: { code: number | null; stderr: string }): Promise<{ actual: string; hint?: string }> {
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) return { actual: `${shown}: ${await describe(root)}` };
  const sh = await resolveInRoot(root, '/bin/sh');
  if (sh === null) {
    const busybox = await resolveInRoot(root, '/bin/busybox');
    return busybox === null
      ? { actual: `${shown} has no /bin/sh and no /bin/busybox`, hint: `cp /bin/busybox ${shown}/bin/; chroot ${shown} /bin/busybox --install -s` }
      : { actual: `${shown}/bin/sh: nothing there (the BusyBox symlinks are not installed)`, hint: `chroot ${shown} /bin/busybox --install -s` };
  }
  const elf = await readElf(sh).catch(() => null);
  const interp = elf?.kind === 'elf' ? elf.interpreter : null;
  if (interp !== null && (await resolveInRoot(root, interp)) === null) {
    return {
      actual: `${shown}/bin/sh is dynamically linked: its loader ${interp} is not in ${shown} (the host's loader and libraries are outside the chroot)`,
      hint: `Copy the loader and the libraries that ldd lists into ${shown} at the same paths, or use the static /bin/busybox of busybox-static.`,
    };
  }
  const said = ran.stderr.trim().split('\n').at(-1) ?? '';
  return { actual: `chroot ${shown} /bin/sh exited ${ran.code ?? 'on a signal'}${said ? `: ${said}` : ''}` };
}

/**
 * `root` is a root file system whose `/bin/sh` runs under chroot: the way to judge a real image,
 * whatever its shell is and however it is linked (Debian's busybox-static, Alpine's BusyBox
 * linked against musl with its loader inside, a Debian image's dash). Runs `chroot ROOT /bin/sh
 * -c 'exit 0'` as root: the learner's own root, which the next step runs anyway.
 */
export const shellRunsUnderChroot = (root: string): Check =>
  defineCheck(`${root} is a root whose /bin/sh runs under chroot`, async (ctx) => {
    const abs = resolve(ctx, root);
    const ran = await ctx.run('chroot', [abs, '/bin/sh', '-c', 'exit 0'], { timeoutMs: 5000 });
    if (ran.code === 0) {
      const sh = await resolveInRoot(abs, '/bin/sh');
      const elf = sh === null ? null : await readElf(sh).catch(() => null);
      const how = elf?.kind !== 'elf' ? '' : elf.interpreter === null ? ', statically linked' : `, dynamically linked (its loader ${elf.interpreter} is inside)`;
      const target = sh === null ? '' : sh.slice(abs.length) || '/';
      return pass(`chroot ${root} /bin/sh -c 'exit 0' exits 0 (/bin/sh is ${target}${how})`);
    }
    const why = await whyNoShell(abs, root, ran);
    return fail(`chroot ${root} /bin/sh to run`, why.actual, why.hint);
  }, { timeoutMs: 15_000 });
