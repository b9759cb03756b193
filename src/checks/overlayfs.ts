// Overlay checks. The layers come from the super options in mountinfo, which the kernel
// prints the way the user typed them: relative paths stay relative, trailing slashes stay,
// and escapes typed on the command line are kept (fixtures: test/fixtures/mountinfo/).

import { isAbsolute, relative, resolve } from 'node:path';
import type { Check, CheckContext, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';
import type { MountEntry } from './mounts.ts';
// Whiteouts and opaque directories live in overlayfs-upper.ts (what deletions leave behind).
export { isOpaqueDir, isWhiteout, judgeOpaqueDir, judgeWhiteout, parseGetfattr } from './overlayfs-upper.ts';
export type { FileKind } from './overlayfs-upper.ts';
import { checkPath, ctxPath, decodeOctal, describeMount, isReadOnly, mountsAt, readMountinfo } from './mounts.ts';

/** The layers of an overlay mount, as absolute paths. */
export interface OverlayLayers {
  /** topmost first */
  lowerdirs: string[];
  /** data-only layers (`lowerdir=a::d` or `datadir+=d`): they hold file data, not names */
  datadirs: string[];
  upperdir?: string;
  workdir?: string;
  /** every other option (rw/ro, uuid=on, redirect_dir=on…): they never matter for comparisons */
  options: Record<string, string | true>;
}

/** Undoes the backslash escapes of the legacy syntax: `col\:on` is the folder `col:on`. */
const unescapeLayer = (s: string): string => s.replace(/\\(.)/g, '$1');

/**
 * Splits a legacy `lowerdir=` value: `:` separates layers, `::` starts the data-only layers,
 * and `\:`/`\,` are literal. Recorded: `-o 'lowerdir=my layer:col\:on:co\,mma'` shows up as
 * `lowerdir=my\040layer:col\134:on:co\134\054mma`, so the kernel keeps the typed backslashes.
 */
function splitLowerdir(value: string): { lower: string[]; data: string[] } {
  const lower: string[] = [];
  const data: string[] = [];
  let cur = '';
  let inData = false;
  const flush = (): void => {
    if (cur !== '') (inData ? data : lower).push(unescapeLayer(cur));
    cur = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\\') {
      cur += c + (value[i + 1] ?? '');
      i++;
    } else if (c === ':') {
      flush();
      if (value[i + 1] === ':') {
        inData = true;
        i++;
      }
    } else cur += c;
  }
  flush();
  return { lower, data };
}

/** Parses the super options of an overlay mount. Pure. */
export function parseOverlayOptions(superOptions: string): OverlayLayers {
  const layers: OverlayLayers = { lowerdirs: [], datadirs: [], options: {} };
  // Split before decoding: a comma inside a layer name is printed as \054.
  for (const raw of superOptions.split(',')) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    const value = decodeOctal(raw.slice(eq + 1));
    switch (key) {
      case 'lowerdir': {
        const { lower, data } = splitLowerdir(value);
        layers.lowerdirs.push(...lower);
        layers.datadirs.push(...data);
        break;
      }
      // Kernel 6.8+ prints layers given one by one (even through mount(2) with
      // `-o lowerdir+=a`) as `lowerdir+=a,lowerdir+=col:on,datadir+=d1`; these values are
      // literal paths: `lowerdir+=col\:on` fails with "failed to resolve".
      case 'lowerdir+':
        layers.lowerdirs.push(value);
        break;
      case 'datadir+':
        layers.datadirs.push(value);
        break;
      case 'upperdir':
        layers.upperdir = unescapeLayer(value);
        break;
      case 'workdir':
        layers.workdir = unescapeLayer(value);
        break;
      default:
        layers.options[key] = eq < 0 ? true : value;
    }
  }
  return layers;
}

/** Makes every layer absolute (relative ones against `baseDir`) and drops trailing slashes. */
export function resolveLayers(layers: OverlayLayers, baseDir: string): OverlayLayers {
  const abs = (p: string): string => resolve(baseDir, p);
  const out: OverlayLayers = { lowerdirs: layers.lowerdirs.map(abs), datadirs: layers.datadirs.map(abs), options: { ...layers.options } };
  if (layers.upperdir !== undefined) out.upperdir = abs(layers.upperdir);
  if (layers.workdir !== undefined) out.workdir = abs(layers.workdir);
  return out;
}

/** An overlay mount with its layers resolved to absolute paths. */
export interface FoundOverlay {
  mount: MountEntry;
  /** absolute, normalized */
  layers: OverlayLayers;
  /** as the kernel printed them, to tell a relative match (a guess) from an absolute one */
  typed: OverlayLayers;
}

/**
 * Every overlay in the table, with layers resolved against `baseDir`. A relative layer only
 * says that the mount was run from some folder, which we take to be the chapter folder.
 */
export function findOverlays(entries: readonly MountEntry[], baseDir: string): FoundOverlay[] {
  return entries.filter((e) => e.fsType === 'overlay').map((mount) => {
    const typed = parseOverlayOptions(mount.superOptions);
    return { mount, layers: resolveLayers(typed, baseDir), typed };
  });
}

