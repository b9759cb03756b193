// The wafers picture: the wafers' ancestry tree, read from their parent files, and what is
// mounted at each one's place in the stacks folder (an overlay stack, drawn as overlayfs draws it).
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckContext } from '../../checks/check.ts';
import { mountsAt } from '../../checks/mounts.ts';
import { parseParentFile } from '../../checks/wafers.ts';
import type { WafersPicture } from '../../contract/state.ts';
import { chapterOverlays, stackOf } from './overlayfs.ts';

export async function describeWafers(ctx: CheckContext, wafersRel = 'wafers', stacksRel = 'machines'): Promise<WafersPicture> {
  const wafersDir = ctx.path(wafersRel);
  const stacksDir = ctx.path(stacksRel);
  const { overlays, table } = await chapterOverlays(ctx);
  const names = (await readdir(wafersDir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const wafers = await Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(wafersDir, name, 'parent'), 'utf8').catch(() => null);
      const hasData = (await lstat(join(wafersDir, name, 'data')).catch(() => null))?.isDirectory() === true;
      // The topmost mount at STACKS/NAME is the one a process sees: an overlay, or a bind mount of
      // the wafer's data when it has no parent.
      const at = join(stacksDir, name);
      const top = mountsAt(table, at).at(-1);
      const o = overlays.filter((x) => x.mount.mountPoint === at && x.mount.id === top?.id).at(-1);
      const mounted = top ? { at, fsType: top.fsType, bind: top.fsType !== 'overlay' && top.root !== '/' } : null;
      return { name, parent: text === null ? null : parseParentFile(text), hasData, stack: o ? await stackOf(o, table) : null, mounted };
    }),
  );
  return { family: 'wafers', wafersDir, stacksDir, wafers };
}
