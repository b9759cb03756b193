// `workshop state`: what the learner has really built, read by the probes the checks use. The
// chapter says which families to draw (ChapterDef.state); each family's probe lives in this folder.
import type { CheckContext } from '../../checks/check.ts';
import { STATE_FORMAT, type Picture, type StateDocument, type StateFamily, type StateSpec, type StateView } from '../../contract/state.ts';
import { describeBtrfs } from './btrfs.ts';
import { describeCgroups } from './cgroups.ts';
import { describeChroot } from './chroot.ts';
import { describeLvm } from './lvm.ts';
import { describeNetworking } from './networking.ts';
import { describeNamespaces } from './namespaces.ts';
import { describeOverlays } from './overlayfs.ts';
import { describeWafers } from './wafers.ts';

/** A family name alone means its defaults; lvm has no default VG, so it needs the object form. Pure. */
export function viewsOf(spec: StateSpec | undefined): StateView[] {
  if (spec === undefined) return [];
  const list: ReadonlyArray<StateFamily | StateView> = typeof spec === 'string' || !Array.isArray(spec) ? [spec as StateFamily | StateView] : spec;
  return list.map((v): StateView => (typeof v === 'string' ? (v === 'lvm' ? { family: 'lvm', vg: 'HostVG' } : ({ family: v } as StateView)) : v));
}

export function describeView(ctx: CheckContext, v: StateView): Promise<Picture> {
  switch (v.family) {
    case 'chroot':
      return describeChroot(ctx, v.rootfs);
    case 'overlayfs':
      return describeOverlays(ctx, v.image);
    case 'wafers':
      return describeWafers(ctx, v.wafers, v.stacks);
    case 'btrfs':
      return describeBtrfs(ctx);
    case 'lvm':
      return describeLvm(ctx, v.vg, v.entries);
    case 'namespaces':
      return describeNamespaces(ctx, v.hostname, v.rootfs);
    case 'networking':
      return describeNetworking();
    case 'cgroups':
      return describeCgroups();
  }
}

/** Probes every family of the chapter, in order. */
export async function describeState(ctx: CheckContext, spec: StateSpec | undefined): Promise<StateDocument> {
  const pictures: Picture[] = [];
  for (const v of viewsOf(spec)) pictures.push(await describeView(ctx, v));
  return { format: STATE_FORMAT, chapter: ctx.chapter, dir: ctx.dir, pictures };
}
