// Files: ELF headers, existence, symlinks, contents, timestamps, and tree manifests.
import { lstat, open, readFile, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineCheck, fail, pass, type Check, type CheckContext } from './check.ts';

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

const resolve = (ctx: CheckContext, p: string): string => (path.isAbsolute(p) ? p : ctx.path(p));
const isMissing = (err: unknown): boolean =>
  err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

async function describe(p: string): Promise<string> {
  try {
    const st = await lstat(p);
    if (st.isSymbolicLink()) return `a symlink to ${await readlink(p)}`;
    if (st.isDirectory()) return 'a directory';
    if (st.isFile()) return `a regular file (${st.size} bytes)`;
    return 'a special file';
  } catch (err) {
    if (isMissing(err)) return 'nothing there';
    throw err;
  }
}

/** `p` (relative to the chapter folder, or absolute) is a directory. */
export const directoryExists = (p: string): Check =>
  defineCheck(`${p} is a directory`, async (ctx) => {
    const abs = resolve(ctx, p);
    const st = await stat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    return st?.isDirectory() ? pass(`${abs} is a directory`) : fail('a directory', `${abs}: ${await describe(abs)}`);
  });

/** `p` is a regular file. */
export const fileExists = (p: string): Check =>
  defineCheck(`${p} is a file`, async (ctx) => {
    const abs = resolve(ctx, p);
    const st = await stat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    return st?.isFile() ? pass(`${abs} (${st.size} bytes)`) : fail('a regular file', `${abs}: ${await describe(abs)}`);
  });

/** Nothing is at `p`. */
export const pathAbsent = (p: string): Check =>
  defineCheck(`${p} is absent`, async (ctx) => {
    const abs = resolve(ctx, p);
    const what = await describe(abs);
    return what === 'nothing there' ? pass(`nothing at ${abs}`) : fail(`nothing at ${abs}`, what);
  });

/** `p` is a regular file with an execute bit set. */
export const isExecutableFile = (p: string): Check =>
  defineCheck(`${p} is an executable file`, async (ctx) => {
    const abs = resolve(ctx, p);
    const st = await stat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (!st?.isFile()) return fail('an executable file', `${abs}: ${await describe(abs)}`);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    return st.mode & 0o111 ? pass(`mode ${mode}`) : fail('an execute bit (x) in its mode', `mode ${mode}`, `chmod +x ${p}`);
  });

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

/**
 * The link's own target, compared lexically. With `root`, absolute targets (of the link, and the
 * expected one) are read the way a process chrooted there sees them: busybox --install -s makes
 * bin/ls -> /bin/busybox, which points outside the rootfs from the host but is right in the chroot.
 */
export const symlinkTo = (link: string, target: string, opts: { root?: string } = {}): Check =>
  defineCheck(`${link} is a symlink to ${target}`, async (ctx) => {
    const abs = resolve(ctx, link);
    const st = await lstat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (!st?.isSymbolicLink()) return fail(`a symlink to ${target}`, `${abs}: ${await describe(abs)}`);
    const raw = await readlink(abs);
    const root = opts.root === undefined ? null : resolve(ctx, opts.root);
    const inRoot = (p: string): string => (root !== null && path.isAbsolute(p) ? path.join(root, p) : p);
    const got = path.resolve(path.dirname(abs), inRoot(raw));
    const want = root !== null && path.isAbsolute(target) ? path.join(root, target) : resolve(ctx, target);
    return got === want ? pass(`${link} -> ${raw}`) : fail(`a symlink to ${target}`, `a symlink to ${raw}`);
  });

/** `p` is a file whose content includes `text`. */
export const fileContains = (p: string, text: string): Check =>
  defineCheck(`${p} contains "${text}"`, async (ctx) => {
    const abs = resolve(ctx, p);
    const body = await readFile(abs, 'utf8').catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (body === null) return fail(`a file containing "${text}"`, `${abs}: nothing there`);
    if (body.includes(text)) return pass(`contains "${text}"`);
    const excerpt = body.length > 60 ? `${JSON.stringify(body.slice(0, 60))}…` : JSON.stringify(body);
    return fail(`a file containing "${text}"`, `${body.length} characters without it: ${excerpt}`);
  });

