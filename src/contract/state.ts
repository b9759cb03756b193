// The JSON shape of `workshop state --json`: what the probes found, per family of kernel objects.
// It belongs to no one layer: the engine probes it, render draws it, a chapter's `state` field
// (lessons/define.ts) names its families, and the classroom shows it; so it sits at the floor,
// beside errors.ts, where all of them may import it.
// The shape is a public contract (the classroom shows it too): add fields, never rename or remove
// them, and bump STATE_DOCUMENT_FORMAT when a change would break a reader.

/** Bumped only when a change would break a reader of the JSON. */
export const STATE_DOCUMENT_FORMAT = 1;

/** A family of kernel objects that `workshop state` can draw. */
export type StateFamily = 'chroot' | 'overlayfs' | 'wafers' | 'btrfs' | 'lvm' | 'namespaces' | 'networking' | 'cgroups';

/**
 * What a chapter asks `workshop state` to draw: a family, with the names it should look at when
 * they differ from the defaults. Paths are relative to the chapter folder.
 */
export type StateView =
  | { family: 'chroot'; /** default `rootfs` */ rootfs?: string }
  | { family: 'overlayfs'; /** the read-only image the stacks must have as a lower layer; default `rootfs` */ image?: string }
  | { family: 'wafers'; /** default `wafers` */ wafers?: string; /** default `machines` */ stacks?: string }
  | { family: 'btrfs' }
  | { family: 'lvm'; /** the volume group, e.g. `HostVG` */ vg: string; /** where boot entries live; default `boot/loader/entries` */ entries?: string }
  | { family: 'namespaces'; /** the hostname the container sets; default `container` */ hostname?: string; /** default `rootfs` */ rootfs?: string }
  | { family: 'networking' }
  | { family: 'cgroups' };

/** The view of one family, e.g. `ViewOf<'lvm'>`. */
export type ViewOf<F extends StateFamily> = Extract<StateView, { family: F }>;

/** A chapter's `state` field: one family name, one view, or several. */
export type StateSpec = StateFamily | StateView | ReadonlyArray<StateFamily | StateView>;

/** One piece of a picture that may be missing or wrong: `ok` is what the checks would accept. */
export interface Piece {
  /** what it is, e.g. `br0` */
  name: string;
  status: 'ok' | 'missing' | 'wrong';
  /** what was found, e.g. `10.0.0.1/16, UP`; empty when missing */
  actual: string;
  /** what the lesson expects, when status is not ok */
  expected?: string;
}

export interface ChrootPicture {
  family: 'chroot';
  rootfs: string;
  exists: boolean;
  /** bin, sbin, usr/bin, usr/sbin */
  folders: Array<{ path: string; present: boolean }>;
  busybox: { present: boolean; executable: boolean; static: boolean | null; detail: string };
  /** symlinks to /bin/busybox inside rootfs */
  applets: number;
  hello: { present: boolean; holdsNonce: boolean };
}

export interface UpperCounts {
  /** regular files and symlinks */
  files: number;
  /** character devices 0:0 */
  whiteouts: number;
  /** directories with trusted.overlay.opaque=y */
  opaqueDirs: number;
}

export interface OverlayStack {
  /** the mount point: the merged view */
  merged: string;
  /** mountinfo's mount id */
  mountId: number;
  readOnly: boolean;
  upper: ({ path: string } & UpperCounts) | null;
  workdir: string | null;
  /** top first, as the kernel stacks them */
  lowerdirs: string[];
  /** other file systems mounted inside merged, e.g. proc */
  inside: Array<{ path: string; fsType: string }>;
  /** what is wrong with the stack, as the chapter's checks see it (`upper is the image rootfs: lower and upper are swapped`); absent when nothing is */
  problems?: string[];
}

export interface OverlayPicture {
  family: 'overlayfs';
  stacks: OverlayStack[];
}

export interface Wafer {
  name: string;
  /** from its `parent` file; null for a base */
  parent: string | null;
  hasData: boolean;
  /** the stack mounted at STACKS/NAME, if it is an overlay */
  stack: OverlayStack | null;
  /** what is mounted at STACKS/NAME: an overlay stack, or a bind mount for a wafer without a parent */
  mounted: { at: string; fsType: string; bind: boolean } | null;
}

export interface WafersPicture {
  family: 'wafers';
  wafersDir: string;
  stacksDir: string;
  wafers: Wafer[];
}

export interface BtrfsSubvolume {
  /** the path relative to the mount */
  path: string;
  id: number;
  uuid: string | null;
  readOnly: boolean;
  /** the source a snapshot was taken of */
  parentUuid: string | null;
  /** the snapshot a received copy came from */
  receivedUuid: string | null;
}

export interface BtrfsImage {
  file: string;
  apparentBytes: number;
  allocatedBytes: number;
  btrfs: boolean;
  loops: Array<{ device: string; mountPoints: string[] }>;
}

export interface BtrfsPicture {
  family: 'btrfs';
  images: BtrfsImage[];
  /** per mounted store: its subvolumes */
  stores: Array<{ mountPoint: string; subvolumes: BtrfsSubvolume[]; error?: string }>;
  streams: Array<{ file: string; bytes: number; kind: 'full' | 'incremental'; uuid: string; parentUuid: string | null }>;
}

export interface LvmPicture {
  family: 'lvm';
  vg: string;
  /** false where the kernel has no device-mapper thin-pool target */
  available: boolean;
  reason?: string;
  pools: Array<{ name: string; dataPercent: number | null }>;
  volumes: Array<{ name: string; pool: string | null; origin: string | null; readOnly: boolean; active: boolean; skipsActivation: boolean; dataPercent: number | null }>;
  bootEntries: Array<{ file: string; root: string | null }>;
}

export type NsCell = 'own' | 'host';

export interface NsProcessRow {
  pid: number;
  name: string;
  /** one cell per namespace type: uts, pid, mnt, ipc, net, user, cgroup */
  ns: Record<string, NsCell>;
  root: string | null;
  hostname: string | null;
  /** outermost first: [4368, 1] */
  nspid: number[];
  /** `0 1000 1` per line */
  uidMap: string[];
}

export interface NamespacesPicture {
  family: 'namespaces';
  processes: NsProcessRow[];
}

export interface NetworkingPicture {
  family: 'networking';
  /** ws-net: the "internet" */
  internet: Piece[];
  /** ws-host's uplink to it */
  uplink: Piece[];
  /** ws-host: br0, ip_forward, MASQUERADE */
  host: Piece[];
  /** the veth: host end, container end */
  veth: Piece[];
  /** ws-box: address, lo, default route */
  box: Piece[];
}

export interface CgroupGroup {
  /** the group folder */
  path: string;
  version: 'v1' | 'v2';
  /** limit files that exist here: pids.max, memory.max / memory.limit_in_bytes */
  limits: Record<string, string>;
  /** pids.current, memory.current / memory.usage_in_bytes */
  usage: Record<string, string>;
  pids: number[];
}

export interface CgroupsPicture {
  family: 'cgroups';
  layout: 'v1' | 'v2';
  groups: CgroupGroup[];
}

export type Picture = ChrootPicture | OverlayPicture | WafersPicture | BtrfsPicture | LvmPicture | NamespacesPicture | NetworkingPicture | CgroupsPicture;

/** The picture of one family, e.g. `PictureOf<'wafers'>`. */
export type PictureOf<F extends StateFamily> = Extract<Picture, { family: F }>;

/** `workshop state --json`. */
export interface StateDocument {
  format: typeof STATE_DOCUMENT_FORMAT;
  chapter: string;
  /** the chapter folder */
  dir: string;
  pictures: Picture[];
}
