// Files: existence, symlinks, contents, timestamps, and tree manifests (the chroot family's ELF and
// shell checks are in chroot.ts).
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineCheck, fail, pass, type Check, type CheckContext } from './check.ts';

export const resolve = (ctx: CheckContext, p: string): string => (path.isAbsolute(p) ? p : ctx.path(p));
export const isMissing = (err: unknown): boolean =>
  err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

export async function describe(p: string): Promise<string> {
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

/**
 * `link` is a symbolic link that points where `target` does. Both are resolved lexically (no
 * further link is followed), each from its own folder: `current -> releases/v1` and
 * `current -> /ABS/CHAPTER/releases/v1` both pass `symlinkTo('current', 'releases/v1')`. With
 * `exact`, the text stored in the link must be `target` itself (a relative link that keeps
 * working when the folder moves, say). With `root`, absolute targets (of the link, and the
 * expected one) are read the way a process chrooted there sees them: busybox --install -s makes
 * bin/ls -> /bin/busybox, which points outside the rootfs from the host but is right in the chroot.
 */
export const symlinkTo = (link: string, target: string, opts: { root?: string; exact?: boolean } = {}): Check =>
  defineCheck(`${link} is a symlink to ${target}`, async (ctx) => {
    const abs = resolve(ctx, link);
    const st = await lstat(abs).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (!st?.isSymbolicLink()) return fail(`a symlink to ${target}`, `${abs}: ${await describe(abs)}`);
    const raw = await readlink(abs);
    if (opts.exact === true) return raw === target ? pass(`${link} -> ${raw}`) : fail(`a symlink whose text is exactly ${target}`, `a symlink to ${raw}`, `ln -sfn ${target} ${link}`);
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
