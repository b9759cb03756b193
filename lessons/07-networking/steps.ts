import { stat } from 'node:fs/promises';
import {
  defineChapter, diagnosed, defineCheck, pass, fail, tool, LAB, labUp, labDown, labStatus, netnsNames, readLinks, readLinksOfProcess, netnsHolders, hostNamespaces, readAddrs, readRoutes, readBridgePorts,
  readNeighbours, neighbourAnswered, readSysctl, pingFrom, netnsUsable, readConntrack, readNatTable, masqueradeCovers, canonicalRule, inSubnet, cidrOf,
  type IpLink, type Mutant, type SolveContext, type Verdict, type IptRule, type ConntrackEntry, once,
} from 'workshop/lesson';

const HOST = LAB.host;
const BOX = LAB.box;
const BRIDGE = 'br0';
const BRIDGE_ADDR = '10.0.0.1/16';
const BOX_ADDR = '10.0.0.2/16';
const SUBNET = '10.0.0.0/16';
const GATEWAY = '10.0.0.1';
const INTERNET = LAB.netAddr;

const nsExists = async (ns: string): Promise<boolean> => (await netnsNames()).includes(ns) && (await netnsUsable(ns));
const linkIn = async (ns: string, name: string): Promise<IpLink | undefined> => ((await nsExists(ns)) ? (await readLinks(ns)).find((l) => l.ifname === name) : undefined);
const labDownVerdict = (): Verdict => fail(`the lab (netns ${HOST})`, 'it is not up', 'Run `workshop lab up`, then `workshop shell host`.');

/**
 * A veth of ws-host whose other end is in a network namespace without a name, and the process
 * that holds it: Container the Hard Way moves c$CPID into `unshare`'s namespace (`ip link set
 * c$CPID netns $CPID`), and a new, empty ws-box cannot hold that end. One spawn per such namespace.
 */
async function peerInUnnamedNetns(): Promise<{ pid: number; host: IpLink; peer: IpLink } | null> {
  if (!(await nsExists(HOST))) return null;
  const veths = (await readLinks(HOST)).filter((l) => l.kind === 'veth' && l.linkNetnsId !== null && l.ifname !== LAB.uplink);
  if (veths.length === 0) return null;
  const named = await Promise.all((await netnsNames()).map((n) => stat(`/run/netns/${n}`).then((st) => `net:[${st.ino}]`, () => '')));
  const root = (await hostNamespaces())['net'] ?? '';
  for (const { pid } of await netnsHolders([...named, root])) {
    const links = await readLinksOfProcess(pid).catch(() => []);
    for (const host of veths) {
      const peer = links.find((l) => l.kind === 'veth' && l.ifindex === host.peerIndex && l.peerIndex === host.ifindex);
      if (peer) return { pid, host, peer };
    }
  }
  return null;
}

/** ws-box is missing: name the namespace that already holds the container's end, or make one. */
async function noBox(): Promise<Verdict> {
  const held = await peerInUnnamedNetns();
  if (held === null) return fail(`netns ${BOX}`, 'it does not exist', `In the host shell: ip netns add ${BOX}`);
  return fail(
    `netns ${BOX}`,
    `it does not exist; ${held.peer.ifname}, the other end of ${held.host.ifname}, is in the network namespace of PID ${held.pid}, which has no name`,
    `In the host shell, name that namespace: ip netns attach ${BOX} ${held.pid}`,
  );
}

/** The container's end of the veth: a veth in ws-box whose peer is a port of br0 in ws-host. */
async function containerVeth(): Promise<{ box: IpLink; host: IpLink } | { box: IpLink | null; host: null } | null> {
  if (!(await nsExists(BOX)) || !(await nsExists(HOST))) return null;
  const [boxLinks, hostLinks] = await Promise.all([readLinks(BOX), readLinks(HOST)]);
  const veths = boxLinks.filter((l) => l.kind === 'veth' && l.linkNetnsId !== null);
  for (const b of veths) {
    const h = hostLinks.find((l) => l.kind === 'veth' && l.ifindex === b.peerIndex && l.peerIndex === b.ifindex);
    if (h) return { box: b, host: h };
  }
  return { box: veths[0] ?? null, host: null };
}

