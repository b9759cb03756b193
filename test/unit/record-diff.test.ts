// workshop record's diff (engine/record/diff.ts) on snapshots recorded on this machine
// (test/fixtures/record/capture.ts): before and after the scripts of overlayfs/mount,
// btrfs/snapshot and networking/veth.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffSnapshots, NESTED_FILES, topNewFiles, type Change } from '../../src/engine/record/diff.ts';
import type { KernelSnapshot } from '../../src/engine/record/snapshot.ts';

const fixture = (name: string): { before: KernelSnapshot; after: KernelSnapshot } =>
  JSON.parse(readFileSync(new URL(`../fixtures/record/${name}.json`, import.meta.url), 'utf8')) as { before: KernelSnapshot; after: KernelSnapshot };
const summary = (changes: readonly Change[]): string[] => changes.map((c) => `${c.change} ${c.kind} ${JSON.stringify(c.obj)}`);

describe('diffSnapshots', () => {
  it('overlayfs/mount: the overlay with its layers, the rootfs folder and the file written in it (not its folders), and the /tmp folder that holds the overlay', () => {
    const { before, after } = fixture('overlayfs');
    const changes = diffSnapshots(before, after);
    expect(changes.map((c) => c.kind)).toEqual(['mount', 'file', 'file', 'tmp']);
    const [mount, file, motd, tmp] = changes;
    expect(motd?.obj).toEqual({ path: 'rootfs/etc/motd', type: 'file' });
    expect(mount?.kind === 'mount' && mount.obj.overlay).toEqual({ lowerdirs: [`${after.dir}/rootfs`], upperdir: expect.stringMatching(/^\/tmp\/\w{10}\/upper$/), workdir: expect.stringMatching(/^\/tmp\/\w{10}\/workdir$/) });
    expect(file?.obj).toEqual({ path: 'rootfs', type: 'dir' });
    expect(tmp?.obj).toEqual({ path: expect.stringMatching(/^\/tmp\/\w{10}$/), children: ['overlay', 'upper', 'workdir'] });
    // the recording's own folder changed in /tmp too: it holds no mount, so it is not the step's
    expect(after.tmp.some((t) => t.path === after.dir)).toBe(true);
    expect(changes.some((c) => c.kind === 'tmp' && c.obj.path === after.dir)).toBe(false);
  });

  it('btrfs/snapshot: the loop device, the store mount, both subvolumes with their ro flag, and the image (the store folder is a mount point)', () => {
    const { before, after } = fixture('btrfs');
    expect(summary(diffSnapshots(before, after))).toEqual([
      `new loop {"name":"/dev/loop0","backFile":"${after.dir}/store.img"}`,
      `new mount {"mountPoint":"${after.dir}/store","fsType":"btrfs","source":"/dev/loop0","readOnly":false}`,
      `new subvolume {"store":"${after.dir}/store","path":"base","readOnly":false}`,
      `new subvolume {"store":"${after.dir}/store","path":"base-snapshot","readOnly":true}`,
      'new file {"path":"store.img","type":"file"}',
    ]);
  });

  it("networking/veth: ws-box, both veth ends, br0 and its address; not the lab's own links, routes or the new namespace's lo", () => {
    const { before, after } = fixture('veth');
    expect(summary(diffSnapshots(before, after))).toEqual([
      'new netns {"name":"ws-box"}',
      'new link {"ns":"ws-box","ifname":"veth1","kind":"veth","master":null,"up":false}',
      'new link {"ns":"ws-host","ifname":"br0","kind":"bridge","master":null,"up":true}',
      'new link {"ns":"ws-host","ifname":"veth0","kind":"veth","master":"br0","up":true}',
      'new addr {"ns":"ws-host","ifname":"br0","cidr":"10.0.0.1/16"}',
    ]);
  });

  it('cgroups: a new ws cgroup with the limit that was set; a member count that changes alone is no change', () => {
    const { before, after } = fixture('cgroups');
    expect(summary(diffSnapshots(before, after))).toEqual(['new cgroup {"path":"/sys/fs/cgroup/pids/ws-rec-demo","limits":{"pids.max":"20"},"members":0}']);
    const busier: KernelSnapshot = { ...after, cgroups: (after.cgroups ?? []).map((g) => ({ ...g, members: 3 })) };
    expect(diffSnapshots(after, busier)).toEqual([]);
    const raised: KernelSnapshot = { ...after, cgroups: (after.cgroups ?? []).map((g) => ({ ...g, limits: { 'pids.max': '30' } })) };
    expect(summary(diffSnapshots(after, raised))).toEqual(['changed cgroup {"path":"/sys/fs/cgroup/pids/ws-rec-demo","limits":{"pids.max":"30"},"members":0}']);
  });

  it('processes: the background process the step started from the chapter folder, with its own namespaces', () => {
    const { before, after } = fixture('processes');
    expect(summary(diffSnapshots(before, after))).toEqual(['new process {"name":"sleep","ownNamespaces":["mnt","uts"]}', 'new file {"path":"holder.pid","type":"file"}', 'new file {"path":"rootfs","type":"dir"}']);
  });

  it('reports a changed parameter as changed, and nothing for equal snapshots', () => {
    const { after } = fixture('btrfs');
    expect(diffSnapshots(after, after)).toEqual([]);
    const flipped: KernelSnapshot = { ...after, subvolumes: after.subvolumes.map((s) => (s.path === 'base' ? { ...s, readOnly: true } : s)) };
    expect(summary(diffSnapshots(after, flipped))).toEqual([`changed subvolume {"store":"${after.dir}/store","path":"base","readOnly":true}`]);
  });

  it('keeps a new /tmp folder only when it holds a new mount: another program\'s folder made meanwhile is not the step\'s', () => {
    const { before, after } = fixture('overlayfs');
    const other = { path: '/tmp/ws-someone-else', children: [] };
    const changes = diffSnapshots(before, { ...after, tmp: [...after.tmp, other] });
    expect(changes.filter((c) => c.kind === 'tmp').map((c) => c.obj)).toHaveLength(1);
    expect(diffSnapshots(before, { ...after, mounts: [], tmp: [...after.tmp, other] }).filter((c) => c.kind === 'tmp')).toEqual([]);
  });
});

describe('topNewFiles', () => {
  const mounts = [{ mountPoint: '/d/store', fsType: 'btrfs', source: '/dev/loop0', readOnly: false }];
  it('gives a new folder once with the files written in it, and leaves out mount points and what lies inside new mounts', () => {
    const before = [{ path: 'old', type: 'dir' as const }];
    const after = [...before, { path: 'old/new.txt', type: 'file' as const }, { path: 'rootfs', type: 'dir' as const }, { path: 'rootfs/etc', type: 'dir' as const }, { path: 'rootfs/etc/motd', type: 'file' as const }, { path: 'store', type: 'dir' as const }, { path: 'store/x', type: 'file' as const }];
    expect(topNewFiles(before, after, '/d', mounts).map((f) => f.path)).toEqual(['old/new.txt', 'rootfs', 'rootfs/etc/motd']);
  });
  it(`checks at most ${NESTED_FILES} files inside new folders: a rootfs has hundreds`, () => {
    const after = [{ path: 'rootfs', type: 'dir' as const }, ...Array.from({ length: 40 }, (_, i) => ({ path: `rootfs/f${String(i).padStart(2, '0')}`, type: 'file' as const }))];
    expect(topNewFiles([], after, '/d', mounts).map((f) => f.path)).toEqual(['rootfs', ...after.slice(1, NESTED_FILES + 1).map((f) => f.path)]);
  });
});
