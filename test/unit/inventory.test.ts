import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/checks/mounts.ts';
import { parseLosetupJson } from '../../src/checks/loop.ts';
import { parseIpLinks, parseNetnsList } from '../../src/checks/networking.ts';
import {
  decideResidue,
  findWsCgroups,
  relativeLayerCandidates,
  type InventoryFacts,
  visitorsOf,
} from '../../src/engine/inventory.ts';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures', name), 'utf8');

describe('parseLosetupJson', () => {
  it('reads devices and their backing files', () => {
    expect(parseLosetupJson(fixture('losetup/two-devices.json'))).toEqual([
      { name: '/dev/loop1', backFile: '/tmp/ws-h2-loop/with space.img' },
      { name: '/dev/loop0', backFile: '/tmp/ws-h2-loop/disk.img' },
    ]);
  });
  it('keeps the path of a backing file deleted since', () => {
    expect(parseLosetupJson(fixture('losetup/deleted-backing.json'))[1]).toEqual({ name: '/dev/loop0', backFile: '/tmp/ws-h2-loop/disk.img' });
  });
  it('reads an empty list, and empty output', () => {
    expect(parseLosetupJson(fixture('losetup/none.json'))).toEqual([]);
    expect(parseLosetupJson('')).toEqual([]);
  });
  it('refuses JSON of another shape', () => {
    expect(() => parseLosetupJson('{"blockdevices": []}')).toThrow(/loopdevices/);
  });
});