const addrsOf = async (ns: string, ifname: string): Promise<string[]> =>
  (await readAddrs(ns)).filter((l) => l.ifname === ifname).flatMap((l) => l.addrs.filter((a) => a.family === 'inet').map(cidrOf));

/**
 * Where the container holds the bridge's own address (10.0.0.1 typed on veth1 by mistake): then
 * its ping of 10.0.0.1 is answered by itself, over its own stack, and never reaches br0.
 */
const gatewayInside = async (): Promise<Array<{ ifname: string; cidr: string }>> =>
  (await readAddrs(BOX)).flatMap((l) => l.addrs.filter((a) => a.family === 'inet' && a.local === GATEWAY).map((a) => ({ ifname: l.ifname, cidr: cidrOf(a) })));
const gatewayInsideVerdict = (hits: ReadonlyArray<{ ifname: string; cidr: string }>): Verdict =>
  fail(
    `no ${GATEWAY} inside ${BOX}: it is the bridge's address, the container's gateway`,
    `${BOX} holds ${hits.map((h) => `${h.cidr} on ${h.ifname}`).join(', ')}, so its ping of ${GATEWAY} answers itself and never reaches ${BRIDGE}`,
    hits.map((h) => `ip netns exec ${BOX} ip addr del ${h.cidr} dev ${h.ifname}`).join('; '),
  );

/**
 * Reading links in two namespaces (ip -j, twice, plus nsenter) took over the default 10 s in the
 * Debian 13 guest under TCG on a loaded host; it does not hang, it is slow.
 */
const SLOW_PROBE_MS = 30_000;

/** Checks that need the container's veth; they fail with one clear reason when it is not there. */
const aboutContainerVeth = (name: string, judge: (v: { box: IpLink; host: IpLink | null }) => Promise<Verdict> | Verdict) =>
  defineCheck(name, async () => {
    if (!(await nsExists(BOX))) return noBox();
    const v = await containerVeth();
    if (!v?.box) {
      const held = await peerInUnnamedNetns();
      if (held !== null) return fail(`a veth in ${BOX} whose peer is in ${HOST}`, `${BOX} has no veth; ${held.peer.ifname}, the other end of ${held.host.ifname}, is in the network namespace of PID ${held.pid}, which has no name`, `In the host shell, give ${BOX} to that namespace instead: ip netns del ${BOX}; ip netns attach ${BOX} ${held.pid}`);
      return fail(`a veth in ${BOX} whose peer is in ${HOST}`, `${BOX} has no veth`, `ip link add veth0 type veth peer name veth1; ip link set veth1 netns ${BOX}`);
    }
    return judge({ box: v.box, host: v.host });
  }, { timeoutMs: SLOW_PROBE_MS });

/** The bridge's address on the container's veth, next to its own: what a learner typed by mistake. */
const gatewayTypedInside = (): Mutant => async (ctx) => {
  const end = (await containerVeth())?.box?.ifname ?? 'veth1';
  await box(ctx, ['ip', 'addr', 'add', BRIDGE_ADDR, 'dev', end]);
};

/** The gateway's address inside the container answers the container's pings itself: it goes. */
async function dropGatewayInside(ctx: SolveContext): Promise<void> {
  for (const h of await gatewayInside()) await box(ctx, ['ip', 'addr', 'del', h.cidr, 'dev', h.ifname]);
}

const host = (ctx: SolveContext, args: readonly string[]) => ctx.$`ip netns exec ${HOST} ${args}`;
const box = (ctx: SolveContext, args: readonly string[]) => ctx.$`ip netns exec ${BOX} ${args}`;

