// One fact each about the objects of a network namespace: it exists, a link is there with its
// kind, master and state, an address is on a link, a route, a NAT rule. Chapter 07 judges a whole lab in its own
// checks; these are the small, generic ones that `workshop record` drafts for a new object.
import { defineCheck, fail, pass, type Check } from './check.ts';
import { canonicalRule, readNatTable } from './iptables.ts';
import { cidrOf, netnsNames, readAddrs, readLinks, readRoutes, type IpLink } from './networking.ts';

/** What a link must be; a field left out is not judged. */
export interface LinkExpectation {
  /** veth, bridge, … (`ip -d link`'s info_kind) */
  kind?: string;
  /** the bridge it is a port of */
  master?: string;
  /** administratively up (the UP flag) */
  up?: boolean;
}

/** How a link differs from what is expected, one phrase each; empty when it matches. Pure. */
export function linkDifferences(l: IpLink, want: LinkExpectation): string[] {
  const out: string[] = [];
  if (want.kind !== undefined && l.kind !== want.kind) out.push(`kind ${l.kind ?? 'none'}, not ${want.kind}`);
  if (want.master !== undefined && l.master !== want.master) out.push(l.master === null ? `no master, not master ${want.master}` : `master ${l.master}, not ${want.master}`);
  if (want.up !== undefined && l.up !== want.up) out.push(l.up ? 'UP, not DOWN' : 'DOWN, not UP');
  return out;
}

/** What a link is, in the words of an expectation. */
const seen = (l: IpLink): LinkExpectation => ({ ...(l.kind === null ? {} : { kind: l.kind }), ...(l.master === null ? {} : { master: l.master }), up: l.up });

const describeWant = (ifname: string, want: LinkExpectation): string =>
  [ifname, want.kind, want.master === undefined ? undefined : `master ${want.master}`, want.up === undefined ? undefined : want.up ? 'UP' : 'DOWN'].filter((x) => x !== undefined).join(', ');

const fixOf = (ns: string, ifname: string, want: LinkExpectation, l: IpLink): string => {
  const parts: string[] = [];
  if (want.master !== undefined && l.master !== want.master) parts.push(`master ${want.master}`);
  if (want.up !== undefined && l.up !== want.up) parts.push(want.up ? 'up' : 'down');
  return parts.length > 0 ? `ip -n ${ns} link set ${ifname} ${parts.join(' ')}` : `delete it and make it again as a ${want.kind ?? 'link'}: ip -n ${ns} link del ${ifname}`;
};

/** The network namespace `name` exists (`ip netns list`). */
export const netnsExists = (name: string): Check =>
  defineCheck(`netns ${name} exists`, async () => {
    const names = await netnsNames();
    return names.includes(name) ? pass(`${name} in ip netns list`) : fail(`netns ${name}`, names.length > 0 ? `only ${names.join(', ')}` : 'no named network namespace', `ip netns add ${name}`);
  });

/** The link `ifname` is in the network namespace `ns`, with the kind, master and state asked for. */
export const linkIn = (ns: string, ifname: string, want: LinkExpectation = {}): Check =>
  defineCheck(`link ${ifname} in ${ns}${want.kind ? ` is a ${want.kind}` : ''}${want.master ? ` with master ${want.master}` : ''}${want.up === true ? ', UP' : ''}`, async () => {
    if (!(await netnsNames()).includes(ns)) return fail(describeWant(ifname, want), `there is no netns ${ns}`, `ip netns add ${ns}`);
    const links = await readLinks(ns);
    const l = links.find((x) => x.ifname === ifname);
    if (!l) return fail(describeWant(ifname, want), `${ns} has no ${ifname} (links: ${links.map((x) => x.ifname).join(', ') || 'none'})`, `make it: ip -n ${ns} link add ${ifname} type ${want.kind ?? '…'}`);
    const diff = linkDifferences(l, want);
    return diff.length === 0 ? pass(describeWant(ifname, seen(l))) : fail(describeWant(ifname, want), diff.join('; '), fixOf(ns, ifname, want, l));
  });

/** The link `ifname` in `ns` has the IPv4 or IPv6 address `cidr` (e.g. `10.0.0.1/16`). */
export const addressOn = (ns: string, ifname: string, cidr: string): Check =>
  defineCheck(`${ifname} in ${ns} has ${cidr}`, async () => {
    if (!(await netnsNames()).includes(ns)) return fail(`${cidr} on ${ifname}`, `there is no netns ${ns}`, `ip netns add ${ns}`);
    const link = (await readAddrs(ns)).find((a) => a.ifname === ifname);
    if (!link) return fail(`${cidr} on ${ifname}`, `${ns} has no ${ifname}`);
    const have = link.addrs.map(cidrOf);
    return have.includes(cidr) ? pass(`${ifname}: ${have.join(', ')}`) : fail(`${cidr} on ${ifname}`, have.length > 0 ? have.join(', ') : 'no address', `ip -n ${ns} addr add ${cidr} dev ${ifname}`);
  });

/** `ns` routes `dst` (a CIDR or `default`) via `gateway`. */
export const routeVia = (ns: string, dst: string, gateway: string): Check =>
  defineCheck(`${ns} routes ${dst} via ${gateway}`, async () => {
    if (!(await netnsNames()).includes(ns)) return fail(`${dst} via ${gateway}`, `there is no netns ${ns}`, `ip netns add ${ns}`);
    const r = (await readRoutes(ns)).find((x) => x.dst === dst);
    if (!r) return fail(`${dst} via ${gateway}`, `no route to ${dst}`, `ip -n ${ns} route add ${dst} via ${gateway}`);
    return r.gateway === gateway ? pass(`${dst} via ${gateway}${r.dev ? ` dev ${r.dev}` : ''}`) : fail(`${dst} via ${gateway}`, `${dst} via ${r.gateway ?? '(no gateway)'}`, `ip -n ${ns} route replace ${dst} via ${gateway}`);
  });

/** The nat table of `ns` holds `rule` in iptables-save's canonical form (`-A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE`). */
export const natRule = (ns: string, rule: string): Check =>
  defineCheck(`the nat table of ${ns} has ${rule}`, async () => {
    if (!(await netnsNames()).includes(ns)) return fail(rule, `there is no netns ${ns}`, `ip netns add ${ns}`);
    const rules = (await readNatTable(ns)).rules.map(canonicalRule);
    return rules.includes(rule) ? pass(rule) : fail(rule, rules.length > 0 ? rules.join('; ') : 'no rule in the nat table', `ip netns exec ${ns} iptables -t nat ${rule}`);
  });
