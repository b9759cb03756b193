// `workshop state` through the built CLI, as root: for each family, after `solve --through` the
// chapter's last step, the --json is compared with what the probes themselves report, and one
// screen per family is drawn in a real terminal (tmux) and captured.
import { spawnSync } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSubvolumeShow } from '../../src/checks/btrfs.ts';
import { runOk } from '../../src/sys/exec.ts';
import { parseLosetupJson } from '../../src/checks/loop.ts';
import { readMountinfo } from '../../src/checks/mounts.ts';
import { overlaysWithLower } from '../../src/checks/overlayfs.ts';
import type { BtrfsPicture, ChrootPicture, NetworkingPicture, OverlayPicture, StateDocument, WafersPicture, NamespacesPicture, CgroupsPicture } from '../../src/contract/state.ts';
import { hasTmux } from '../helpers/tmux.ts';
import { CLI, ESC, isRoot, LESSONS, NODE, openWorkshop, type Workshop } from '../helpers/workshop.ts';

// provision.sh installs tmux; where it is missing (a bare dev box) the screens are skipped, the JSON is still compared.
let ws: Workshop;
/** the links that the chroot test counted, for its screen */
let chrootLinks = 0;

beforeAll(async () => {
  ws = await openWorkshop('/tmp/ws-it-state-', { allowHost: true });
});
afterAll(async () => {
  await ws.dispose();
});