/** The nat step's solution: a MASQUERADE rule for the container network out of the uplink, unless one covers it. */
async function addNat(ctx: SolveContext): Promise<void> {
  if ((await natRules()).some(goodNat)) return;
  await host(ctx, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', SUBNET, '-o', LAB.uplink, '-j', 'MASQUERADE']);
}

/** Deletes the MASQUERADE rules that cover the container network (for the mutants that replace them). */
async function dropGoodNat(ctx: SolveContext): Promise<void> {
  for (const r of (await natRules()).filter(goodNat)) await host(ctx, ['iptables', '-t', 'nat', '-D', ...canonicalRule(r).split(' ').slice(1)]);
}

const natRules = async (): Promise<IptRule[]> => (await readNatTable(HOST, { counters: true })).rules;
const goodNat = (r: IptRule): boolean => masqueradeCovers(r, { subnet: SUBNET, uplink: LAB.uplink }).ok;

export default defineChapter({
  formatVersion: 1,
  id: 'networking',
  title: 'Bridge networking with NAT',
  state: 'networking',
  requires: [tool('ip', 'iproute2'), tool('bridge', 'iproute2'), tool('iptables', 'iptables'), tool('iptables-save', 'iptables'), tool('conntrack', 'conntrack'), tool('ping', 'iputils-ping'), tool('nsenter', 'util-linux')],
  steps: {
    bridge: {
      verify: () => [
        defineCheck('the lab is up', async () => {
          const st = await labStatus();
          return st.up ? pass(`${HOST} and ${LAB.net} are up`) : fail('ws-host and ws-net up and linked', st.problems.join('; '), 'Run `workshop lab up`.');
        }),
        defineCheck(`${BRIDGE} is a bridge in ${HOST}`, async () => {
          if (!(await nsExists(HOST))) return labDownVerdict();
          const l = await linkIn(HOST, BRIDGE);
          if (!l) return fail(`a bridge named ${BRIDGE} in ${HOST}`, 'no such link', `Make the bridge (brctl addbr ${BRIDGE} does the same): ip link add ${BRIDGE} type bridge`);
          return l.kind === 'bridge' ? pass(`${BRIDGE}: bridge`) : fail(`${BRIDGE} of type bridge`, `type ${l.kind ?? 'unknown'}`);
        }),
        defineCheck(`${BRIDGE} is up`, async () => {
          const l = await linkIn(HOST, BRIDGE);
          if (!l) return fail(`${BRIDGE} up`, `there is no ${BRIDGE} in ${HOST}`);
          return l.up ? pass(`${BRIDGE}: ${l.flags.join(',')}`) : fail(`${BRIDGE} with the UP flag`, `flags ${l.flags.join(',')}`, `ip link set ${BRIDGE} up`);
        }),
        defineCheck(`${BRIDGE} has ${BRIDGE_ADDR}`, async () => {
          if (!(await linkIn(HOST, BRIDGE))) return fail(BRIDGE_ADDR, `there is no ${BRIDGE} in ${HOST}`);
          const got = await addrsOf(HOST, BRIDGE);
          return got.includes(BRIDGE_ADDR) ? pass(got.join(', ')) : fail(BRIDGE_ADDR, got.join(', ') || 'no IPv4 address', `ip addr add ${BRIDGE_ADDR} dev ${BRIDGE}`);
        }),
      ],
      solve: async (ctx) => {
        await labUp((l) => ctx.log(`$ ${l}`));
        if (!(await linkIn(HOST, BRIDGE))) await host(ctx, ['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
        await host(ctx, ['ip', 'addr', 'replace', BRIDGE_ADDR, 'dev', BRIDGE]);
        await host(ctx, ['ip', 'link', 'set', BRIDGE, 'up']);
      },
      hints: ['Start the lab with `workshop lab up` and open `workshop shell host`; then make a bridge and give it the gateway address.', `ip link add ${BRIDGE} type bridge; ip addr add ${BRIDGE_ADDR} dev ${BRIDGE}; ip link set ${BRIDGE} up`],
      mutants: {
        bridgeDown: diagnosed(async (ctx) => {
          await host(ctx, ['ip', 'link', 'set', BRIDGE, 'down']);
        }, /br0 with the UP flag/),
      },
    },
    netns: {
      verify: () => [
        defineCheck(`the container netns ${BOX} exists`, async () => {
          if (!(await netnsNames()).includes(BOX)) return noBox();
          if (!(await netnsUsable(BOX))) return fail(`a network namespace at /run/netns/${BOX}`, 'an empty file: it was made inside `ip netns exec`, whose mounts stay private', `ip netns del ${BOX}; then, in \`workshop shell host\`: ip netns add ${BOX}`);
          return pass(`${BOX} is listed by ip netns list`);
        }),
      ],
      solve: async (ctx) => {
        if ((await netnsNames()).includes(BOX) && !(await netnsUsable(BOX))) await ctx.$`ip netns del ${BOX}`;
        // From the root mount namespace: `ip netns exec ws-host ip netns add` would keep the mount private.
        if (!(await nsExists(BOX))) await ctx.$`ip netns add ${BOX}`;
      },
      hints: ['A named network namespace is made with ip netns.', `ip netns add ${BOX}; ip netns list`],
    },
    veth: {
      verify: () => [
        defineCheck(`a veth in ${HOST} is a port of ${BRIDGE}`, async () => {
          if (!(await nsExists(HOST))) return labDownVerdict();
          const [ports, links] = await Promise.all([readBridgePorts(HOST), readLinks(HOST)]);
          const veths = ports.filter((p) => p.master === BRIDGE && links.find((l) => l.ifname === p.ifname)?.kind === 'veth');
          return veths.length > 0 ? pass(veths.map((p) => `${p.ifname} (master ${BRIDGE}, ${p.state ?? '?'})`).join(', ')) : fail(`a veth with master ${BRIDGE}`, ports.length === 0 ? `${BRIDGE} has no ports` : `ports: ${ports.map((p) => p.ifname).join(', ')}`, `Attach veth0 to the bridge (brctl addif ${BRIDGE} veth0 does the same): ip link set veth0 master ${BRIDGE}`);
        }),
        aboutContainerVeth(`its peer is in ${BOX}`, (v) =>
          v.host ? pass(`${v.host.ifname}@${HOST} <-> ${v.box.ifname}@${BOX}`) : fail(`${v.box.ifname}'s peer in ${HOST}`, `${v.box.ifname} in ${BOX} has no peer in ${HOST}`, `Make the pair inside ${HOST}, then move one end: ip link set veth1 netns ${BOX}`)),
        aboutContainerVeth(`the host end is attached to ${BRIDGE} and up`, (v) => {
          if (!v.host) return fail(`the host end attached to ${BRIDGE}`, `no host end in ${HOST}`);
          const h = v.host;
          if (h.master !== BRIDGE) return fail(`${h.ifname} with master ${BRIDGE}`, h.master ? `master ${h.master}` : 'no master', `ip link set ${h.ifname} master ${BRIDGE}`);
          return h.up ? pass(`${h.ifname}: master ${BRIDGE}, UP`) : fail(`${h.ifname} UP`, `flags ${h.flags.join(',')}`, `ip link set ${h.ifname} up`);
        }),
      ],
      solve: async (ctx) => {
        const v = await containerVeth();
        if (!v?.host) {
          if (await linkIn(HOST, 'veth0')) await host(ctx, ['ip', 'link', 'del', 'veth0']);
          await host(ctx, ['ip', 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1']);
          await host(ctx, ['ip', 'link', 'set', 'veth1', 'netns', BOX]);
        }
        const end = (await containerVeth())?.host?.ifname ?? 'veth0';
        await host(ctx, ['ip', 'link', 'set', end, 'master', BRIDGE, 'up']);
      },
      hints: ['A veth pair is a virtual cable: make it in the host, move one end into the container, plug the other into the bridge.', `ip link add veth0 type veth peer name veth1; ip link set veth1 netns ${BOX}; ip link set veth0 master ${BRIDGE} up`],
      mutants: {
        noMaster: diagnosed(async (ctx) => {
          const end = (await containerVeth())?.host?.ifname ?? 'veth0';
          await host(ctx, ['ip', 'link', 'set', end, 'nomaster']);
        }, /no master/),
      },
    },
    addr: {
      verify: () => [
        aboutContainerVeth(`the container's veth has ${BOX_ADDR}`, async (v) => {
          const got = await addrsOf(BOX, v.box.ifname);
          return got.includes(BOX_ADDR) ? pass(`${v.box.ifname}: ${got.join(', ')}`) : fail(`${BOX_ADDR} on ${v.box.ifname}`, got.join(', ') || 'no IPv4 address', `ip netns exec ${BOX} ip addr add ${BOX_ADDR} dev ${v.box.ifname}`);
        }),
        defineCheck(`the container does not hold the bridge's address ${GATEWAY}`, async () => {
          if (!(await nsExists(BOX))) return noBox();
          const hits = await gatewayInside();
          return hits.length === 0 ? pass(`${GATEWAY} is only the bridge's`) : gatewayInsideVerdict(hits);
        }),
        aboutContainerVeth("the container's veth is up", (v) => (v.box.up ? pass(`${v.box.ifname}: UP`) : fail(`${v.box.ifname} UP`, `flags ${v.box.flags.join(',')}`, `ip netns exec ${BOX} ip link set ${v.box.ifname} up`))),
        defineCheck(`lo is up in ${BOX}`, async () => {
          if (!(await nsExists(BOX))) return noBox();
          const lo = await linkIn(BOX, 'lo');
          return lo?.up ? pass('lo: UP') : fail('lo UP', lo ? `flags ${lo.flags.join(',')}` : 'no lo', `ip netns exec ${BOX} ip link set lo up`);
        }),
      ],
      solve: async (ctx) => {
        const end = (await containerVeth())?.box?.ifname ?? 'veth1';
        await box(ctx, ['ip', 'link', 'set', 'lo', 'up']);
        await dropGatewayInside(ctx);
        await box(ctx, ['ip', 'addr', 'replace', BOX_ADDR, 'dev', end]);
        await box(ctx, ['ip', 'link', 'set', end, 'up']);
      },
      mutants: {
        // Issue 12: the bridge's address typed on veth1 as well; addr passed with both, and
        // ping-bridge was a dead end two steps later.
        gatewayOnVeth: diagnosed(gatewayTypedInside(), /it is the bridge\'s address, the container\'s gateway/),
      },
      hints: [`Inside ${BOX}, give the veth end an address of the bridge's network, and bring it and lo up.`, `ip netns exec ${BOX} ip link set lo up; ip netns exec ${BOX} ip addr add ${BOX_ADDR} dev veth1; ip netns exec ${BOX} ip link set veth1 up`],
    },
    route: {
      verify: () => [
        defineCheck(`${BOX} has a default route via ${GATEWAY}`, async () => {
          if (!(await nsExists(BOX))) return noBox();
          const routes = await readRoutes(BOX);
          const d = routes.find((r) => r.dst === 'default');
          if (!d) return fail(`default via ${GATEWAY}`, `no default route (routes: ${routes.map((r) => r.dst).join(', ') || 'none'})`, `ip netns exec ${BOX} ip route add default via ${GATEWAY}`);
          // `ip route add` would answer "File exists" while the wrong default is there.
          return d.gateway === GATEWAY ? pass(`default via ${GATEWAY} dev ${d.dev ?? '?'}`) : fail(`default via ${GATEWAY}`, `default via ${d.gateway ?? `(no gateway) dev ${d.dev ?? '?'}`}`, `ip netns exec ${BOX} ip route replace default via ${GATEWAY}`);
        }),
      ],
      solve: async (ctx) => {
        await box(ctx, ['ip', 'route', 'replace', 'default', 'via', GATEWAY]);
      },
      hints: ['Everything that is not on 10.0.0.0/16 should go to the bridge, the host side.', `ip netns exec ${BOX} ip route add default via ${GATEWAY}`],
      mutants: {
        noDefaultRoute: diagnosed(async (ctx) => {
          await box(ctx, ['ip', 'route', 'del', 'default']);
        }, /no default route/),
        // The solution's `ip route replace` repairs it; the hint must not say `ip route add`.
        wrongGateway: diagnosed(async (ctx) => {
          await box(ctx, ['ip', 'route', 'replace', 'default', 'via', '10.0.0.3']);
        }, /expected\s+default via 10\.0\.0\.1\n\s+actual\s+default via 10\.0\.0\.3/),
      },
    },
    'ping-bridge': {
      verify: () => {
        // The learner's own ping leaves a neighbour (ARP) entry for the gateway in the container;
        // only then does the check ping too, so that a failed check never does the step for them.
        const trial = once(async () => {
          if (!(await nsExists(BOX))) return { neigh: null, ping: null, self: [] };
          const self = await gatewayInside();
          const neigh = (await readNeighbours(BOX)).find((n) => n.dst === GATEWAY && neighbourAnswered(n)) ?? null;
          return { neigh, ping: neigh && self.length === 0 ? await pingFrom(BOX, GATEWAY) : null, self };
        });
        return [
          defineCheck(`the container has talked to ${GATEWAY} (its ARP entry)`, async () => {
            const t = await trial();
            if (t.self.length > 0) return gatewayInsideVerdict(t.self);
            return t.neigh ? pass(`${GATEWAY} lladdr ${t.neigh.lladdr ?? '?'} ${t.neigh.state.join(',')}`) : fail(`an answered neighbour entry for ${GATEWAY} in ${BOX}`, 'none: the container has not reached the bridge yet', `ip netns exec ${BOX} ping -c 1 ${GATEWAY}`);
          }),
          defineCheck(`${BOX} reaches ${GATEWAY} now (1 ping, 1 s)`, async () => {
            const t = await trial();
            if (t.self.length > 0) return gatewayInsideVerdict(t.self);
            if (!t.ping) return fail(`a reply from ${GATEWAY}`, 'not tried: ping it yourself first');
            return t.ping.ok ? pass(t.ping.summary) : fail(`a reply from ${GATEWAY}`, t.ping.summary, 'Is br0 up, the veth attached and up on both ends?');
          }),
        ];
      },
      solve: async (ctx) => {
        await dropGatewayInside(ctx);
        await box(ctx, ['ping', '-c', '1', '-W', '1', GATEWAY]);
      },
      mutants: {
        gatewayOnVeth: diagnosed(gatewayTypedInside(), /answers itself and never reaches br0/),
      },
      hints: ['Ping the bridge from inside the container.', `ip netns exec ${BOX} ping -c 1 ${GATEWAY}; ip netns exec ${BOX} ip neigh`],
    },
    forward: {
      verify: () => [
        defineCheck(`net.ipv4.ip_forward = 1 in ${HOST}`, async () => {
          if (!(await nsExists(HOST))) return labDownVerdict();
          const v = await readSysctl(HOST, 'net.ipv4.ip_forward');
          return v === '1' ? pass('net.ipv4.ip_forward = 1') : fail('net.ipv4.ip_forward = 1', `net.ipv4.ip_forward = ${v}`, 'In the host shell: sysctl -w net.ipv4.ip_forward=1');
        }),
      ],
      solve: async (ctx) => {
        await host(ctx, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
      },
      hints: ['The host must agree to route packets that are not its own; that is a sysctl.', 'sysctl -w net.ipv4.ip_forward=1'],
      mutants: {
        ipForwardOff: diagnosed(async (ctx) => {
          await host(ctx, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
        }, /net\.ipv4\.ip_forward = 0/),
      },
    },
    nat: {
      verify: () => [
        defineCheck(`a MASQUERADE rule in ${HOST} covers ${SUBNET} out of ${LAB.uplink}`, async () => {
          if (!(await nsExists(HOST))) return labDownVerdict();
          const rules = (await natRules()).filter((r) => r.chain === 'POSTROUTING');
          const good = rules.find(goodNat);
          if (good) return pass(canonicalRule(good));
          const why = rules.map((r) => `${canonicalRule(r)} (${(masqueradeCovers(r, { subnet: SUBNET, uplink: LAB.uplink }) as { why?: string }).why ?? ''})`);
          return fail(`-A POSTROUTING [-s ${SUBNET}] [-o ${LAB.uplink}] -j MASQUERADE (-s and -o are each optional)`, why.join('; ') || 'POSTROUTING of table nat has no rules', `iptables -t nat -A POSTROUTING -s ${SUBNET} -o ${LAB.uplink} -j MASQUERADE`);
        }),
      ],
      solve: addNat,
      hints: ['Rewrite the source of packets from the container network to the host\'s own address as they leave through the uplink.', `iptables -t nat -A POSTROUTING -s ${SUBNET} -o ${LAB.uplink} -j MASQUERADE; iptables -t nat -S POSTROUTING`],
      mutants: {
        wrongSubnet: diagnosed(async (ctx) => {
          await dropGoodNat(ctx);
          await host(ctx, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.1.0.0/16', '-o', LAB.uplink, '-j', 'MASQUERADE']);
        }, /matches source 10\.1\.0\.0\/16, not 10\.0\.0\.0\/16/),
        seedsEth0: diagnosed(async (ctx) => {
          await dropGoodNat(ctx);
          await host(ctx, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']);
        }, /output interface eth0, and the lab\'s uplink is ws-uplink/),
      },
    },
    internet: {
      verify: () => {
        // The MASQUERADE rule counts each connection it rewrote. A count above zero proves that the
        // learner's ping went out masqueraded; only then does the check send its own ping and read
        // the connection in conntrack, whose reply side names the address ws-net answered to.
        // With no rule that covers the uplink the check pings too (no counter can go up): what
        // conntrack then shows is what the learner's ping met, a packet that left unchanged.
        const trial = once(async () => {
          if (!(await nsExists(HOST)) || !(await nsExists(BOX))) return null;
          const rules = (await natRules()).filter((r) => r.chain === 'POSTROUTING');
          const good = rules.filter(goodNat);
          const counted = good.reduce((n, r) => n + (r.packets ?? 0), 0);
          if (counted === 0 && good.length > 0) return { counted, nat: true, rules, ping: null, seen: [] };
          const ping = await pingFrom(BOX, INTERNET);
          const seen = (await readConntrack(HOST, ['-p', 'icmp', '-d', INTERNET])).filter((c) => inSubnet(c.orig.src, SUBNET));
          return { counted, nat: good.length > 0, rules, ping, seen };
        });
        const addRule = `iptables -t nat -A POSTROUTING -s ${SUBNET} -o ${LAB.uplink} -j MASQUERADE`;
        /** What a ping met on its way out when no rule covers the uplink: its source left unchanged. */
        const noNat = (t: { rules: IptRule[]; seen: ConntrackEntry[] }): string => {
          const left = t.seen.find((c) => inSubnet(c.reply.dst, SUBNET));
          const others = t.rules.length > 0 ? ` (POSTROUTING has only ${t.rules.map(canonicalRule).join('; ')})` : ' (POSTROUTING of table nat is empty)';
          const how = left ? `conntrack in ${HOST}: ${left.orig.src} -> ${left.orig.dst}, the answer would go back to ${left.reply.dst}` : `it got no answer`;
          return `the ping left the container and found no NAT on the way out: no MASQUERADE rule covers ${SUBNET} out of ${LAB.uplink}${others}; ${how}, an address ${LAB.net} has no route to`;
        };
        return [
          defineCheck('the MASQUERADE rule has rewritten a connection', async () => {
            const t = await trial();
            if (!t) return fail(`${HOST} and ${BOX}`, 'the lab or the container netns is missing');
            if (t.counted > 0) return pass(`${t.counted} connection(s) masqueraded`);
            if (!t.nat) return fail('a packet count above 0 on the MASQUERADE rule', noNat(t), `Put the rule back, then ping again: ${addRule}; ip netns exec ${BOX} ping -c 1 ${INTERNET}`);
            return fail('a packet count above 0 on the MASQUERADE rule', '0: nothing from the container has gone out yet', `Ping from the container, then look at the rule's counter: ip netns exec ${BOX} ping -c 1 ${INTERNET}; iptables -t nat -L POSTROUTING -v -n`);
          }),
          defineCheck(`${BOX} reaches ${INTERNET}, the "internet" (1 ping, 1 s)`, async () => {
            const t = await trial();
            if (!t?.ping) return fail(`a reply from ${INTERNET}`, 'not tried: ping it from the container yourself first');
            if (t.ping.ok) return pass(t.ping.summary);
            return fail(`a reply from ${INTERNET}`, t.nat ? t.ping.summary : `${t.ping.summary}: no NAT on the way out`, t.nat ? 'Check ip_forward, the NAT rule and the default route in the container.' : addRule);
          }),
          defineCheck(`${LAB.net} saw the host's uplink address ${LAB.hostAddr} as the source`, async () => {
            const t = await trial();
            if (!t?.ping) return fail(`a conntrack entry replying to ${LAB.hostAddr}`, 'not tried: ping it from the container yourself first');
            const hit = t.seen.find((c) => c.reply.src === INTERNET && c.reply.dst === LAB.hostAddr);
            return hit ? pass(`conntrack: ${hit.orig.src} -> ${hit.orig.dst}, reply ${hit.reply.src} -> ${hit.reply.dst}`) : fail(`a reply from ${INTERNET} to ${LAB.hostAddr}`, t.seen.map((c) => `reply ${c.reply.src} -> ${c.reply.dst}${inSubnet(c.reply.dst, SUBNET) ? ': the source was not rewritten' : ''}`).join('; ') || 'no connection from the container in conntrack');
          }),
        ];
      },
      solve: async (ctx) => {
        // No NAT for the uplink any more (a flushed POSTROUTING): the nat step's rule first.
        await addNat(ctx);
        await box(ctx, ['ping', '-c', '1', '-W', '1', INTERNET]);
      },
      hints: ['Ping the lab\'s internet from the container, then look at the NAT rule\'s counter and at conntrack in the host.', `ip netns exec ${BOX} ping -c 1 ${INTERNET}; iptables -t nat -L POSTROUTING -v -n; conntrack -L -p icmp`],
      mutants: {
        // Seen in class: the NAT rule flushed (iptables -t nat -F POSTROUTING), then a ping that
        // lost 100 %. The rows must say the ping left and met no NAT, not "nothing has gone out".
        natFlushed: diagnosed(async (ctx) => {
          await host(ctx, ['iptables', '-t', 'nat', '-F', 'POSTROUTING']);
          await box(ctx, ['ping', '-c', '1', '-W', '1', INTERNET]).nothrow();
        }, /the ping left the container and found no NAT on the way out[\s\S]*iptables -t nat -A POSTROUTING -s 10\.0\.0\.0\/16 -o ws-uplink -j MASQUERADE/),
        // Issue 25: the tutorial's rule, for eth0 only, then a ping that lost 100 %.
        onlyEth0: diagnosed(async (ctx) => {
          await dropGoodNat(ctx);
          await host(ctx, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'MASQUERADE']);
          await box(ctx, ['ping', '-c', '1', '-W', '1', INTERNET]).nothrow();
        }, /found no NAT on the way out[\s\S]*POSTROUTING has only -A POSTROUTING -o eth0 -j MASQUERADE/),
      },
    },
  },
  cleanup: async (ctx) => {
    // The lab goes as a whole: deleting ws-host takes br0, the veths and its iptables rules with it.
    await labDown((l) => ctx.log(`$ ${l}`));
  },
  removes: async () => {
    const there = new Set(await netnsNames());
    return [LAB.box, LAB.host, LAB.net].filter((n) => there.has(n)).map((n) => `the network namespace ${n}${n === HOST ? ', with br0, the veths and its NAT rules' : ''}`);
  },
});
