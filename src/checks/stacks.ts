// Wafer stacks (the `wafers` seed): a wafer is a folder WAFERS/NAME holding `data/` (its layer),
// `work/` (overlayfs's scratch space) and an optional `parent` file naming the wafer below it.
// Stacking NAME mounts an overlay at STACKS/NAME whose upperdir is NAME's data and whose
// lowerdirs are the ancestors' data, nearest parent first. overlay.ts compares the mount.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Check } from './check.ts';
import { defineCheck, fail } from './check.ts';
import { readMountinfo } from './mounts.ts';
import { judgeOverlay, type OverlayExpectation } from './overlay.ts';

/** The wafer a `parent` file names: its first non-empty line, trimmed. Pure. */
export function parseParentFile(text: string): string | null {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return line === undefined ? null : line;
}

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
