// What the draft says about each recorded object (diff.ts): the check of the library that proves
// it, with its parameters; the mutants (drop it; change one parameter to a near value), each
// diagnosed by that check's own failure row; and the statements that remove it. Code is emitted
// as TypeScript text for the draft's steps.ts; the same check specs are built here as real checks,
// so that a mutant's diagnosis is the name the check will print. Pure.
import { isAbsolute, relative } from 'node:path';
import { loopMountOf, isSubvolume, subvolumeIsReadOnly, subvolumeIsWritable } from '../../checks/btrfs.ts';
import type { Check } from '../../checks/check.ts';
import { cgroupExists, cgroupLimit } from '../../checks/cgroup-objects.ts';
import { directoryExists, fileExists } from '../../checks/files.ts';
import { processRunning } from '../../checks/proc-objects.ts';
import { mountedAt } from '../../checks/mounts.ts';
import { addressOn, linkIn, natRule, netnsExists, routeVia, type LinkExpectation } from '../../checks/net-objects.ts';
import { overlayMounted, overlayWithLowerMounted, type OverlayExpectation } from '../../checks/overlayfs.ts';
import { isPathUnder } from '../../checks/proc.ts';
import type { Change } from './diff.ts';
import type { LoopObj, MountObj } from './snapshot.ts';

/** A check of the library with its arguments: emitted as `fn(args…)` and built as the real check. */
export type CheckSpec =
  | { fn: 'overlayMounted'; args: [string, OverlayExpectation] }
  | { fn: 'overlayWithLowerMounted'; args: [string, { writable?: boolean }] }
  | { fn: 'mountedAt'; args: [string, { fsType?: string }] }
  | { fn: 'loopMountOf'; args: [string, string] }
  | { fn: 'isSubvolume' | 'subvolumeIsReadOnly' | 'subvolumeIsWritable' | 'fileExists' | 'directoryExists' | 'netnsExists'; args: [string] }
  | { fn: 'linkIn'; args: [string, string, LinkExpectation] }
  | { fn: 'addressOn' | 'routeVia'; args: [string, string, string] }
  | { fn: 'natRule'; args: [string, string] }
  | { fn: 'cgroupExists'; args: [string] }
  | { fn: 'cgroupLimit'; args: [string, string, string] }
  | { fn: 'processRunning'; args: [string, string[]] };

/** The real check a spec stands for: its name is what the learner's row shows. */
export function buildCheck(s: CheckSpec): Check {
  switch (s.fn) {
    case 'overlayMounted': return overlayMounted(...s.args);
    case 'overlayWithLowerMounted': return overlayWithLowerMounted(...s.args);
    case 'mountedAt': return mountedAt(...s.args);
    case 'loopMountOf': return loopMountOf(...s.args);
    case 'isSubvolume': return isSubvolume(...s.args);
    case 'subvolumeIsReadOnly': return subvolumeIsReadOnly(...s.args);
    case 'subvolumeIsWritable': return subvolumeIsWritable(...s.args);
    case 'fileExists': return fileExists(...s.args);
    case 'directoryExists': return directoryExists(...s.args);
    case 'netnsExists': return netnsExists(...s.args);
    case 'linkIn': return linkIn(...s.args);
    case 'addressOn': return addressOn(...s.args);
    case 'routeVia': return routeVia(...s.args);
    case 'natRule': return natRule(...s.args);
    case 'cgroupExists': return cgroupExists(...s.args);
    case 'cgroupLimit': return cgroupLimit(...s.args);
    case 'processRunning': return processRunning(...s.args);
  }
}

/** A TypeScript literal of a string, number, boolean or plain object of them. */
export function lit(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
  if (Array.isArray(v)) return `[${v.map(lit).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${k}: ${lit(x)}`).join(', ')} }`;
  }
  return String(v);
}

export const checkCode = (s: CheckSpec): string => `${s.fn}(${s.args.map(lit).join(', ')})`;

/** A shell command for `ctx.$` (cwd: the chapter folder): `%` marks each argument, given in order and quoted by zx. */
export function shellCode(template: string, args: readonly string[], opts: { nothrow?: boolean } = {}): string {
  let i = 0;
  const body = template.replace(/%/g, () => `\${${lit(args[i++] ?? '')}}`);
  return `await ctx.$\`${body}\`${opts.nothrow === true ? '.nothrow()' : ''};`;
}

