// Issue 12, items 5 and 7, through the built CLI: a learner in chapter 07 who types the bridge's
// address 10.0.0.1 on the container's veth, or a wrong default gateway, gets a diagnosis that
// names the cause, and the hint it is given works on the state it is shown for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, openWorkshop, type Ran, type Workshop } from '../helpers/workshop.ts';

let w: Workshop;
const ws = (...args: string[]) => w.cli(args);
/** A line typed in `workshop shell host`, as the chapter says. */
const host = async (line: string) => {
  const r = await ws('shell', 'host', '--', 'sh', '-c', line);
  expect(r.code, `${line}: ${r.stderr}`).toBe(0);
  return r;
};
const ok = (r: Ran) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
const failing = (r: Ran) => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  // The table wraps long lines; the diagnosis is asserted on the text with the breaks joined.
  return r.stdout.replace(/\s+/g, ' ');
};

describe.skipIf(!isRoot)('chapter 07: the mistakes of issue 12', () => {
  beforeAll(async () => {
    w = await openWorkshop('/tmp/ws-netmis-it-', { allowHost: true });
    ok(await ws('goto', 'networking'));
    ok(await ws('lab', 'up'));
    await host('ip link add br0 type bridge && ip addr add 10.0.0.1/16 dev br0 && ip link set br0 up');
    ok(await ws('next'));
    await host('ip netns add ws-box');
    ok(await ws('next'));
    await host('ip link add veth0 type veth peer name veth1 && ip link set veth1 netns ws-box && ip link set veth0 master br0 up');
    ok(await ws('next'));
  });
  afterAll(async () => {
    await ws('lab', 'down');
    await w.dispose();
  });

  it("addr rejects the bridge's address on veth1, next to the right one, and its hint removes it", async () => {
    await host('ip netns exec ws-box ip link set lo up && ip netns exec ws-box ip addr add 10.0.0.2/16 dev veth1 && ip netns exec ws-box ip addr add 10.0.0.1/16 dev veth1 && ip netns exec ws-box ip link set veth1 up');
    const out = failing(await ws('next'));
    expect(out).toContain("the container does not hold the bridge's address 10.0.0.1");
    expect(out).toContain('ws-box holds 10.0.0.1/16 on veth1, so its ping of 10.0.0.1 answers itself and never reaches br0');
    expect(out).toContain('ip netns exec ws-box ip addr del 10.0.0.1/16 dev veth1');
    await host('ip netns exec ws-box ip addr del 10.0.0.1/16 dev veth1');
    ok(await ws('next'));
  });

  it('route: a wrong gateway gets `ip route replace`, which works where `ip route add` says File exists', async () => {
    await host('ip netns exec ws-box ip route add default via 10.0.0.3');
    const out = failing(await ws('next'));
    expect(out).toContain('default via 10.0.0.3');
    expect(out).toContain('ip netns exec ws-box ip route replace default via 10.0.0.1');
    const add = await ws('shell', 'host', '--', 'sh', '-c', 'ip netns exec ws-box ip route add default via 10.0.0.1');
    expect(add.stderr).toContain('File exists');
    await host('ip netns exec ws-box ip route replace default via 10.0.0.1');
    ok(await ws('next'));
  });

  it("ping-bridge names the cause when the box holds 10.0.0.1 itself: its ping answered itself", async () => {
    await host('ip netns exec ws-box ip addr add 10.0.0.1/16 dev veth1 && ip netns exec ws-box ping -c 1 -W 1 10.0.0.1');
    const out = failing(await ws('next'));
    expect(out).toContain('ws-box holds 10.0.0.1/16 on veth1, so its ping of 10.0.0.1 answers itself and never reaches br0');
    expect(out).not.toContain('the container has not reached the bridge yet');
    await host('ip netns exec ws-box ip addr del 10.0.0.1/16 dev veth1 && ip netns exec ws-box ping -c 1 -W 1 10.0.0.1');
    ok(await ws('next'));
  });
});