/** Pure: every overlay in `entries` with `lowerPath` among its lowerdirs, relative layers resolved from `baseDir`. */
export function overlaysWithLower(entries: readonly MountEntry[], lowerPath: string, baseDir: string): FoundOverlay[] {
  const want = resolve(baseDir, lowerPath);
  return findOverlays(entries, baseDir).filter((o) => o.layers.lowerdirs.includes(want));
}

/** An overlay accepts writes when it has an upperdir and is not mounted read-only. */
export const isWritableOverlay = (o: FoundOverlay): boolean => o.layers.upperdir !== undefined && !isReadOnly(o.mount);

/**
 * The best overlay with `lower` among its lowerdirs: writable first, then one that names it
 * by an absolute path (`lowerdir=rootfs` typed in another folder also "matches"; seen here
 * with other people's test mounts), then the newest. Newest is the latest in the table, not
 * the highest id: the kernel reuses mount ids (recorded: four overlays mounted one after
 * another got ids 44, 46, 44, 45).
 */
export function pickOverlayWithLower(entries: readonly MountEntry[], lower: string, baseDir: string): FoundOverlay | undefined {
  const want = resolve(baseDir, lower);
  const rank = (o: FoundOverlay): number =>
    (isWritableOverlay(o) ? 2 : 0) + (o.typed.lowerdirs.some((p) => isAbsolute(p) && resolve(p) === want) ? 1 : 0);
  return overlaysWithLower(entries, lower, baseDir).reduce<FoundOverlay | undefined>((best, o) => (best === undefined || rank(o) >= rank(best) ? o : best), undefined);
}

/** The newest overlay (in /proc/self/mountinfo) with `lower` among its lowerdirs; a relative layer typed from the chapter folder counts. */
export async function findOverlayWithLower(ctx: CheckContext, lower: string): Promise<FoundOverlay | undefined> {
  return pickOverlayWithLower(await readMountinfo(), ctxPath(ctx, lower), ctx.dir);
}

/** What an overlay mount must be: its lowerdirs in order (nearest first), upperdir, workdir, and whether it accepts writes. */
export interface OverlayExpectation {
  lower?: string[];
  upper?: string;
  work?: string;
  writable?: boolean;
}

