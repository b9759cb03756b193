// The networking picture: the lab topology, piece by piece, from the same `ip -j` readers and
// iptables canonical form as chapter 07's checks. A missing or wrong piece is kept in the picture
// (status missing/wrong, with what was expected), never left out.
import { canonicalRule, masqueradeCovers, readNatTable } from '../../checks/iptables.ts';
import { cidrOf, netnsNames, netnsUsable, readAddrs, readLinks, readRoutes, readSysctl, type IpLink } from '../../checks/networking.ts';
import type { NetworkingPicture, Piece } from '../../contract/state.ts';
import { LAB } from '../../checks/lab.ts';

/** The names chapter 07 teaches; a pack may draw another lab with other ones. */
export interface LabPlan {
  bridge: string;
  bridgeAddr: string;
  boxAddr: string;
  subnet: string;
}
export const CHAPTER_07: LabPlan = { bridge: 'br0', bridgeAddr: '10.0.0.1/16', boxAddr: '10.0.0.2/16', subnet: '10.0.0.0/16' };

const ok = (name: string, actual: string): Piece => ({ name, status: 'ok', actual });
const missing = (name: string, expected: string): Piece => ({ name, status: 'missing', actual: '', expected });
const wrong = (name: string, actual: string, expected: string): Piece => ({ name, status: 'wrong', actual, expected });
const gw = (cidr: string): string => cidr.split('/')[0] ?? cidr;

interface NsFacts {
  present: boolean;
  links: IpLink[];
  addrs: Map<string, string[]>;
  defaultVia: string | null | undefined;
}

async function factsOf(ns: string, names: readonly string[]): Promise<NsFacts> {
  if (!names.includes(ns) || !(await netnsUsable(ns))) return { present: false, links: [], addrs: new Map(), defaultVia: undefined };
  const [links, addrs, routes] = await Promise.all([readLinks(ns), readAddrs(ns), readRoutes(ns)]);
  const d = routes.find((r) => r.dst === 'default');
  return {
    present: true,
    links,
    addrs: new Map(addrs.map((a) => [a.ifname, a.addrs.filter((x) => x.family === 'inet').map(cidrOf)])),
    defaultVia: d === undefined ? undefined : d.gateway,
  };
}

/** `ws-inet` with 198.51.100.1/24, up: one piece for a link that needs an address. */
function linkPiece(f: NsFacts, ns: string, ifname: string, want: string | null): Piece {
  const label = `${ifname} (${ns})`;
  const l = f.links.find((x) => x.ifname === ifname);
  const expected = `${want ? `${want}, ` : ''}UP`;
  if (!f.present) return missing(label, `netns ${ns}, then ${expected}`);
  if (!l) return missing(label, expected);
  const addrs = f.addrs.get(ifname) ?? [];
  const actual = `${addrs.join(', ') || 'no address'}, ${l.up ? 'UP' : 'DOWN'}`;
  return (want === null || addrs.includes(want)) && l.up ? ok(label, actual) : wrong(label, actual, expected);
}

function routePiece(f: NsFacts, ns: string, via: string): Piece {
  const label = `default route (${ns})`;
  if (!f.present) return missing(label, `default via ${via}`);
  if (f.defaultVia === undefined) return missing(label, `default via ${via}`);
  return f.defaultVia === via ? ok(label, `default via ${via}`) : wrong(label, `default via ${f.defaultVia ?? '(no gateway)'}`, `default via ${via}`);
}