export interface DraftMutant {
  /** kebab-case, e.g. `drop-store-base` */
  name: string;
  /** the statements of its apply (ctx: SolveContext) */
  code: string[];
  /** the check whose failing row names the mistake */
  check: CheckSpec;
}

/** When the cleanup runs a statement: links and rules first, then mounts inside out, then files. */
export type CleanStage = 0 | 1 | 2 | 3 | 4 | 5;

export interface DraftItem {
  /** as a learner reads it: `the overlay on rootfs, at /tmp/…/overlay` */
  what: string;
  checks: CheckSpec[];
  mutants: DraftMutant[];
  /** statements that remove it, idempotent */
  clean: Array<{ stage: CleanStage; order: number; code: string }>;
  /** names from workshop/lesson the code uses besides the checks */
  uses: string[];
  /** the helper of the draft it needs (tmpShaped: /tmp folders of the same shape) */
  helpers: Array<'tmpShaped'>;
}

/** A path as the draft writes it: relative to the chapter folder when it is inside it. */
export const shownPath = (dir: string, p: string): string => (isAbsolute(p) && isPathUnder(p, dir) ? relative(dir, p) || '.' : p);
const slug = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'it';

/** The next address of a CIDR: 10.0.0.1/16 → 10.0.0.2/16 (a near value that is still valid). */
export function nearCidr(cidr: string): string {
  const [ip, len] = cidr.split('/');
  const parts = (ip ?? '').split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n))) return cidr;
  const last = parts[3] ?? 0;
  parts[3] = last >= 254 ? last - 1 : last + 1;
  return `${parts.join('.')}/${len ?? '32'}`;
}

const empty = (what: string): DraftItem => ({ what, checks: [], mutants: [], clean: [], uses: [], helpers: [] });

function overlayItem(m: MountObj, dir: string, isNew: boolean): DraftItem {
  const o = m.overlay ?? { lowerdirs: [], upperdir: null, workdir: null };
  const lower = o.lowerdirs.find((p) => isPathUnder(p, dir));
  const writable = !m.readOnly && o.upperdir !== null;
  const item = empty('');
  if (isPathUnder(m.mountPoint, dir) || lower === undefined) {
    const at = shownPath(dir, m.mountPoint);
    const expect: OverlayExpectation = { lower: o.lowerdirs.map((p) => shownPath(dir, p)), writable };
    if (o.upperdir !== null && isPathUnder(o.upperdir, dir)) expect.upper = shownPath(dir, o.upperdir);
    if (o.workdir !== null && isPathUnder(o.workdir, dir)) expect.work = shownPath(dir, o.workdir);
    item.what = `the overlay at ${at} (lowerdir ${expect.lower?.join(':') ?? ''}${writable ? ', writable' : ', read-only'})`;
    item.checks.push({ fn: 'overlayMounted', args: [at, expect] });
    const umount = shellCode('umount %', [at], { nothrow: true });
    if (isNew) item.mutants.push({ name: `drop-overlay-${slug(at)}`, code: [shellCode('umount %', [at])], check: item.checks[0] as CheckSpec });
    if (writable) item.mutants.push({ name: `read-only-overlay-${slug(at)}`, code: [shellCode('mount -o remount,ro %', [at])], check: item.checks[0] as CheckSpec });
    if (isNew) item.clean.push({ stage: 2, order: at.length, code: umount });
    return item;
  }
  // Mounted outside the chapter folder (the seed's /tmp/$nonce): found by its lower layer, as chapter 02 finds it.
  const low = shownPath(dir, lower);
  const each = (stmt: string) => `for (const o of overlaysWithLower(await readMountinfo(), ctx.path(${lit(low)}), ctx.dir)) ${stmt}`;
  item.what = `an overlay on ${low} (at ${m.mountPoint}${writable ? ', writable' : ', read-only'})`;
  item.uses.push('overlaysWithLower', 'readMountinfo');
  const check: CheckSpec = { fn: 'overlayWithLowerMounted', args: [low, writable ? { writable: true } : {}] };
  item.checks.push(check);
  if (isNew) item.mutants.push({ name: `drop-overlay-on-${slug(low)}`, code: [each('await ctx.$`umount ${o.mount.mountPoint}`;')], check });
  if (writable) item.mutants.push({ name: `read-only-overlay-on-${slug(low)}`, code: [each('await ctx.$`mount -o remount,ro ${o.mount.mountPoint}`;')], check });
  if (isNew) item.clean.push({ stage: 2, order: 1000, code: each('await ctx.$`umount ${o.mount.mountPoint}`.nothrow();') });
  return item;
}