/** A path for messages: relative to the chapter folder when it is inside it. */
const shown = (p: string, baseDir: string): string => {
  const r = relative(baseDir, p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
};

function describeExpectation(merged: string, expect: OverlayExpectation, baseDir: string): string {
  const parts: string[] = [];
  if (expect.lower !== undefined) parts.push(`lowerdir=${expect.lower.map((p) => shown(resolve(baseDir, p), baseDir)).join(':')}`);
  if (expect.upper !== undefined) parts.push(`upperdir=${shown(resolve(baseDir, expect.upper), baseDir)}`);
  if (expect.work !== undefined) parts.push(`workdir=${shown(resolve(baseDir, expect.work), baseDir)}`);
  if (expect.writable !== undefined) parts.push(expect.writable ? 'writable' : 'read-only');
  return `an overlay at ${shown(merged, baseDir)}${parts.length > 0 ? ` with ${parts.join(', ')}` : ''}`;
}

export function describeOverlay(o: FoundOverlay, baseDir: string): string {
  const l = o.layers;
  const parts = [`lowerdir=${l.lowerdirs.map((p) => shown(p, baseDir)).join(':')}`];
  if (l.upperdir !== undefined) parts.push(`upperdir=${shown(l.upperdir, baseDir)}`);
  if (l.workdir !== undefined) parts.push(`workdir=${shown(l.workdir, baseDir)}`);
  return `overlay at ${shown(o.mount.mountPoint, baseDir)} (${parts.join(', ')}, ${isWritableOverlay(o) ? 'writable' : 'read-only'})`;
}

/** Every way `found` differs from `expect`, in words a learner can act on. */
export function overlayDifferences(o: FoundOverlay, expect: OverlayExpectation, baseDir: string): string[] {
  const diffs: string[] = [];
  const abs = (p: string): string => resolve(baseDir, p);
  const list = (ps: readonly string[]): string => ps.map((p) => shown(p, baseDir)).join(':') || '(none)';
  const { lowerdirs, upperdir, workdir } = o.layers;
  // A near-miss seen in class: the two folders given the other way round. Say so first.
  if (expect.upper !== undefined && expect.lower !== undefined && upperdir !== undefined && expect.lower.map(abs).includes(upperdir) && lowerdirs.includes(abs(expect.upper))) {
    diffs.push(`lower and upper are swapped: ${shown(upperdir, baseDir)} is the upperdir and ${shown(abs(expect.upper), baseDir)} a lowerdir`);
  }
  if (expect.lower !== undefined) {
    const want = expect.lower.map(abs);
    if (want.join('\0') !== lowerdirs.join('\0')) {
      const sameSet = want.length === lowerdirs.length && [...want].sort().join('\0') === [...lowerdirs].sort().join('\0');
      diffs.push(`lowerdir ${sameSet ? 'order ' : ''}is ${list(lowerdirs)}, expected ${list(want)}`);
    }
  }
  const noUpper = 'no upperdir: the overlay is read-only';
  if (expect.upper !== undefined) {
    if (upperdir === undefined) diffs.push(noUpper);
    else if (upperdir !== abs(expect.upper)) diffs.push(`upperdir is ${shown(upperdir, baseDir)}, expected ${shown(abs(expect.upper), baseDir)}`);
  }
  if (expect.work !== undefined && workdir !== undefined && workdir !== abs(expect.work)) {
    diffs.push(`workdir is ${shown(workdir, baseDir)}, expected ${shown(abs(expect.work), baseDir)}`);
  }
  if (expect.writable === true && !isWritableOverlay(o)) {
    if (upperdir === undefined) {
      if (!diffs.includes(noUpper)) diffs.push(noUpper);
    } else diffs.push('the overlay is mounted read-only (ro)');
  }
  if (expect.writable === false && isWritableOverlay(o)) diffs.push(`the overlay is writable: it has an upperdir (${shown(upperdir ?? '', baseDir)})`);
  return diffs;
}

/** Pure decision of `overlayMounted`: the visible mount at `merged` must be a matching overlay. */
export function judgeOverlay(entries: readonly MountEntry[], merged: string, expect: OverlayExpectation, baseDir: string): Verdict {
  const expected = describeExpectation(merged, expect, baseDir);
  const found = mountsAt(entries, merged);
  const top = found.at(-1);
  if (top === undefined) return fail(expected, `nothing is mounted at ${shown(merged, baseDir)}`);
  if (top.fsType !== 'overlay') {
    const hidden = found.some((e) => e.fsType === 'overlay');
    return fail(expected, `${describeMount(top)}, not an overlay`, hidden ? 'an overlay is there, but hidden under a later mount: umount the top one' : undefined);
  }
  const o = findOverlays([top], baseDir)[0];
  if (o === undefined) return fail(expected, `${describeMount(top)}, not an overlay`);
  const diffs = overlayDifferences(o, expect, baseDir);
  return diffs.length === 0 ? pass(describeOverlay(o, baseDir)) : fail(expected, diffs.join('; '));
}

/** Pure decision of `overlayWithLowerMounted`. */
export function judgeOverlayWithLower(entries: readonly MountEntry[], lower: string, baseDir: string, opts: { writable?: boolean } = {}): Verdict {
  const want = shown(resolve(baseDir, lower), baseDir);
  const expected = `an overlay${opts.writable === true ? ' that accepts writes' : ''} with ${want} among its lowerdirs`;
  const found = overlaysWithLower(entries, lower, baseDir);
  const best = pickOverlayWithLower(entries, lower, baseDir);
  if (best === undefined) {
    const all = findOverlays(entries, baseDir);
    const others = all.map((o) => describeOverlay(o, baseDir));
    const swapped = all.find((o) => o.layers.upperdir === resolve(baseDir, lower));
    if (swapped !== undefined) {
      return fail(expected, `${describeOverlay(swapped, baseDir)}: ${want} is its upperdir, so lower and upper are swapped (writes would land in ${want})`, `umount ${shown(swapped.mount.mountPoint, baseDir)}, then mount again with lowerdir=${want} and the empty folder as upperdir`);
    }
    return fail(expected, `no overlay uses ${want}${others.length > 0 ? `; found ${others.join('; ')}` : ''}`);
  }
  if (opts.writable !== undefined && isWritableOverlay(best) !== opts.writable) {
    const why = best.layers.upperdir === undefined ? 'it has no upperdir' : 'it is mounted ro';
    return fail(expected, `${describeOverlay(best, baseDir)}${opts.writable ? `: ${why}` : ''}`);
  }
  return pass(describeOverlay(best, baseDir) + (found.length > 1 ? ` (and ${found.length - 1} more)` : ''));
}

/** An overlay is mounted at `merged` with exactly these layers, in this order. */
export function overlayMounted(merged: string, expect: OverlayExpectation): Check {
  return defineCheck(`an overlay is mounted at ${merged}`, async (ctx) => {
    // Layers are compared as typed (the kernel keeps them so), only the mount point is real.
    const resolved: OverlayExpectation = { ...expect };
    if (expect.lower !== undefined) resolved.lower = expect.lower.map((p) => ctxPath(ctx, p));
    if (expect.upper !== undefined) resolved.upper = ctxPath(ctx, expect.upper);
    if (expect.work !== undefined) resolved.work = ctxPath(ctx, expect.work);
    return judgeOverlay(await readMountinfo(), await checkPath(ctx, merged), resolved, ctx.dir);
  });
}

/** Some overlay anywhere has `lower` among its lowerdirs (found without being told where). */
export function overlayWithLowerMounted(lower: string, opts: { writable?: boolean } = {}): Check {
  return defineCheck(`an overlay uses ${lower} as a lower layer`, async (ctx) =>
    judgeOverlayWithLower(await readMountinfo(), ctxPath(ctx, lower), ctx.dir, opts),
  );
}
