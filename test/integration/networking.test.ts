// Chapter 07 through the built CLI: the self-test, then the seed's network section typed as a
// learner would, inside `workshop shell host -- …`, with `workshop next` accepting each step.
// WORKSHOP_CLI points at another build (default: dist/cli.js of this checkout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/sys/exec.ts';
import { netnsNames } from '../../src/checks/networking.ts';
import { isRoot, openWorkshop, type TestJson, type Workshop } from '../helpers/workshop.ts';

let w: Workshop;
let linksBefore = '';
let netnsBefore: string[] = [];

const ws = (...args: string[]) => w.cli(args);
const hostShell = async (line: string) => {
  const r = await ws('shell', 'host', '--', 'sh', '-c', line);
  expect(r.code, `${line}: ${r.stderr}`).toBe(0);
};
const next = async () => {
  const r = await ws('next');
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
};

describe.skipIf(!isRoot)('chapter 07, bridge networking', () => {
  beforeAll(async () => {
    w = await openWorkshop('/tmp/ws-net-it-', { allowHost: true });
    linksBefore = (await run('ip', ['-br', 'link'])).stdout;
    netnsBefore = await netnsNames();
  });
  afterAll(async () => {
    await ws('lab', 'down');
    await w.dispose();
  });

  it('passes every phase of workshop test with no residue', async () => {
    const r = await ws('test', '--chapter', 'networking', '--json');
    const report = JSON.parse(r.stdout) as TestJson;
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual([['networking', 'pass', []]]);
  });

  it("accepts the seed's commands typed in workshop shell host", async () => {
    expect((await ws('goto', 'networking')).code).toBe(0);
    expect((await ws('lab', 'up')).code).toBe(0);
    await hostShell('ip link add br0 type bridge && ip addr add dev br0 10.0.0.1/16 && ip link set br0 up');
    await next();
    await hostShell('ip netns add ws-box');
    await next();
    await hostShell('ip link add name veth0 type veth peer name veth1 && ip link set veth1 netns ws-box && ip link set veth0 up && ip link set veth0 master br0 up');
    await next();
    await hostShell('ip netns exec ws-box ip link set lo up && ip netns exec ws-box ip addr add dev veth1 10.0.0.2/16 && ip netns exec ws-box ip link set veth1 up');
    await next();
    await hostShell('ip netns exec ws-box ip route add default via 10.0.0.1');
    await next();
    await hostShell('ip netns exec ws-box ping -c 1 -W 1 10.0.0.1');
    await next();
    await hostShell('sysctl -w net.ipv4.ip_forward=1');
    await next();
    await hostShell('iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -j MASQUERADE');
    await next();
    await hostShell('ip netns exec ws-box ping -c 1 -W 1 198.51.100.1');
    await next();
  });

  it('leaves the machine as it was after workshop lab down', async () => {
    expect((await ws('lab', 'down')).code).toBe(0);
    expect(await netnsNames()).toEqual(netnsBefore);
    expect((await run('ip', ['-br', 'link'])).stdout).toBe(linksBefore);
  });
});