function mountItem(m: MountObj, dir: string, loops: readonly LoopObj[], isNew: boolean): DraftItem {
  if (m.fsType === 'overlay') return overlayItem(m, dir, isNew);
  const at = shownPath(dir, m.mountPoint);
  const loop = loops.find((l) => l.name === m.source);
  const check: CheckSpec = loop && m.fsType === 'btrfs' ? { fn: 'loopMountOf', args: [at, shownPath(dir, loop.backFile)] } : { fn: 'mountedAt', args: [at, { fsType: m.fsType }] };
  const item = empty(loop ? `${m.fsType} at ${at}, on a loop device backed by ${shownPath(dir, loop.backFile)}` : `${m.fsType} mounted at ${at}`);
  item.checks.push(check);
  if (isNew) {
    item.mutants.push({ name: `drop-mount-${slug(at)}`, code: [shellCode('umount %', [at])], check });
    item.clean.push({ stage: 2, order: at.length, code: shellCode('umount %', [at], { nothrow: true }) });
  }
  return item;
}

function subvolumeItem(store: string, path: string, readOnly: boolean, dir: string, isNew: boolean): DraftItem {
  const p = shownPath(dir, `${store}/${path}`);
  const item = empty(`the ${readOnly ? 'read-only ' : ''}btrfs subvolume ${p}`);
  const exists: CheckSpec = { fn: 'isSubvolume', args: [p] };
  item.checks.push(exists);
  if (isNew) item.mutants.push({ name: `drop-subvolume-${slug(p)}`, code: [shellCode('btrfs subvolume delete %', [p])], check: exists });
  if (readOnly) {
    const ro: CheckSpec = { fn: 'subvolumeIsReadOnly', args: [p] };
    item.checks.push(ro);
    item.mutants.push({ name: `writable-${slug(p)}`, code: [shellCode('btrfs property set -ts % ro false', [p])], check: ro });
  } else if (!isNew) {
    item.checks.push({ fn: 'subvolumeIsWritable', args: [p] });
  }
  if (isNew) item.clean.push({ stage: 1, order: p.length, code: shellCode('btrfs subvolume delete %', [p], { nothrow: true }) });
  return item;
}

function linkItem(c: Extract<Change, { kind: 'link' }>): DraftItem {
  const { ns, ifname, kind, master, up } = c.obj;
  const want: LinkExpectation = {};
  if (kind !== null) want.kind = kind;
  if (master !== null) want.master = master;
  if (up) want.up = true;
  const check: CheckSpec = { fn: 'linkIn', args: [ns, ifname, want] };
  const item = empty(`the ${kind ?? 'link'} ${ifname} in ${ns}${master ? `, a port of ${master}` : ''}${up ? ', up' : ''}`);
  item.checks.push(check);
  const id = slug(`${ifname}-${ns}`);
  if (c.change === 'new') item.mutants.push({ name: `drop-link-${id}`, code: [shellCode('ip -n % link del %', [ns, ifname])], check });
  if (up) item.mutants.push({ name: `down-${id}`, code: [shellCode('ip -n % link set % down', [ns, ifname])], check });
  if (master !== null) item.mutants.push({ name: `no-master-${id}`, code: [shellCode('ip -n % link set % nomaster', [ns, ifname])], check });
  if (c.change === 'new') item.clean.push({ stage: 0, order: 1, code: shellCode('ip -n % link del %', [ns, ifname], { nothrow: true }) });
  return item;
}