export async function describeNetworking(plan: LabPlan = CHAPTER_07): Promise<NetworkingPicture> {
  const names = await netnsNames();
  const [net, host, box] = await Promise.all([factsOf(LAB.net, names), factsOf(LAB.host, names), factsOf(LAB.box, names)]);
  const nsPiece = (ns: string, f: NsFacts): Piece => (f.present ? ok(`netns ${ns}`, 'exists') : missing(`netns ${ns}`, `ip netns add ${ns}`));

  const bridge = host.links.find((l) => l.ifname === plan.bridge);
  const bridgeAddrs = host.addrs.get(plan.bridge) ?? [];
  const bridgeActual = bridge ? `${bridge.kind ?? '?'}, ${bridgeAddrs.join(', ') || 'no address'}, ${bridge.up ? 'UP' : 'DOWN'}` : '';
  const bridgePiece = !bridge
    ? missing(plan.bridge, `a bridge with ${plan.bridgeAddr}, UP`)
    : bridge.kind === 'bridge' && bridge.up && bridgeAddrs.includes(plan.bridgeAddr)
      ? ok(plan.bridge, bridgeActual)
      : wrong(plan.bridge, bridgeActual, `bridge, ${plan.bridgeAddr}, UP`);

  const forward = host.present ? await readSysctl(LAB.host, 'net.ipv4.ip_forward').catch(() => '?') : null;
  const forwardPiece = forward === null ? missing('ip_forward', '1') : forward === '1' ? ok('ip_forward', '1') : wrong('ip_forward', forward, '1');

  const rules = host.present ? (await readNatTable(LAB.host).catch(() => ({ rules: [] }))).rules.filter((r) => r.chain === 'POSTROUTING') : [];
  const good = rules.find((r) => masqueradeCovers(r, { subnet: plan.subnet, uplink: LAB.uplink }).ok);
  const masqPiece = good
    ? ok('MASQUERADE', canonicalRule(good))
    : rules.length > 0
      ? wrong('MASQUERADE', rules.map(canonicalRule).join('; '), `-A POSTROUTING -s ${plan.subnet} -o ${LAB.uplink} -j MASQUERADE`)
      : missing('MASQUERADE', `-A POSTROUTING -s ${plan.subnet} -o ${LAB.uplink} -j MASQUERADE`);

  // The veth: a pair with one end in ws-box and its peer in ws-host, as the chapter's checks pair them.
  const boxEnd = box.links.find((l) => l.kind === 'veth' && l.linkNetnsId !== null);
  const hostEnd = boxEnd ? host.links.find((l) => l.kind === 'veth' && l.ifindex === boxEnd.peerIndex && l.peerIndex === boxEnd.ifindex) : undefined;
  const hostEndPiece = !hostEnd
    ? missing('veth, host end', `a veth in ${LAB.host} with master ${plan.bridge}, UP`)
    : hostEnd.master === plan.bridge && hostEnd.up
      ? ok(`${hostEnd.ifname} (${LAB.host})`, `master ${plan.bridge}, UP`)
      : wrong(`${hostEnd.ifname} (${LAB.host})`, `${hostEnd.master ? `master ${hostEnd.master}` : 'no master'}, ${hostEnd.up ? 'UP' : 'DOWN'}`, `master ${plan.bridge}, UP`);
  const boxEndPiece = boxEnd ? linkPiece(box, LAB.box, boxEnd.ifname, plan.boxAddr) : missing(`veth, container end (${LAB.box})`, `${plan.boxAddr}, UP`);
  const lo = box.links.find((l) => l.ifname === 'lo');
  const loPiece = !box.present || !lo ? missing(`lo (${LAB.box})`, 'UP') : lo.up ? ok(`lo (${LAB.box})`, 'UP') : wrong(`lo (${LAB.box})`, 'DOWN', 'UP');

  return {
    family: 'networking',
    internet: [nsPiece(LAB.net, net), linkPiece(net, LAB.net, LAB.inet, `${LAB.netAddr}/${LAB.prefix}`)],
    uplink: [linkPiece(host, LAB.host, LAB.uplink, `${LAB.hostAddr}/${LAB.prefix}`), routePiece(host, LAB.host, LAB.netAddr)],
    host: [nsPiece(LAB.host, host), bridgePiece, forwardPiece, masqPiece],
    veth: [hostEndPiece, boxEndPiece],
    box: [nsPiece(LAB.box, box), loPiece, routePiece(box, LAB.box, gw(plan.bridgeAddr))],
  };
}