describe('ip -j parsers', () => {
  it('reads netns names and ids; no namespaces print nothing at all', () => {
    expect(fixture('ip/netns-list-empty.json')).toBe('');
    expect(parseNetnsList(fixture('ip/netns-list-empty.json'))).toEqual([]);
    expect(parseNetnsList(fixture('ip/netns-list-with-id.json'))).toEqual([
      { name: 'ws-h2-fxa', id: 0 },
      { name: 'ws-h2-fxb', id: null },
    ]);
  });
  it('reads links and the netns of a veth peer', () => {
    const links = parseIpLinks(fixture('ip/link-show-root.json'));
    expect(links.map((l) => l.ifname)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0', 'ws-h2A']);
    expect(links.at(-1)).toMatchObject({ ifindex: 5, ifname: 'ws-h2A', linkNetnsId: 0 });
  });
});

const home = '/tmp/ws-h2-home-rec';
const chapterDirs = [`${home}/chapters/bind`, `${home}/chapters/overlayfs`];
const recorded = parseMountinfo(fixture('mountinfo/inventory-home.txt'));
const facts = (over: Partial<InventoryFacts> = {}): InventoryFacts => ({
  home,
  chapterDirs,
  mounts: recorded,
  loops: parseLosetupJson(fixture('losetup/inventory-home.json')),
  netns: parseNetnsList(fixture('ip/netns-list-inventory.json')),
  links: parseIpLinks(fixture('ip/link-show-inventory.json')),
  cgroups: ['/sys/fs/cgroup/pids/ws-h2-cg'],
  seedTmpDirs: ['/tmp/ws-h2-seedrec'],
  existingPaths: new Set([`${home}/chapters/overlayfs/rootfs`]),
  processes: [
    { pid: 100, root: '/tmp/ws-h2-seedrec/overlay', cwd: '/' },
    { pid: 101, root: '/', cwd: `${home}/chapters` },
    { pid: 102, root: '/', cwd: '/tmp/ws-h2-relout/m/bin' },
    { pid: 103, root: '/', cwd: '/tmp/ws-h2-home-recx' },
    { pid: 104, root: null, cwd: null },
  ],
  ...over,
});
const ids = (f: InventoryFacts, kind: string): string[] => decideResidue(f).filter((i) => i.kind === kind).map((i) => i.id);

describe('decideResidue on a recorded machine', () => {
  it('finds every mount of ours, deepest first, and nothing of the host', () => {
    expect(ids(facts(), 'mount')).toEqual([
      `${home}/chapters/bind/dst`,
      `${home}/chapters/overlayfs/merged`,
      '/tmp/ws-h2-seedrec/overlay/proc',
      '/tmp/ws-h2-relout/m',
      '/tmp/ws-h2-seedrec/overlay',
      '/tmp/ws-h2-bindout',
    ]);
  });

  it('takes nothing that is in the home but outside its workshop folders (chapters/, selftest/, aswritten/, lab/)', () => {
    // recorded: store.img directly in the home, on /dev/loop0, mounted at home/store
    const f = facts({ processes: [{ pid: 300, root: `${home}/jail`, cwd: '/' }, { pid: 301, root: '/', cwd: `${home}/data`, isolated: true }] });
    const items = decideResidue(f);
    expect(items.filter((i) => i.id === `${home}/store` || i.id === '/dev/loop0' || i.kind === 'process')).toEqual([]);
    expect(visitorsOf(f.home, items, [{ pid: 302, root: '/', cwd: `${home}/data` }])).toEqual([]);
  });

  it('says why each mount is ours', () => {
    const why = new Map(decideResidue(facts()).map((i) => [i.id, i.detail]));
    expect(why.get('/tmp/ws-h2-bindout')).toMatch(/bind mount of a folder under home/);
    expect(why.get('/tmp/ws-h2-relout/m')).toMatch(/overlay layer rootfs resolves under home/);
    expect(why.get('/tmp/ws-h2-seedrec/overlay')).toMatch(/mounted in \/tmp\/ws-h2-seedrec/);
  });

  it('counts a relative lowerdir only when it resolves to something that exists under home', () => {
    expect(ids(facts({ existingPaths: new Set(), seedTmpDirs: [] }), 'mount')).not.toContain('/tmp/ws-h2-relout/m');
    expect(relativeLayerCandidates(facts())).toContain(`${home}/chapters/overlayfs/rootfs`);
  });

  it("recognises container.sh's overlay by its /tmp/<x>/upper only when /tmp/<x> has the seed's shape", () => {
    const onlyLayers = facts({ home: '/nowhere', chapterDirs: [], loops: [] });
    expect(ids(onlyLayers, 'mount')).toEqual(['/tmp/ws-h2-seedrec/overlay/proc', '/tmp/ws-h2-seedrec/overlay']);
    expect(ids({ ...onlyLayers, seedTmpDirs: [] }, 'mount')).toEqual([]);
  });

  it('finds the host clean', () => {
    const host = facts({ home: '/var/lib/workshop', chapterDirs: [], mounts: parseMountinfo(fixture('mountinfo/host.txt')), loops: [], netns: [], links: parseIpLinks(fixture('ip/link-show-root.json')).slice(0, 4), cgroups: [], seedTmpDirs: [], processes: [{ pid: 5, root: '/', cwd: '/root' }] });
    expect(decideResidue(host)).toEqual([]);
  });

  it('never takes home itself, nor a mount that ours merely covers', () => {
    const m = parseMountinfo(
      [
        `60 27 0:50 / ${home} rw - tmpfs tmpfs rw`,
        '61 27 0:51 / /mnt rw - tmpfs tmpfs rw',
        '62 27 0:52 / /mnt/old rw - tmpfs tmpfs rw',
        `63 61 0:53 / /mnt rw - overlay overlay rw,lowerdir=${home}/chapters/overlayfs/rootfs,upperdir=/mnt/u,workdir=/mnt/w`,
        '64 63 0:54 / /mnt/proc rw - proc proc rw',
      ].join('\n'),
    );
    expect(ids(facts({ mounts: m, seedTmpDirs: [] }), 'mount')).toEqual(['/mnt/proc', '/mnt']);
  });

  const chapterLoop = { loops: [{ name: '/dev/loop0', backFile: `${home}/chapters/btrfs/store.img` }] };

  it('finds loops backed under home, ws* links, netns and the given cgroups and tmp dirs', () => {
    expect(ids(facts(chapterLoop), 'loop')).toEqual(['/dev/loop0']);
    expect(ids(facts(), 'link')).toEqual(['ws-h2cA', 'ws-h2dB', 'ws-h2dA']);
    expect(ids(facts(), 'netns')).toEqual(['ws-h2-cl']);
    expect(ids(facts(), 'cgroup')).toEqual(['/sys/fs/cgroup/pids/ws-h2-cg']);
    expect(ids(facts(), 'tmpdir')).toEqual(['/tmp/ws-h2-seedrec']);
    expect(ids(facts({ loops: parseLosetupJson(fixture('losetup/two-devices.json')) }), 'loop')).toEqual([]);
  });

  it('stops only processes rooted in home, a seed dir or one of our mounts', () => {
    expect(ids(facts(), 'process')).toEqual(['100']);
  });

  it("names, and never stops, processes that only have their cwd there: the learner's shells", () => {
    const f = facts();
    const visitors = visitorsOf(f.home, decideResidue(f), [...f.processes, { pid: 105, root: '/', cwd: `${home}/chapters/wafers (deleted)` }]);
    expect(visitors.map((p) => p.pid)).toEqual([101, 102, 105]);
  });

  it('stops a container started from the chapter folder (a PID or UTS namespace of its own), never a shell there', () => {
    const f = facts({ processes: [{ pid: 201, root: '/', cwd: `${home}/chapters/cgroups`, isolated: true }, { pid: 202, root: '/', cwd: `${home}/chapters/cgroups`, isolated: false }, { pid: 203, root: '/', cwd: '/root', isolated: true }] });
    const items = decideResidue(f);
    expect(items.filter((i) => i.kind === 'process').map((i) => i.id)).toEqual(['201']);
    expect(visitorsOf(f.home, items, f.processes).map((p) => p.pid)).toEqual([202]);
  });

  it('lists processes first and tmp dirs last, the order clean needs', () => {
    expect([...new Set(decideResidue(facts(chapterLoop)).map((i) => i.kind))]).toEqual(['process', 'mount', 'loop', 'link', 'netns', 'cgroup', 'tmpdir']);
  });
});

describe('findWsCgroups', () => {
  it('passes over a group removed after it was listed (a neighbour chapter cleaning up), and keeps the others', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'ws-cgbase-'));
    try {
      for (const d of ['cpu/ws-gone', 'cpu/ws-kept', 'memory/other']) mkdirSync(path.join(base, d), { recursive: true });
      const CGROUP2 = 0x63677270;
      // the group goes between the listing and the look at its file system, as rmdir does
      const fsType = async (dir: string): Promise<number> => {
        if (dir.endsWith('ws-gone')) throw Object.assign(new Error(`ENOENT: no such file or directory, statfs '${dir}'`), { code: 'ENOENT' });
        return CGROUP2;
      };
      expect(await findWsCgroups(base, fsType)).toEqual([path.join(base, 'cpu/ws-kept')]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