function netItem(c: Extract<Change, { kind: 'netns' | 'addr' | 'route' | 'rule' }>): DraftItem {
  const isNew = c.change === 'new';
  if (c.kind === 'netns') {
    const check: CheckSpec = { fn: 'netnsExists', args: [c.obj.name] };
    const item = empty(`the network namespace ${c.obj.name}`);
    item.checks.push(check);
    if (isNew) {
      item.mutants.push({ name: `drop-netns-${slug(c.obj.name)}`, code: [shellCode('ip netns del %', [c.obj.name])], check });
      item.clean.push({ stage: 0, order: 0, code: shellCode('ip netns del %', [c.obj.name], { nothrow: true }) });
    }
    return item;
  }
  if (c.kind === 'addr') {
    const { ns, ifname, cidr } = c.obj;
    const check: CheckSpec = { fn: 'addressOn', args: [ns, ifname, cidr] };
    const item = empty(`${cidr} on ${ifname} in ${ns}`);
    item.checks.push(check);
    const id = slug(`${ifname}-${ns}`);
    item.mutants.push({ name: `drop-address-${id}`, code: [shellCode('ip -n % addr del % dev %', [ns, cidr, ifname])], check });
    const near = nearCidr(cidr);
    if (near !== cidr) item.mutants.push({ name: `near-address-${id}`, code: [shellCode('ip -n % addr del % dev %', [ns, cidr, ifname]), shellCode('ip -n % addr add % dev %', [ns, near, ifname])], check });
    item.clean.push({ stage: 0, order: 2, code: shellCode('ip -n % addr del % dev %', [ns, cidr, ifname], { nothrow: true }) });
    return item;
  }
  if (c.kind === 'route') {
    const { ns, dst, gateway } = c.obj;
    const check: CheckSpec = { fn: 'routeVia', args: [ns, dst, gateway] };
    const item = empty(`the route ${dst} via ${gateway} in ${ns}`);
    item.checks.push(check);
    item.mutants.push({ name: `drop-route-${slug(`${dst}-${ns}`)}`, code: [shellCode('ip -n % route del %', [ns, dst])], check });
    item.clean.push({ stage: 0, order: 3, code: shellCode('ip -n % route del %', [ns, dst], { nothrow: true }) });
    return item;
  }
  const { ns, rule } = c.obj;
  const check: CheckSpec = { fn: 'natRule', args: [ns, rule] };
  const item = empty(`the nat rule ${rule} in ${ns}`);
  item.checks.push(check);
  const del = `iptables -t nat ${rule.replace(/^-A /, '-D ')}`;
  item.mutants.push({ name: `drop-rule-${slug(`${rule}-${ns}`).slice(0, 40)}`, code: [shellCode('ip netns exec % bash -c %', [ns, del])], check });
  item.clean.push({ stage: 0, order: 4, code: shellCode('ip netns exec % bash -c %', [ns, del], { nothrow: true }) });
  return item;
}

/** A near limit: one more, or one page more for a size in bytes. */
export const nearLimit = (v: string): string | null => (/^\d+$/.test(v) ? String(Number(v) + (Number(v) >= 65536 ? 4096 : 1)) : null);

/** Kills the cgroup's processes (the step's own), then removes it once they have left. */
const REMOVE_CGROUP = 'for p in $(cat "$1/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done; for i in $(seq 50); do rmdir "$1" 2>/dev/null && exit 0; [ -d "$1" ] || exit 0; sleep 0.1; done; exit 1';

