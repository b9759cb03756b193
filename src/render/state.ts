// Draws `workshop state`: one diagram per family, from the StateDocument. Colour follows the check
// table (green ok, red missing/wrong, dim for paths and details); without colour the text has no
// escape codes at all.
import type {
  BtrfsPicture, CgroupsPicture, ChrootPicture, LvmPicture, NamespacesPicture, NetworkingPicture, OverlayPicture, OverlayStack, Picture, Piece, StateDocument, WafersPicture,
} from '../contract/state.ts';
import { styler } from './style.ts';

type St = ReturnType<typeof styler>;

const rel = (p: string, dir: string): string => (p === dir ? '.' : p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p);
const mib = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const size = (n: number): string => (n >= 2 ** 20 ? mib(n) : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} B`);

function yes(st: St, good: boolean, text: string): string {
  return good ? `${st('green', '✔')} ${text}` : `${st('red', '✘')} ${text}`;
}

function chroot(p: ChrootPicture, dir: string, st: St): string[] {
  if (!p.exists) return [yes(st, false, `${rel(p.rootfs, dir)}/ does not exist yet`)];
  const missing = p.folders.filter((f) => !f.present).map((f) => f.path);
  const bb = p.busybox;
  return [
    `${st('bold', `${rel(p.rootfs, dir)}/`)}`,
    `├─ ${yes(st, missing.length === 0, missing.length === 0 ? 'bin sbin usr/bin usr/sbin' : `missing folders: ${missing.join(' ')}`)}`,
    `├─ ${yes(st, bb.present && bb.executable && bb.static === true, `bin/busybox: ${bb.present ? `${bb.detail}${bb.executable ? '' : ', not executable'}` : 'absent'}`)}`,
    `├─ ${yes(st, p.applets > 100, `${p.applets} applets linked to /bin/busybox`)}`,
    // HELLO.txt comes and goes with the steps (made in enter, removed in cleanup-hello): absent is no error.
    `└─ ${p.hello.present ? yes(st, p.hello.holdsNonce, `HELLO.txt: ${p.hello.holdsNonce ? 'holds the nonce' : 'there, without the nonce'}`) : `${st('dim', '·')} HELLO.txt: absent`}`,
  ];
}

function stack(s: OverlayStack, dir: string, st: St, indent = ''): string[] {
  const lines = [`${indent}┌ ${st('bold', 'merged')}   ${rel(s.merged, dir)}  ${st('dim', `(overlay, ${s.readOnly ? 'ro' : 'rw'}, mount ${s.mountId})`)}`];
  // a wrong stack is drawn as wrong: the problem under its mount, the wrong layer marked
  for (const p of s.problems ?? []) lines.push(`${indent}│ ${yes(st, false, st('red', p))}`);
  const wrong = (s.problems ?? []).length > 0;
  for (const m of s.inside) lines.push(`${indent}│   ${st('dim', `+ ${m.fsType} at ${rel(m.path, dir)}`)}`);
  if (s.upper) {
    const mark = wrong && /upperdir/.test((s.problems ?? []).join(' ')) ? ` ${st('red', '✘')}` : '';
    lines.push(`${indent}├ ${st('bold', 'upper')}    ${rel(s.upper.path, dir)}${mark}  ${st('cyan', `${count(s.upper.files, 'file')}, ${count(s.upper.whiteouts, 'whiteout')}, ${count(s.upper.opaqueDirs, 'opaque dir')}`)}`);
  } else lines.push(`${indent}├ ${st('bold', 'upper')}    ${st('yellow', '(none: read-only stack)')}`);
  lines.push(`${indent}├ ${st('bold', 'workdir')}  ${s.workdir ? rel(s.workdir, dir) : st('yellow', '(none)')}`);
  s.lowerdirs.forEach((l, i) => lines.push(`${indent}${i === s.lowerdirs.length - 1 ? '└' : '├'} ${st('bold', `lower ${i + 1}`)}  ${rel(l, dir)}`));
  return lines;
}

function overlay(p: OverlayPicture, dir: string, st: St): string[] {
  if (p.stacks.length === 0) return [yes(st, false, 'no overlay of this chapter is mounted')];
  return p.stacks.flatMap((s, i) => [...(i > 0 ? [''] : []), ...stack(s, dir, st)]);
}

function wafers(p: WafersPicture, dir: string, st: St): string[] {
  if (p.wafers.length === 0) return [yes(st, false, `no wafers in ${rel(p.wafersDir, dir)}/ yet`)];
  const children = (parent: string | null): WafersPicture['wafers'] => p.wafers.filter((w) => w.parent === parent || (parent === null && w.parent !== null && !p.wafers.some((x) => x.name === w.parent)));
  const lines: string[] = [`${st('bold', `${rel(p.wafersDir, dir)}/`)} ${st('dim', '(ancestry from the parent files)')}`];
  const walk = (parent: string | null, prefix: string, seen: Set<string>): void => {
    const kids = children(parent).filter((w) => !seen.has(w.name));
    kids.forEach((w, i) => {
      seen.add(w.name);
      const last = i === kids.length - 1;
      const mounted = w.stack
        ? st('green', `stacked at ${rel(w.stack.merged, dir)}`)
        : w.mounted
          ? st('green', `mounted at ${rel(w.mounted.at, dir)} (${w.mounted.bind ? 'a bind mount' : w.mounted.fsType})`)
          : st('dim', 'not stacked');
      const orphan = w.parent !== null && !p.wafers.some((x) => x.name === w.parent) ? st('red', ` (parent ${w.parent} is missing)`) : '';
      lines.push(`${prefix}${last ? '└─' : '├─'} ${w.name}${w.hasData ? '' : st('red', ' (no data/)')}${orphan}  ${mounted}`);
      walk(w.name, `${prefix}${last ? '   ' : '│  '}`, seen);
    });
  };
  walk(null, '', new Set());
  for (const w of p.wafers.filter((x) => x.stack)) if (w.stack) lines.push('', `${st('bold', w.name)}:`, ...stack(w.stack, dir, st, '  '));
  return lines;
}

function btrfs(p: BtrfsPicture, dir: string, st: St): string[] {
  const lines: string[] = [];
  if (p.images.length === 0) lines.push(yes(st, false, 'no btrfs image in the chapter folder yet'));
  for (const img of p.images) {
    const sparse = img.allocatedBytes < img.apparentBytes;
    lines.push(`${st('bold', rel(img.file, dir))}  ${mib(img.apparentBytes)} apparent, ${mib(img.allocatedBytes)} on disk ${sparse ? st('green', '(sparse)') : st('red', '(not sparse)')}${img.btrfs ? '' : st('red', ', no btrfs')}`);
    if (img.loops.length === 0) lines.push(`  └─ ${st('dim', 'no loop device')}`);
    img.loops.forEach((l, i) => {
      const where = l.mountPoints.length === 0 ? st('dim', 'not mounted') : l.mountPoints.map((m) => rel(m, dir)).join(', ');
      const twice = l.mountPoints.length > 1 ? st('yellow', ` (mounted ${l.mountPoints.length} times)`) : '';
      lines.push(`  ${i === img.loops.length - 1 ? '└' : '├'}─ ${l.device} → ${where}${twice}`);
    });
    if (img.loops.length > 1) lines.push(`  ${st('yellow', `! ${img.loops.length} loop devices on one image`)}`);
  }
  for (const s of p.stores) {
    lines.push('', `${st('bold', `${rel(s.mountPoint, dir)}/`)} ${st('dim', 'subvolumes')}`);
    if (s.error) lines.push(`  ${st('yellow', `! ${s.error}`)}`);
    const byUuid = new Map(s.subvolumes.filter((v) => v.uuid).map((v) => [v.uuid ?? '', v.path]));
    s.subvolumes.forEach((v, i) => {
      const links = [v.parentUuid ? `snapshot of ${byUuid.get(v.parentUuid) ?? v.parentUuid}` : '', v.receivedUuid ? `received from ${byUuid.get(v.receivedUuid) ?? v.receivedUuid}` : ''].filter((x) => x !== '');
      lines.push(`  ${i === s.subvolumes.length - 1 ? '└' : '├'}─ ${v.path} ${v.readOnly ? st('cyan', '[ro]') : '[rw]'}${links.length > 0 ? `  ${st('dim', links.join(', '))}` : ''}`);
    });
    if (s.subvolumes.length === 0 && !s.error) lines.push(`  └─ ${st('dim', '(none)')}`);
  }
  if (p.streams.length > 0) lines.push('', st('bold', 'send streams'));
  for (const s of p.streams) lines.push(`  ${rel(s.file, dir)}  ${size(s.bytes)}  ${s.kind === 'full' ? 'full' : st('cyan', 'incremental')}`);
  return lines;
}

function lvm(p: LvmPicture, dir: string, st: St): string[] {
  if (!p.available) return [`${st('yellow', '!')} no LVM picture here: ${p.reason ?? 'device-mapper is missing'}`, ...p.bootEntries.map((b) => `  boot entry ${rel(b.file, dir)} → root=${b.root ?? '?'}`)];
  const lines = [`${st('bold', `VG ${p.vg}`)}`];
  if (p.pools.length === 0) lines.push(`└─ ${st('red', '✘ no thin pool')}`);
  for (const pool of p.pools) {
    lines.push(`└─ pool ${pool.name}  ${pool.dataPercent === null ? '' : st('cyan', `data ${pool.dataPercent.toFixed(2)}%`)}`);
    const thin = p.volumes.filter((v) => v.pool === pool.name);
    thin.forEach((v, i) => {
      const flags = [v.readOnly ? 'ro' : 'rw', v.active ? 'active' : 'inactive', v.skipsActivation ? 'activation skip' : ''].filter((x) => x !== '').join(', ');
      lines.push(`   ${i === thin.length - 1 ? '└' : '├'}─ ${v.name} [${flags}]${v.origin ? st('dim', `  origin ${v.origin}`) : ''}`);
    });
  }
  for (const v of p.volumes.filter((x) => x.pool === null)) lines.push(`└─ ${v.name} [${v.readOnly ? 'ro' : 'rw'}]`);
  for (const b of p.bootEntries) lines.push(`boot entry ${rel(b.file, dir)} → root=${b.root ?? '?'}`);
  return lines;
}

function namespaces(p: NamespacesPicture, st: St): string[] {
  if (p.processes.length === 0) return [yes(st, false, 'no container process found (by hostname, root or place)')];
  const types = ['uts', 'pid', 'mnt', 'ipc', 'net', 'user', 'cgroup'];
  const head = `${'PID'.padEnd(8)}${'name'.padEnd(12)}${types.map((t) => t.padEnd(7)).join('')}hostname`;
  const rows = p.processes.map((r) => {
    const cells = types.map((t) => {
      const c = r.ns[t] ?? '-';
      return c === 'own' ? st('green', c.padEnd(7)) : st('dim', c.padEnd(7));
    });
    return `${String(r.pid).padEnd(8)}${r.name.slice(0, 11).padEnd(12)}${cells.join('')}${r.hostname ?? '?'}`;
  });
  const details = p.processes.map((r) => st('dim', `  ${r.pid}: root ${r.root ?? '?'}, NSpid ${r.nspid.join(' ')}, uid_map ${r.uidMap.join(' | ') || '(none)'}`));
  return [st('bold', head), ...rows, '', ...details];
}

function piece(p: Piece, st: St): string {
  if (p.status === 'ok') return `${st('green', '✔')} ${p.name}: ${p.actual}`;
  if (p.status === 'missing') return `${st('red', '✘')} ${p.name}: ${st('red', 'missing')} ${st('dim', `(expected ${p.expected ?? '?'})`)}`;
  return `${st('red', '✘')} ${p.name}: ${p.actual} ${st('dim', `(expected ${p.expected ?? '?'})`)}`;
}

function networking(p: NetworkingPicture, st: St): string[] {
  const block = (title: string, pieces: readonly Piece[]): string[] => [st('bold', title), ...pieces.map((x) => `  ${piece(x, st)}`)];
  const link = (pieces: readonly Piece[]): string => (pieces.every((x) => x.status === 'ok') ? '        │' : `        ${st('red', '╳')}`);
  return [
    ...block('ws-net  (the internet)', p.internet),
    link(p.uplink),
    ...block('uplink', p.uplink),
    link(p.uplink),
    ...block('ws-host  (the VM host)', p.host),
    link(p.veth),
    ...block('veth', p.veth),
    link(p.veth),
    ...block('ws-box  (the container)', p.box),
  ];
}

function cgroups(p: CgroupsPicture, st: St): string[] {
  if (p.groups.length === 0) return [yes(st, false, `no ws* cgroup (${p.layout})`)];
  return p.groups.flatMap((g) => [
    `${st('bold', g.path)} ${st('dim', `(${g.version})`)}`,
    `  limits  ${Object.entries(g.limits).map(([k, v]) => `${k}=${v}`).join('  ') || st('dim', '(none)')}`,
    `  usage   ${Object.entries(g.usage).map(([k, v]) => `${k}=${v}`).join('  ') || st('dim', '(none)')}`,
    `  pids    ${g.pids.join(' ') || st('dim', '(empty)')}`,
  ]);
}

const TITLES: Record<Picture['family'], string> = {
  chroot: 'the chroot',
  overlayfs: 'overlay stacks',
  wafers: 'wafers',
  btrfs: 'the btrfs store',
  lvm: 'LVM thin layers',
  namespaces: 'namespaces per process (own = not the host\'s)',
  networking: 'the lab network',
  cgroups: 'cgroups',
};

export function renderPicture(p: Picture, dir: string, st: St): string[] {
  switch (p.family) {
    case 'chroot':
      return chroot(p, dir, st);
    case 'overlayfs':
      return overlay(p, dir, st);
    case 'wafers':
      return wafers(p, dir, st);
    case 'btrfs':
      return btrfs(p, dir, st);
    case 'lvm':
      return lvm(p, dir, st);
    case 'namespaces':
      return namespaces(p, st);
    case 'networking':
      return networking(p, st);
    case 'cgroups':
      return cgroups(p, st);
  }
}

export function renderState(doc: StateDocument, color: boolean): string {
  const st = styler(color);
  if (doc.pictures.length === 0) return `Chapter ${doc.chapter} has nothing to draw: it builds no kernel objects that \`workshop state\` knows.`;
  const out = [`${st('bold', `workshop state: ${doc.chapter}`)}  ${st('dim', doc.dir)}`];
  for (const p of doc.pictures) out.push('', st('cyan', `── ${TITLES[p.family]} ──`), ...renderPicture(p, doc.dir, st));
  return out.join('\n');
}