async function solvedState<T>(chapter: string, last: string, family: string): Promise<{ doc: StateDocument; pic: T; dir: string }> {
  expect((await ws.cli(['goto', chapter])).code).toBe(0);
  const solved = await ws.cli(['solve', `${chapter}/${last}`, '--through']);
  expect(solved.code, solved.stdout + solved.stderr).toBe(0);
  // solving the last step moves on to the next chapter, so name this one
  const r = await ws.cli(['state', chapter, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as StateDocument;
  const pic = doc.pictures.find((p) => p.family === family);
  expect(pic, `a ${family} picture`).toBeDefined();
  return { doc, pic: pic as T, dir: doc.dir };
}

/** Draws `workshop state` in a detached 100x60 tmux pane and returns the screen as text. */
function tmuxScreen(chapter: string): string {
  const session = `ws-state-${process.pid}`;
  const cmd = `${NODE} ${CLI} --lessons ${LESSONS} --home ${ws.home} --allow-host state ${chapter}; sleep 20`;
  spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '60', cmd], { env: { ...process.env, TERM: 'xterm-256color' } });
  try {
    for (let i = 0; i < 50; i++) {
      const screen = spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
      if (screen.includes('workshop state:') && screen.trim().split('\n').length > 3) {
        spawnSync('sleep', ['0.3']);
        return spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
      }
      spawnSync('sleep', ['0.2']);
    }
    throw new Error('workshop state never drew in tmux');
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
}

describe.skipIf(!isRoot)('workshop state, per family', () => {
  it.skipIf(!process.env['CI'])('has tmux in CI, so that every screen below is really drawn', () => {
    expect(hasTmux).toBe(true);
  });

  it('chroot: the folders, a static busybox, as many applets as there are links', async () => {
    const { pic, dir } = await solvedState<ChrootPicture>('chroot', 'cleanup-hello', 'chroot');
    const links = (await runOk('find', [join(dir, 'rootfs'), '-xdev', '-type', 'l', '-lname', '/bin/busybox'])).trim().split('\n').length;
    expect(pic).toMatchObject({ exists: true, applets: links, busybox: { present: true, executable: true, static: true }, hello: { present: false } });
    expect(pic.folders.every((f) => f.present)).toBe(true);
    chrootLinks = links;
  });
  it.runIf(hasTmux)('chroot: drawn in a terminal', () => {
    expect(tmuxScreen('chroot')).toMatch(new RegExp(`✔ ${chrootLinks} applets linked to /bin/busybox`));
  });

  it('overlayfs: the stack as mountinfo has it, with the upper counts of the steps', async () => {
    const { pic, dir } = await solvedState<OverlayPicture>('overlayfs', 'proc-leak', 'overlayfs');
    const table = await readMountinfo();
    const real = overlaysWithLower(table, 'rootfs', dir);
    expect(pic.stacks.map((s) => s.merged).sort()).toEqual(real.map((o) => o.mount.mountPoint).sort());
    const s = pic.stacks[0];
    expect(s?.lowerdirs).toEqual([join(dir, 'rootfs')]);
    expect(s?.upper).toMatchObject({ whiteouts: 1, opaqueDirs: 1 });
    expect(s?.inside.map((m) => m.fsType)).toContain('proc');
  });
  it.runIf(hasTmux)('overlayfs: drawn in a terminal, merged above upper above lower, without escapes', () => {
    const screen = tmuxScreen('overlayfs');
    expect(screen).not.toMatch(ESC);
    const lines = screen.split('\n');
    const at = (t: string) => lines.findIndex((l) => l.includes(t));
    expect(at('┌ merged')).toBeGreaterThan(0);
    expect(at('┌ merged')).toBeLessThan(at('├ upper'));
    expect(at('├ upper')).toBeLessThan(at('└ lower 1'));
  });

  it('wafers: the ancestry from the parent files, and which stacks are mounted', async () => {
    const { pic } = await solvedState<WafersPicture>('wafers', 'parentless', 'wafers');
    expect(pic.wafers.find((w) => w.name === 'archbase2')).toMatchObject({ parent: 'archbase', hasData: true });
    const mounted = (await readMountinfo()).filter((m) => m.mountPoint.startsWith(`${pic.stacksDir}/`)).map((m) => m.mountPoint);
    expect(pic.wafers.filter((w) => w.mounted).map((w) => w.mounted?.at).sort()).toEqual([...new Set(mounted)].sort());
    // the parentless step mounts archbase by itself, with a bind mount: no overlay stack
    expect(pic.wafers.find((w) => w.name === 'archbase')).toMatchObject({ stack: null, mounted: { bind: true } });
  });
  it.runIf(hasTmux)('wafers: drawn in a terminal', () => {
    expect(tmuxScreen('wafers')).toMatch(/└─ archbase[\s\S]*archbase2/);
  });

  it('btrfs: image → loop → mount as losetup says, subvolumes with the UUIDs btrfs shows, full and incremental streams', async () => {
    const { pic, dir } = await solvedState<BtrfsPicture>('btrfs', 'incremental', 'btrfs');
    const loops = parseLosetupJson(await runOk('losetup', ['-J', '-l'])).filter((l) => l.backFile === join(dir, 'store.img'));
    const img = pic.images.find((i) => i.file === join(dir, 'store.img'));
    expect(img?.loops.map((l) => l.device)).toEqual(loops.map((l) => l.name));
    const st = await stat(join(dir, 'store.img'));
    expect(img).toMatchObject({ apparentBytes: st.size, allocatedBytes: st.blocks * 512, btrfs: true });
    const subs = pic.stores[0]?.subvolumes ?? [];
    const snap = parseSubvolumeShow(await runOk('btrfs', ['subvolume', 'show', join(dir, 'store/base-snapshot')]));
    const base = parseSubvolumeShow(await runOk('btrfs', ['subvolume', 'show', join(dir, 'store/base')]));
    expect(subs.find((s) => s.path === 'base-snapshot')).toMatchObject({ readOnly: true, uuid: snap.uuid, parentUuid: base.uuid });
    expect(subs.find((s) => s.path === 'received/base-snapshot')).toMatchObject({ receivedUuid: snap.uuid });
    expect(pic.streams.map((s) => [s.file.split('/').pop(), s.kind])).toEqual([['base-img', 'full'], ['base-inc', 'incremental']]);
  });
  it.runIf(hasTmux)('btrfs: drawn in a terminal', () => {
    expect(tmuxScreen('btrfs')).toMatch(/store\.img[\s\S]*loop\d+ → store[\s\S]*base-snapshot \[ro\]/);
  });

  it('namespaces: the container of the last step has its own net namespace and hostname', async () => {
    const { pic } = await solvedState<NamespacesPicture>('namespaces', 'net', 'namespaces');
    const row = pic.processes.find((p) => p.ns['net'] === 'own');
    expect(row, JSON.stringify(pic.processes)).toMatchObject({ hostname: 'container' });
    // this test runs on the host (PID 1's links may be unreadable, as in a container sandbox)
    if (row) expect(await readlink(`/proc/${row.pid}/ns/net`)).not.toBe(await readlink('/proc/self/ns/net'));
  });
  it.runIf(hasTmux)('namespaces: drawn in a terminal', () => {
    expect(tmuxScreen('namespaces')).toMatch(/PID\s+name\s+uts\s+pid\s+mnt/);
  });

  it('networking: every piece of the lab is there; a veth taken off the bridge is drawn as wrong', async () => {
    const { pic } = await solvedState<NetworkingPicture>('networking', 'internet', 'networking');
    const all = [...pic.internet, ...pic.uplink, ...pic.host, ...pic.veth, ...pic.box];
    expect(all.filter((p) => p.status !== 'ok')).toEqual([]);
    const end = pic.veth[0]?.name.split(' ')[0] ?? 'veth0';
    expect((await ws.cli(['shell', 'host', '--', 'ip', 'link', 'set', end, 'nomaster'])).code).toBe(0);
    const after = JSON.parse((await ws.cli(['state', 'networking', '--json'])).stdout) as StateDocument;
    const net = after.pictures.find((p) => p.family === 'networking') as NetworkingPicture;
    expect(net.veth[0]).toMatchObject({ status: 'wrong', actual: expect.stringMatching(/no master/) });
  });
  it.runIf(hasTmux)('networking: drawn in a terminal', () => {
    expect(tmuxScreen('networking')).toMatch(/✘ veth0 \(ws-host\): no master, UP \(expected master br0, UP\)/);
  });

  it('cgroups: ws-demo with the limits of the steps and the container in it', async () => {
    const { pic } = await solvedState<CgroupsPicture>('cgroups', 'attach', 'cgroups');
    const pids = pic.groups.find((g) => g.path.endsWith('ws-demo') && 'pids.max' in g.limits);
    expect(pids?.limits['pids.max']).toBe('20');
    const procs = (await readdir(pids?.path ?? '/nonexistent').catch(() => [] as string[])).includes('cgroup.procs');
    expect(procs).toBe(true);
    expect(pids?.pids.length).toBeGreaterThan(0);
  });
  it.runIf(hasTmux)('cgroups: drawn in a terminal', () => {
    expect(tmuxScreen('cgroups')).toMatch(/ws-demo \(v[12]\)[\s\S]*pids\.max=20/);
  });
});