function cgroupItem(c: Extract<Change, { kind: 'cgroup' }>): DraftItem {
  const { path, limits } = c.obj;
  const item = empty(`the cgroup ${path}${Object.keys(limits).length > 0 ? ` with ${Object.entries(limits).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`);
  const exists: CheckSpec = { fn: 'cgroupExists', args: [path] };
  item.checks.push(exists);
  const id = slug(path.split('/').slice(-2).join('-'));
  if (c.change === 'new') {
    item.mutants.push({ name: `drop-cgroup-${id}`, code: [shellCode('bash -c % _ %', [REMOVE_CGROUP, path])], check: exists });
    item.clean.push({ stage: 0, order: 5, code: shellCode('bash -c % _ %', [REMOVE_CGROUP, path], { nothrow: true }) });
  }
  for (const [file, value] of Object.entries(limits)) {
    const check: CheckSpec = { fn: 'cgroupLimit', args: [path, file, value] };
    item.checks.push(check);
    const near = nearLimit(value);
    if (near !== null) item.mutants.push({ name: `near-${slug(file)}-${id}`, code: [shellCode('bash -c % _ % %', ['echo "$2" > "$1"', `${path}/${file}`, near])], check });
  }
  return item;
}

/** Stops the step's `name` processes started from the chapter folder, and waits until they are gone. */
const stopCode = (name: string, nothrow: boolean): string =>
  `for (const p of (await processesFrom(ctx.dir)).filter((x) => x.name === ${lit(name)})) await ctx.$\`kill -9 \${p.pid}; while kill -0 \${p.pid} 2>/dev/null && ! grep -q '^State:.*Z' /proc/\${p.pid}/status; do sleep 0.05; done\`${nothrow ? '.nothrow()' : ''};`;

function processItem(c: Extract<Change, { kind: 'process' }>): DraftItem {
  const { name, ownNamespaces } = c.obj;
  const item = empty(`a ${name} process started from the chapter folder${ownNamespaces.length > 0 ? `, in its own ${ownNamespaces.join(', ')} namespaces` : ''}`);
  const check: CheckSpec = { fn: 'processRunning', args: [name, ownNamespaces] };
  item.checks.push(check);
  item.uses.push('processesFrom');
  item.mutants.push({ name: `stop-${slug(name)}`, code: [stopCode(name, false)], check });
  item.clean.push({ stage: 0, order: 6, code: stopCode(name, true) });
  return item;
}

function fileItem(path: string, type: 'file' | 'dir' | 'symlink' | 'other', nested: boolean): DraftItem {
  const item = empty(`${type === 'dir' ? 'the folder' : 'the file'} ${path}`);
  // a file inside a new folder goes with the folder
  if (!nested) item.clean.push({ stage: 4, order: 0, code: shellCode('rm -rf %', [path], { nothrow: true }) });
  if (type !== 'file' && type !== 'dir') return item;
  const check: CheckSpec = { fn: type === 'dir' ? 'directoryExists' : 'fileExists', args: [path] };
  item.checks.push(check);
  item.mutants.push({ name: `drop-${slug(path)}`, code: [shellCode('rm -rf %', [path])], check });
  return item;
}

/** One recorded change as the draft's checks, mutants and cleanup; `all` is every change of the recording. */
export function draftItem(c: Change, dir: string, loops: readonly LoopObj[], all: readonly Change[] = []): DraftItem {
  const isNew = c.change === 'new';
  switch (c.kind) {
    case 'mount': return mountItem(c.obj, dir, loops, isNew);
    case 'subvolume': return subvolumeItem(c.obj.store, c.obj.path, c.obj.readOnly, dir, isNew);
    case 'link': return linkItem(c);
    case 'netns': case 'addr': case 'route': case 'rule': return netItem(c);
    case 'cgroup': return cgroupItem(c);
    case 'process': return processItem(c);
    case 'file': return fileItem(c.obj.path, c.obj.type, all.some((o) => o.kind === 'file' && o.obj.type === 'dir' && c.obj.path.startsWith(`${o.obj.path}/`)));
    case 'loop': {
      // its mount's check covers it; the cleanup detaches it by its backing file, whatever its number
      const file = shownPath(dir, c.obj.backFile);
      const item = empty(`the loop device backed by ${file}`);
      item.uses.push('readLoopDevices');
      if (isNew) item.clean.push({ stage: 3, order: 0, code: `for (const l of (await readLoopDevices()).filter((x) => x.backFile === ctx.path(${lit(file)}))) await ctx.$\`losetup -d \${l.name}\`.nothrow();` });
      return item;
    }
    case 'tmp': {
      // a random name (the seed's /tmp/$nonce): removed by its shape, made since the chapter started
      const item = empty(`a folder in /tmp holding ${c.obj.children.join(', ') || 'nothing'}`);
      item.helpers.push('tmpShaped');
      item.clean.push({ stage: 5, order: 0, code: `for (const d of await tmpShaped(ctx, ${lit(c.obj.children)})) await ctx.$\`rm -rf \${d}\`;` });
      return item;
    }
  }
}
