import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inSubnet, neighbourAnswered, parseBridgeLinks, parseConntrack, parseIpAddrs, parseIpLinks, parseIpNeigh, parseIpRoutes, splitIpBatch } from '../../src/checks/networking.ts';
import { labProblems } from '../../src/checks/lab.ts';

const fx = (name: string): string => readFileSync(new URL(`../fixtures/net/${name}`, import.meta.url), 'utf8');
const find = <T extends { ifname: string }>(xs: readonly T[], name: string): T => {
  const x = xs.find((l) => l.ifname === name);
  if (x === undefined) throw new Error(`no ${name}`);
  return x;
};

describe('parseIpLinks (ip -j -d link, in the lab host)', () => {
  const links = parseIpLinks(fx('host-link-detail.json'));
  it('finds the bridge, up, with its kind', () => expect(find(links, 'br0')).toMatchObject({ kind: 'bridge', up: true }));
  it('finds the veth on the bridge, with its peer in another namespace', () => {
    expect(find(links, 'veth0')).toMatchObject({ kind: 'veth', master: 'br0', up: true, peerIndex: 2 });
    expect(find(links, 'veth0').linkNetnsId).not.toBeNull();
  });
  it('sees a bridge that was set down', () => expect(find(parseIpLinks(fx('host-link-br0-down.json')), 'br0').up).toBe(false));
  it('sees a veth without master', () => expect(find(parseIpLinks(fx('host-link-veth-nomaster.json')), 'veth0').master).toBeNull());
  it('pairs the two ends of the container veth by ifindex', () => {
    const box = find(parseIpLinks(fx('box-link-detail.json')), 'veth1');
    const host = find(links, 'veth0');
    expect([box.peerIndex, host.peerIndex]).toEqual([host.ifindex, box.ifindex]);
  });
});

describe('parseIpAddrs', () => {
  it('reads the container address', () => {
    const a = find(parseIpAddrs(fx('box-addr.json')), 'veth1');
    expect(a.addrs.filter((x) => x.family === 'inet')).toEqual([{ family: 'inet', local: '10.0.0.2', prefixlen: 16 }]);
  });
  it('reads the bridge address in the host', () => {
    expect(find(parseIpAddrs(fx('host-addr.json')), 'br0').addrs.some((x) => x.local === '10.0.0.1' && x.prefixlen === 16)).toBe(true);
  });
});

describe('parseIpRoutes', () => {
  it('reads the default route', () => expect(parseIpRoutes(fx('box-route.json')).find((r) => r.dst === 'default')).toEqual({ dst: 'default', gateway: '10.0.0.1', dev: 'veth1' }));
  it('has none after ip route del default', () => expect(parseIpRoutes(fx('box-route-no-default.json')).some((r) => r.dst === 'default')).toBe(false));
  it('reads empty output as no routes', () => expect(parseIpRoutes('')).toEqual([]));
});

describe('parseBridgeLinks', () => {
  it('lists the ports of br0', () => expect(parseBridgeLinks(fx('host-bridge-link.json'))).toEqual([{ ifname: 'veth0', master: 'br0', state: 'forwarding' }]));
  it('has no port once the veth is detached', () => expect(parseBridgeLinks(fx('host-bridge-link-empty.json'))).toEqual([]));
});

describe('parseIpNeigh', () => {
  it('has the gateway after a ping', () => {
    const n = parseIpNeigh(fx('box-neigh-after-ping.json'));
    expect(n).toMatchObject([{ dst: '10.0.0.1', dev: 'veth1', state: ['REACHABLE'] }]);
    expect(n.every(neighbourAnswered)).toBe(true);
  });
  it('is empty before', () => expect(parseIpNeigh(fx('box-neigh-empty.json'))).toEqual([]));
  it('does not count a failed entry', () => expect(neighbourAnswered({ dst: '10.0.0.1', dev: 'veth1', lladdr: null, state: ['FAILED'] })).toBe(false));
});

describe('parseConntrack', () => {
  it('shows the masquerade: the reply goes to the uplink address', () => {
    expect(parseConntrack(fx('conntrack-masqueraded.txt'))).toEqual([{ proto: 'icmp', orig: { src: '10.0.0.2', dst: '198.51.100.1' }, reply: { src: '198.51.100.1', dst: '198.51.100.2' } }]);
  });
  it('ignores the summary line', () => expect(parseConntrack(fx('conntrack-masqueraded.stderr.txt'))).toEqual([]));
});

describe('inSubnet', () => {
  it.each([
    ['10.0.1.2', '10.0.0.0/16', true],
    ['10.1.0.2', '10.0.0.0/16', false],
    ['198.51.100.2', '198.51.100.0/24', true],
    ['not-an-ip', '10.0.0.0/16', false],
  ])('%s in %s: %s', (ip, cidr, want) => expect(inSubnet(ip, cidr)).toBe(want));
});

describe('labProblems', () => {
  const ok = { names: ['ws-host', 'ws-net'], hostLinks: parseIpLinks(fx('host-link-detail.json')), netLinks: parseIpLinks('[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"]},{"ifindex":2,"ifname":"ws-inet","flags":["UP"]}]'), hostAddrs: ['198.51.100.2/24'], netAddrs: ['198.51.100.1/24'], hostDefault: '198.51.100.1' };
  it('finds nothing wrong with a whole lab', () => expect(labProblems(ok)).toEqual([]));
  it('names a missing namespace', () => expect(labProblems({ ...ok, names: ['ws-host'], netLinks: null, netAddrs: [] })).toEqual(['netns ws-net is missing']));
  it('names a missing default route', () => expect(labProblems({ ...ok, hostDefault: null })).toEqual(['ws-host has no default route via 198.51.100.1']));
});

// issue 26: one `ip -n NS -j -d -batch -` per netns and verify, for link, addr and route. Recorded
// in a netns with a bridge, an address, a veth on the bridge and a route (iproute2 6.1), with the
// same three queries asked alone (`-d` only for link).
describe('splitIpBatch (ip -j -d -batch: link show, addr show, route show)', () => {
  const fx = (f: string) => readFileSync(new URL(`../fixtures/ip/${f}`, import.meta.url), 'utf8');
  it('gives one JSON array a query, which parse as the queries asked alone do', () => {
    const texts = splitIpBatch(fx('batch-d-link-addr-route.txt'), 3);
    if (texts === 'unsplit') throw new Error('unsplit');
    expect(parseIpLinks(texts[0] ?? '')).toEqual(parseIpLinks(fx('batch-alone-d-link.json')));
    expect(parseIpAddrs(texts[1] ?? '')).toEqual(parseIpAddrs(fx('batch-alone-addr.json')));
    expect(parseIpRoutes(texts[2] ?? '')).toEqual(parseIpRoutes(fx('batch-alone-route.json')));
    expect(parseIpLinks(texts[0] ?? '').find((l) => l.ifname === 'br0')?.kind).toBe('bridge');
  });
  it('is unsplit when a query printed nothing or more than one line (then each is asked alone)', () => {
    const [link, , route] = fx('batch-d-link-addr-route.txt').split('\n');
    expect(splitIpBatch(`${link}\n${route}\n`, 3)).toBe('unsplit');
    expect(splitIpBatch(`${link}\n{}\n${route}\n`, 3)).toBe('unsplit');
    expect(splitIpBatch('', 3)).toBe('unsplit');
  });
});