// File timestamps come from the kernel's coarse clock, which lags Date.now() by up to a tick
// (4 ms at HZ=250), so a file written just after the chapter started can look a little older.
const CLOCK_SLACK_MS = 50;

/** `p` was modified after the chapter started (`ctx.startedAt`): it was made during this chapter, not left over. */
export const modifiedSince = (p: string): Check =>
  defineCheck(`${p} was modified during this chapter`, async (ctx) => {
    const abs = resolve(ctx, p);
    const st = await lstat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    const since = new Date(ctx.startedAt).toISOString();
    if (st === null) return fail(`modified after ${since}`, `${abs}: nothing there`);
    const at = new Date(st.mtimeMs).toISOString();
    return st.mtimeMs + CLOCK_SLACK_MS >= ctx.startedAt
      ? pass(`modified at ${at}`)
      : fail(`modified after ${since}`, `last modified at ${at}, before the chapter started`, 'It was made before this chapter started; redo the step.');
  });

/** One entry of a tree manifest ({@link treeManifest}): a file with its mode, size and hash, a symlink with its target, or a directory. */
export type ManifestEntry =
  | { type: 'file'; mode: number; size: number; sha256: string | null }
  | { type: 'dir'; mode: number }
  | { type: 'symlink'; target: string }
  | { type: 'other'; mode: number };

/** Files above this size are compared by size only: hashing a rootfs must stay fast. */
const HASH_LIMIT = 4 << 20;

/**
 * Relative path -> entry for everything under dir (dir itself excluded). It does not follow
 * symlinks and does not descend into other file systems: a /proc mounted in a rootfs is not part of it.
 */
export async function treeManifest(dir: string): Promise<Map<string, ManifestEntry>> {
  const out = new Map<string, ManifestEntry>();
  const rootDev = (await stat(dir)).dev;
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(dir, r);
      const st = await lstat(abs);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out.set(r, { type: 'symlink', target: await readlink(abs) });
      else if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode });
        if (st.dev === rootDev) await walk(r);
      } else if (st.isFile()) {
        // node:crypto on first use: every command that imports a steps.ts reaches this module (~65M instructions)
        const sha256 = st.size <= HASH_LIMIT ? process.getBuiltinModule('node:crypto').createHash('sha256').update(await readFile(abs)).digest('hex') : null;
        out.set(r, { type: 'file', mode, size: st.size, sha256 });
      } else out.set(r, { type: 'other', mode });
    }
  };
  await walk('');
  return out;
}

const sameEntry = (a: ManifestEntry, b: ManifestEntry): boolean => JSON.stringify(a) === JSON.stringify(b);

export function diffManifests(
  before: ReadonlyMap<string, ManifestEntry>,
  after: ReadonlyMap<string, ManifestEntry>,
): { added: string[]; removed: string[]; changed: string[] } {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after].flatMap(([k, e]) => {
    const old = before.get(k);
    return old !== undefined && !sameEntry(old, e) ? [k] : [];
  });
  return { added, removed, changed: changed.sort() };
}

const few = (list: readonly string[]): string => (list.length > 3 ? `${list.slice(0, 3).join(', ')}, …` : list.join(', '));

/** The tree at `dir` equals the manifest `expected` (from {@link treeManifest}); the failure names what was added, removed or changed. */
export const treeMatches = (dir: string, expected: ReadonlyMap<string, ManifestEntry>): Check =>
  defineCheck(`${dir} is unchanged`, async (ctx) => {
    const d = diffManifests(expected, await treeManifest(resolve(ctx, dir)));
    const parts = [
      d.added.length > 0 ? `${d.added.length} added (${few(d.added)})` : '',
      d.removed.length > 0 ? `${d.removed.length} removed (${few(d.removed)})` : '',
      d.changed.length > 0 ? `${d.changed.length} changed (${few(d.changed)})` : '',
    ].filter((s) => s !== '');
    return parts.length === 0
      ? pass(`the same ${expected.size} entries`)
      : fail(`the same ${expected.size} entries as before`, parts.join(', '));
  });
