// Wafer stacks (the `wafers` seed): a wafer is a folder WAFERS/NAME holding `data/` (its layer),
// `work/` (overlayfs's scratch space) and an optional `parent` file naming the wafer below it.
// Stacking NAME mounts an overlay at STACKS/NAME whose upperdir is NAME's data and whose
// lowerdirs are the ancestors' data, nearest parent first. overlayfs.ts compares the mount.
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Check, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';
import { describeMountsAt, mountsAt, readMountinfo, type MountEntry } from './mounts.ts';
import { judgeOverlay, type OverlayExpectation } from './overlayfs.ts';

/** The wafer a `parent` file names: its first non-empty line, trimmed. Pure. */
export function parseParentFile(text: string): string | null {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return line === undefined ? null : line;
}

/** A wafer's parents, nearest first, read from the `parent` files; or why the chain is broken. */
export type Ancestry = { ok: true; chain: string[] } | { ok: false; reason: string; chain: string[] };

/** NAME, its parent, its grandparent… as the parent files say. A loop is an error, not a hang. Pure. */
export function traceAncestry(name: string, parentOf: (wafer: string) => string | null): Ancestry {
  const chain = [name];
  for (let p = parentOf(name); p !== null; p = parentOf(p)) {
    if (chain.includes(p)) return { ok: false, reason: `the parent files loop: ${[...chain, p].join(' -> ')}`, chain };
    chain.push(p);
  }
  return { ok: true, chain };
}

/** What the overlay of a stack must look like, given its ancestry (the wafer itself first). Pure. */
export function stackExpectation(wafersDir: string, chain: readonly string[]): OverlayExpectation {
  const [top, ...ancestors] = chain;
  if (top === undefined) throw new Error('an empty ancestry');
  return {
    lower: ancestors.map((w) => join(wafersDir, w, 'data')),
    upper: join(wafersDir, top, 'data'),
    work: join(wafersDir, top, 'work'),
    writable: true,
  };
}

/** Reads the parent files under `wafersDir`, starting at `name`. */
export async function readAncestry(wafersDir: string, name: string): Promise<Ancestry> {
  const parents = new Map<string, string | null>();
  const load = async (w: string): Promise<string | null> => {
    const text = await readFile(join(wafersDir, w, 'parent'), 'utf8').catch(() => null);
    return text === null ? null : parseParentFile(text);
  };
  // Read them one by one (at most a few levels); traceAncestry then walks the map.
  for (let w: string | null = name; w !== null && !parents.has(w); ) {
    const p = await load(w);
    parents.set(w, p);
    w = p;
  }
  return traceAncestry(name, (w) => parents.get(w) ?? null);
}

/** STACKS/NAME is an overlay of NAME's wafer on its ancestors, as its parent files trace them. */
export const waferStacked = (stacksDir: string, wafersDir: string, name: string): Check =>
  defineCheck(`${stacksDir}/${name} stacks ${name} on its ancestors`, async (ctx) => {
    const wafers = resolve(ctx.dir, wafersDir);
    const a = await readAncestry(wafers, name);
    if (!a.ok) return fail(`a stack for ${name}`, a.reason);
    if (a.chain.length < 2) return fail(`a stack for ${name} on its parent`, `${wafersDir}/${name}/parent is missing or empty`, `echo PARENT > ${wafersDir}/${name}/parent`);
    return judgeOverlay(await readMountinfo(), resolve(ctx.dir, stacksDir, name), stackExpectation(wafers, a.chain), ctx.dir);
  });

/**
 * Pure decision of `waferStackedAlone`: a wafer without a parent is stacked as itself, a bind
 * mount of its data (the mount's root has the data folder's device and inode), or an overlay
 * whose only layer is that data. `sameInode` compares stat() of the stack and of the data.
 */
export function judgeLoneStack(entries: readonly MountEntry[], at: string, data: string, sameInode: boolean, baseDir: string): Verdict {
  const shownAt = relative(baseDir, at) || '.';
  const shownData = relative(baseDir, data) || '.';
  const found = mountsAt(entries, at);
  const top = found.at(-1);
  const expected = `${shownData} mounted at ${shownAt} (a bind mount, or an overlay with only that lowerdir)`;
  if (top === undefined) return fail(expected, `nothing is mounted at ${shownAt}`, `A wafer without a parent is mounted by itself: mount --bind ${shownData} ${shownAt}`);
  if (top.fsType === 'overlay') {
    const v = judgeOverlay(entries, at, { lower: [data] }, baseDir);
    return v.ok ? pass(`an overlay of ${shownData} alone`) : fail(expected, v.actual, 'Unmount it (umount STACK), then stack the wafer again: with no parent, mount --bind its data.');
  }
  if (sameInode) return pass(`a bind mount of ${shownData} (${top.fsType})`);
  return fail(expected, `${describeMountsAt(found, shownAt)}, which is not ${shownData}`, `umount ${shownAt}, then mount --bind ${shownData} ${shownAt}`);
}

/** STACKS/NAME holds NAME's own data, stacked with no parent (the seed: "you can also stack wafers that have no parent(s)"). */
export const waferStackedAlone = (stacksDir: string, wafersDir: string, name: string): Check =>
  defineCheck(`${stacksDir}/${name} stacks ${name} by itself (no parent)`, async (ctx) => {
    const at = resolve(ctx.dir, stacksDir, name);
    const data = resolve(ctx.dir, wafersDir, name, 'data');
    const [a, d] = await Promise.all([stat(at).catch(() => null), stat(data).catch(() => null)]);
    if (d === null) return fail(`a wafer ${name}`, `${wafersDir}/${name}/data: nothing there`);
    const same = a !== null && a.dev === d.dev && a.ino === d.ino;
    return judgeLoneStack(await readMountinfo(), at, data, same, ctx.dir);
  });
