// The overlayfs picture: each overlay of the workspace as a stack (merged on top, upper with its
// counts, workdir, lowerdirs in order); wafers.ts draws its stacks with stackOf too. Which
// overlays are the workspace's is decided by the inventory, the same rule `workshop clean` uses.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckContext } from '../../checks/check.ts';
import { isReadOnly, mountsUnder, readMountinfo, type MountEntry } from '../../checks/mounts.ts';
import { findOverlays, judgeWhiteout, type FoundOverlay } from '../../checks/overlayfs.ts';
import { run } from '../../sys/exec.ts';
import { judgeOpaqueDir, parseGetfattr } from '../../checks/overlayfs-upper.ts';
import type { OverlayPicture, OverlayStack, UpperCounts } from '../../contract/state.ts';
import { isPathUnder } from '../../checks/proc.ts';
import { takeInventory } from '../inventory.ts';

/** Splits `getfattr -R --absolute-names -d` output into path → xattrs; parseGetfattr reads each block. Pure. */
export function parseGetfattrTree(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const block of text.split(/\n(?=# file: )/)) {
    const head = /^# file: (.*)$/m.exec(block);
    if (head?.[1] !== undefined) out.set(head[1], parseGetfattr(block));
  }
  return out;
}

/** The opaque directories under an upperdir: one recursive getfattr, not one per folder. */
async function opaqueDirsUnder(dir: string): Promise<string[]> {
  const r = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '\\.overlay\\.', dir], { timeoutMs: 10_000 });
  // getfattr exits 1 when one file cannot be read, and still prints the others.
  return [...parseGetfattrTree(r.stdout)].filter(([p, x]) => judgeOpaqueDir(x, p).ok).map(([p]) => p);
}

/** Files and whiteouts in an upperdir, without crossing into other file systems. */
async function countUpper(dir: string): Promise<UpperCounts> {
  const counts: UpperCounts = { files: 0, whiteouts: 0, opaqueDirs: 0 };
  const top = await lstat(dir).catch(() => null);
  if (top === null) return counts;
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => null);
      if (st === null) continue;
      if (st.isDirectory()) {
        if (st.dev === top.dev) await walk(p);
      } else if (judgeWhiteout(st, p).ok) counts.whiteouts++;
      else if (st.isFile() || st.isSymbolicLink()) counts.files++;
    }
  };
  await walk(dir);
  counts.opaqueDirs = (await opaqueDirsUnder(dir)).length;
  return counts;
}

export async function stackOf(o: FoundOverlay, table: readonly MountEntry[]): Promise<OverlayStack> {
  const up = o.layers.upperdir;
  return {
    merged: o.mount.mountPoint,
    mountId: o.mount.id,
    readOnly: isReadOnly(o.mount),
    upper: up === undefined ? null : { path: up, ...(await countUpper(up)) },
    workdir: o.layers.workdir ?? null,
    lowerdirs: o.layers.lowerdirs,
    inside: mountsUnder(table, o.mount.mountPoint)
      .filter((m) => m.id !== o.mount.id)
      .map((m) => ({ path: m.mountPoint, fsType: m.fsType })),
  };
}

/** The overlays that belong to this chapter: clean would remove them, and they touch its folder or a seed folder in /tmp. */
export async function chapterOverlays(ctx: CheckContext): Promise<{ overlays: FoundOverlay[]; table: MountEntry[] }> {
  const [table, inventory] = await Promise.all([readMountinfo(), takeInventory(ctx.home)]);
  const ours = new Set(inventory.filter((i) => i.kind === 'mount').map((i) => i.id));
  const touches = (o: FoundOverlay): boolean =>
    [o.mount.mountPoint, ...o.layers.lowerdirs, o.layers.upperdir ?? ''].some((p) => p !== '' && (isPathUnder(p, ctx.dir) || /^\/tmp\/[^/]+\//.test(p)));
  return { overlays: findOverlays(table, ctx.dir).filter((o) => ours.has(o.mount.mountPoint) && touches(o)), table };
}

/**
 * What is wrong with a stack on the chapter's image, as its checks see it: the image as the
 * upperdir (lower and upper swapped: writes would land in the image), or not among the lowerdirs.
 * A wrong piece is drawn as wrong, never left out. Pure.
 */
export function stackProblems(o: Pick<FoundOverlay, 'layers'>, image: { path: string; name: string }, imageExists: boolean): string[] {
  if (o.layers.upperdir === image.path) return [`upper is the image ${image.name}: lower and upper are swapped`];
  if (imageExists && !o.layers.lowerdirs.includes(image.path)) return [`the image ${image.name} is not a lower layer`];
  return [];
}

export async function describeOverlays(ctx: CheckContext, image = 'rootfs'): Promise<OverlayPicture> {
  const { overlays, table } = await chapterOverlays(ctx);
  const at = ctx.path(image);
  const there = (await lstat(at).catch(() => null))?.isDirectory() === true;
  return {
    family: 'overlayfs',
    stacks: await Promise.all(
      overlays.map(async (o) => {
        const problems = stackProblems(o, { path: at, name: image }, there);
        return { ...(await stackOf(o, table)), ...(problems.length > 0 ? { problems } : {}) };
      }),
    ),
  };
}
