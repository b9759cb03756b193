import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/checks/mounts.ts';
import { containerInit, foreignUtsGroups, hostMountsVisible, mapId, mountsOnlyInside, ownNamespaces, parseIdMap, parseNetDev, parseSysvMsg, type NsProcess } from '../../src/checks/namespaces.ts';
import { parseStatus } from '../../src/checks/proc.ts';
import { rootInOurNamespace } from '../../src/checks/proc.ts';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures/ns', name), 'utf8');
const mounts = (name: string) => parseMountinfo(fixture(name));

describe('parseIdMap and mapId', () => {
  it.each([
    ['uid-map-init.txt', [{ inside: 0, outside: 0, count: 4294967295 }], 0],
    ['uid-map-root.txt', [{ inside: 0, outside: 0, count: 1 }], 0],
    ['uid-map-nobody.txt', [{ inside: 0, outside: 65534, count: 1 }], 65534],
    ['uid-map-unmapped.txt', [], null],
  ])('reads %s and maps uid 0', (name, lines, zero) => {
    const map = parseIdMap(fixture(name));
    expect(map).toEqual(lines);
    expect(mapId(map, 0)).toBe(zero);
  });

  it('leaves a uid outside every range unmapped', () => {
    expect(mapId(parseIdMap(fixture('uid-map-root.txt')), 1000)).toBeNull();
  });

  it('refuses a line that is not three numbers', () => {
    expect(() => parseIdMap('0 0\n')).toThrow(/three numbers/);
  });
});

describe('parseNetDev', () => {
  it('finds only lo in a new network namespace', () => {
    expect(parseNetDev(fixture('net-dev-new-netns.txt'))).toEqual(['lo']);
  });

  it('finds more than lo on the host', () => {
    const names = parseNetDev(fixture('net-dev-host.txt'));
    expect(names).toContain('lo');
    expect(names.length).toBeGreaterThan(1);
  });

  it('refuses a file that is not /proc/net/dev', () => {
    expect(() => parseNetDev('hello\n')).toThrow(/Inter-/);
  });
});

describe('parseSysvMsg', () => {
  it('reads no queue from the header alone', () => {
    expect(parseSysvMsg(fixture('sysvipc-msg-empty.txt'))).toEqual([]);
  });

  it('reads two queues made with ipcmk -Q', () => {
    expect(parseSysvMsg(fixture('sysvipc-msg-two.txt'))).toEqual([
      { key: 1660564276, msqid: 0 },
      { key: 1096892197, msqid: 1 },
    ]);
  });

  it('refuses a file without the header', () => {
    expect(() => parseSysvMsg('1 2 3\n')).toThrow(/key msqid/);
  });
});

describe('mount tables inside and outside', () => {
  const host = mounts('mountinfo-host.txt');

  it('sees no host mount in a container after pivot_root and umount -l /oldroot', () => {
    expect(hostMountsVisible(mounts('mountinfo-pivoted.txt'), host)).toEqual([]);
  });

  it("sees the host's root and its submounts while the old root is still mounted", () => {
    const visible = hostMountsVisible(mounts('mountinfo-pivoted-oldroot.txt'), host).map((m) => m.mountPoint);
    expect(visible).toContain('/oldroot');
    expect(visible).toContain('/oldroot/proc');
  });

  it('sees every mount as the host\'s when nothing was pivoted', () => {
    expect(hostMountsVisible(host, host)).toHaveLength(host.length);
  });

  it('finds the tmpfs mounted at /mnt inside a mount namespace, and nothing else', () => {
    expect(mountsOnlyInside(mounts('mountinfo-tmpfs-at-mnt.txt'), host).map((m) => `${m.fsType} ${m.mountPoint}`)).toEqual(['tmpfs /mnt']);
  });
});

describe('rootInOurNamespace', () => {
  const host = mounts('mountinfo-host.txt');

  it('maps a pivoted root (a bind of a folder of the root disk) back to that folder', () => {
    const root = mounts('mountinfo-pivoted.txt').find((m) => m.mountPoint === '/');
    expect(root && rootInOurNamespace(root, host)).toBe('/tmp/ws-nsa-rec-Duyi/rootfs');
  });

  it('maps an unpivoted root to /', () => {
    const root = host.find((m) => m.mountPoint === '/');
    expect(root && rootInOurNamespace(root, host)).toBe('/');
  });

  it('answers null for a file system we do not see', () => {
    const root = { ...mounts('mountinfo-pivoted.txt')[0], majorMinor: '0:999' };
    expect(rootInOurNamespace(root as ReturnType<typeof mounts>[number], host)).toBeNull();
  });
});

describe('ownNamespaces', () => {
  const host = { uts: 'uts:[1]', pid: 'pid:[2]', mnt: 'mnt:[3]', net: 'net:[4]' };

  it('names the types whose link differs from the host', () => {
    expect(ownNamespaces({ ...host, uts: 'uts:[9]', pid: 'pid:[8]' }, host)).toEqual(['uts', 'pid']);
  });

  it('names none when a link is unknown on either side', () => {
    expect(ownNamespaces({ uts: 'uts:[9]' }, {})).toEqual([]);
  });
});

describe('foreignUtsGroups', () => {
  it('groups the processes of each UTS namespace that is not the host\'s, and skips the gone ones', () => {
    const groups = foreignUtsGroups([1, 40, 41, 50, 60], ['uts:[1]', 'uts:[9]', 'uts:[9]', null, 'uts:[7]'], 'uts:[1]');
    expect([...groups.entries()]).toEqual([
      ['uts:[9]', [40, 41]],
      ['uts:[7]', [60]],
    ]);
  });
});

describe('containerInit', () => {
  const proc = (pid: number, nspid: string): NsProcess => ({ pid, ns: {}, status: parseStatus(`Name:\tsh\nPid:\t${pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t${nspid}\n`) });
  it('picks PID 1 of the PID namespace over unshare, which stays outside it', () => {
    expect(containerInit([proc(3756, '3756'), proc(3757, '3757\t1')])?.pid).toBe(3757);
  });
  it('falls back to the first process when none is PID 1 of a namespace of its own', () => {
    expect(containerInit([proc(10, '10'), proc(11, '11')])?.pid).toBe(10);
    expect(containerInit([])).toBeUndefined();
  });
});
