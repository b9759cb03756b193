// The check families: one entry per family of kernel objects that `workshop state` draws and
// `workshop clean` removes. An entry names where the family's probes live, how its picture is
// read (engine/state/X.ts) and drawn (render/state/X.ts), and which kinds of residue its objects
// leave. The `state` command and describeView look a family up here, never switch over the
// families: adding one is adding an entry (README, "Adding a check family").
import type { CheckContext } from '../checks/check.ts';
import type { PictureOf, StateFamily, ViewOf } from '../contract/state.ts';
import type { Drawer } from '../render/state/draw.ts';
import { drawBtrfs } from '../render/state/btrfs.ts';
import { drawCgroups } from '../render/state/cgroups.ts';
import { drawChroot } from '../render/state/chroot.ts';
import { drawLvm } from '../render/state/lvm.ts';
import { drawNamespaces } from '../render/state/namespaces.ts';
import { drawNetworking } from '../render/state/networking.ts';
import { drawOverlayfs } from '../render/state/overlayfs.ts';
import { drawWafers } from '../render/state/wafers.ts';
import type { ResidueKind } from './inventory.ts';
import { describeBtrfs } from './state/btrfs.ts';
import { describeCgroups } from './state/cgroups.ts';
import { describeChroot } from './state/chroot.ts';
import { describeLvm } from './state/lvm.ts';
import { describeNamespaces } from './state/namespaces.ts';
import { describeNetworking } from './state/networking.ts';
import { describeOverlays } from './state/overlayfs.ts';
import { describeWafers } from './state/wafers.ts';

export interface Family<F extends StateFamily> {
  /**
   * The modules of src/checks/ that hold its probes (the parsers, readers and checks its chapters
   * use), first the family's own, named after it. The pack API (src/lesson.ts) exports from each
   * (test/unit/families.test.ts).
   */
  readonly probes: readonly [string, ...string[]];
  /** What the bare family name means in a chapter's `state` field. */
  readonly view: ViewOf<F>;
  /** Reads its picture with the probes its checks use (engine/state/X.ts). */
  readonly describe: (ctx: CheckContext, view: ViewOf<F>) => Promise<PictureOf<F>>;
  /** The heading `workshop state` draws above its picture. */
  readonly title: string;
  /** Draws its picture (render/state/X.ts). */
  readonly draw: Drawer<PictureOf<F>>;
  /**
   * The kinds of residue its kernel objects leave, which `workshop clean` finds (engine/inventory.ts)
   * and removes, in the order of REMOVERS (engine/clean.ts); a kind may be several families'.
   */
  readonly residue: readonly ResidueKind[];
}

export const FAMILIES: { readonly [F in StateFamily]: Family<F> } = {
  chroot: {
    probes: ['chroot.ts', 'files.ts'],
    view: { family: 'chroot' },
    describe: (ctx, v) => describeChroot(ctx, v.rootfs),
    title: 'the chroot',
    draw: drawChroot,
    residue: ['mount', 'process'],
  },
  overlayfs: {
    probes: ['overlayfs.ts', 'overlayfs-upper.ts', 'mounts.ts'],
    view: { family: 'overlayfs' },
    describe: (ctx, v) => describeOverlays(ctx, v.image),
    title: 'overlay stacks',
    draw: drawOverlayfs,
    residue: ['mount', 'tmpdir'],
  },
  wafers: {
    probes: ['wafers.ts', 'overlayfs.ts'],
    view: { family: 'wafers' },
    describe: (ctx, v) => describeWafers(ctx, v.wafers, v.stacks),
    title: 'wafers',
    draw: drawWafers,
    residue: ['mount'],
  },
  btrfs: {
    probes: ['btrfs.ts', 'loop.ts'],
    view: { family: 'btrfs' },
    describe: (ctx) => describeBtrfs(ctx),
    title: 'the btrfs store',
    draw: drawBtrfs,
    residue: ['mount', 'loop'],
  },
  lvm: {
    probes: ['lvm.ts', 'loop.ts'],
    // lvm has no default volume group in the contract; the chapters' is HostVG
    view: { family: 'lvm', vg: 'HostVG' },
    describe: (ctx, v) => describeLvm(ctx, v.vg, v.entries),
    title: 'LVM thin layers',
    draw: drawLvm,
    residue: ['mount', 'loop'],
  },
  namespaces: {
    probes: ['namespaces.ts', 'proc.ts'],
    view: { family: 'namespaces' },
    describe: (ctx, v) => describeNamespaces(ctx, v.hostname, v.rootfs),
    title: "namespaces per process (own = not the host's)",
    draw: drawNamespaces,
    residue: ['process', 'mount', 'tmpdir'],
  },
  networking: {
    probes: ['networking.ts', 'iptables.ts', 'lab.ts'],
    view: { family: 'networking' },
    describe: () => describeNetworking(),
    title: 'the lab network',
    draw: drawNetworking,
    residue: ['netns', 'link'],
  },
  cgroups: {
    probes: ['cgroups.ts'],
    view: { family: 'cgroups' },
    describe: () => describeCgroups(),
    title: 'cgroups',
    draw: drawCgroups,
    residue: ['cgroup'],
  },
};

/** A family's entry, typed by its name (the correlated look-up that replaces a switch). */
export const familyOf = <F extends StateFamily>(family: F): Family<F> => FAMILIES[family];
