// Links, addresses, routes and bridge ports, read with `ip -j` / `bridge -j` inside a named
// network namespace. The parsers are pure and tested on output recorded in the lab; the readers
// below them are the only side effects.
import { readdir } from 'node:fs/promises';
import { run, runInNetns, runProbe } from '../sys/exec.ts';
import { isRecord } from '../sys/lang.ts';
import { cachedProbe } from '../sys/probe-cache.ts';

/** One link of `ip -j -d link show`. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  /** administratively up: the UP flag (operstate may still be DOWN without a carrier) */
  up: boolean;
  operstate: string;
  /** the MAC address */
  address: string | null;
  /** the bridge it is attached to */
  master: string | null;
  /** `-d` output only: veth, bridge, … */
  kind: string | null;
  /** for a veth: the peer's ifindex, in the namespace named by linkNetnsId when that is set */
  peerIndex: number | null;
  /** set when the peer lives in another network namespace (an id local to this one) */
  linkNetnsId: number | null;
}

/** One address of a link. */
export interface IpAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

/** A link with its addresses (`ip -j addr show`). */
export interface IpLinkAddresses {
  ifindex: number;
  ifname: string;
  up: boolean;
  addrs: IpAddress[];
}

/** One route of `ip -j route show`. */
export interface IpRoute {
  /** `default` or a CIDR such as `10.0.0.0/16` */
  dst: string;
  gateway: string | null;
  dev: string | null;
}

/** A port of a bridge (`bridge -j link show`). */
export interface BridgePort {
  ifname: string;
  master: string | null;
  /** forwarding, learning, disabled, … */
  state: string | null;
}

/** A neighbour (ARP) entry: a container that has talked to its gateway has one for it. */
export interface IpNeighbour {
  dst: string;
  dev: string | null;
  lladdr: string | null;
  /** REACHABLE, STALE, DELAY, FAILED, INCOMPLETE, … */
  state: string[];
}

/** One `conntrack -L` line: the original direction and the reply the kernel expects. */
export interface ConntrackEntry {
  proto: string;
  orig: { src: string; dst: string };
  reply: { src: string; dst: string };
}

type Obj = Record<string, unknown>;
const isObj = isRecord;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** ip and bridge print nothing at all (not `[]`) for some empty answers, e.g. `ip -j route` with no routes. */
function jsonObjects(text: string, what: string): Obj[] {
  if (text.trim() === '') return [];
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array`);
  return v.map((x) => {
    if (!isObj(x)) throw new Error(`${what}: expected objects in the array`);
    return x;
  });
}

/** `ip -j [-d] link show`. */
export function parseIpLinks(text: string): IpLink[] {
  return jsonObjects(text, 'ip -j link').map((l) => {
    const ifname = str(l.ifname);
    const ifindex = num(l.ifindex);
    if (ifname === null || ifindex === null) throw new Error('ip -j link: an entry without ifname or ifindex');
    const flags = Array.isArray(l.flags) ? l.flags.filter((f): f is string => typeof f === 'string') : [];
    const info = isObj(l.linkinfo) ? l.linkinfo : {};
    return {
      ifindex,
      ifname,
      flags,
      up: flags.includes('UP'),
      operstate: str(l.operstate) ?? 'UNKNOWN',
      address: str(l.address),
      master: str(l.master),
      kind: str(info.info_kind),
      peerIndex: num(l.link_index),
      linkNetnsId: num(l.link_netnsid),
    };
  });
}

/** `ip -j addr show`. */
export function parseIpAddrs(text: string): IpLinkAddresses[] {
  return jsonObjects(text, 'ip -j addr').map((l) => {
    const ifname = str(l.ifname);
    const ifindex = num(l.ifindex);
    if (ifname === null || ifindex === null) throw new Error('ip -j addr: an entry without ifname or ifindex');
    const flags = Array.isArray(l.flags) ? l.flags : [];
    const infos = Array.isArray(l.addr_info) ? l.addr_info.filter(isObj) : [];
    const addrs = infos.flatMap((a): IpAddress[] => {
      const family = str(a.family);
      const local = str(a.local);
      const prefixlen = num(a.prefixlen);
      return (family === 'inet' || family === 'inet6') && local !== null && prefixlen !== null ? [{ family, local, prefixlen }] : [];
    });
    return { ifindex, ifname, up: flags.includes('UP'), addrs };
  });
}

/** `ip -j route show` (the main table). */
export function parseIpRoutes(text: string): IpRoute[] {
  return jsonObjects(text, 'ip -j route').map((r) => {
    const dst = str(r.dst);
    if (dst === null) throw new Error('ip -j route: a route without dst');
    return { dst, gateway: str(r.gateway), dev: str(r.dev) };
  });
}

/** `ip -j neigh show`. */
export function parseIpNeigh(text: string): IpNeighbour[] {
  return jsonObjects(text, 'ip -j neigh').map((n) => {
    const dst = str(n.dst);
    if (dst === null) throw new Error('ip -j neigh: an entry without dst');
    const state = Array.isArray(n.state) ? n.state.filter((x): x is string => typeof x === 'string') : [];
    return { dst, dev: str(n.dev), lladdr: str(n.lladdr), state };
  });
}

/** An answered neighbour: the peer replied to ARP at some point (not FAILED or INCOMPLETE). */
export const neighbourAnswered = (n: IpNeighbour): boolean => n.lladdr !== null && !n.state.some((s) => s === 'FAILED' || s === 'INCOMPLETE');

/**
 * `bridge -j link show`: one entry per bridge port. Its `link` field names the peer's ifindex as
 * if it were local (recorded: veth0 shows `"link":"ws-uplink"`), so it is not used.
 */
export function parseBridgeLinks(text: string): BridgePort[] {
  return jsonObjects(text, 'bridge -j link').map((p) => {
    const ifname = str(p.ifname);
    if (ifname === null) throw new Error('bridge -j link: a port without ifname');
    return { ifname, master: str(p.master), state: str(p.state) };
  });
}

/**
 * `conntrack -L` lines: `icmp 1 29 src=A dst=B type=8 … src=B dst=C …`. The first src/dst pair is
 * the original direction, the second the reply; with MASQUERADE the reply goes to the uplink
 * address, not to the container. The summary line goes to stderr and is not part of the text.
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const proto = words[0];
    const src = words.filter((w) => w.startsWith('src=')).map((w) => w.slice(4));
    const dst = words.filter((w) => w.startsWith('dst=')).map((w) => w.slice(4));
    const [os, rs] = src;
    const [od, rd] = dst;
    if (proto === undefined || os === undefined || rs === undefined || od === undefined || rd === undefined) continue;
    out.push({ proto, orig: { src: os, dst: od }, reply: { src: rs, dst: rd } });
  }
  return out;
}

/** `10.0.0.2/16` from an address. */
export const cidrOf = (a: Pick<IpAddress, 'local' | 'prefixlen'>): string => `${a.local}/${a.prefixlen}`;

export function ipv4ToNumber(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Whether `ip` lies in `cidr` (IPv4). */
export function inSubnet(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipv4ToNumber(ip);
  const b = ipv4ToNumber(base ?? '');
  const n = Number(bits ?? '32');
  if (a === null || b === null || !(n >= 0 && n <= 32)) return false;
  const size = 2 ** (32 - n);
  return Math.floor(a / size) === Math.floor(b / size);
}

// ---- readers: the only side effects of this family ----

/**
 * The one `ip -j` runner: in the named netns, or the root one when `ns` is undefined. Each query
 * runs once per verify (sys/probe-cache.ts), however many checks ask it, and synchronously
 * (sys/exec.ts's runProbe: `ip` answers in ~2 ms, and an asynchronous spawn cost more than that).
 */
function ipIn(ns: string | undefined, args: readonly string[]): Promise<string> {
  const argv = [...(ns === undefined ? [] : ['-n', ns]), '-j', ...args];
  const batched = ns === undefined ? -1 : BATCH.findIndex((b) => b.join(' ') === args.join(' '));
  return cachedProbe(`ip ${argv.join(' ')}`, async () => {
    if (ns !== undefined && batched >= 0) {
      const texts = await ipBatch(ns);
      if (texts.kind === 'failed') throw new Error(`ip ${argv.join(' ')}: ${texts.stderr}`);
      if (texts.kind === 'read') return texts.texts[batched] ?? '';
      // an answer not in three lines: asked alone, as before
    }
    const r = runProbe('ip', argv, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip ${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code ?? 'signal'}`}`);
    return r.stdout;
  });
}

/**
 * The three queries that most checks of a netns make, in one spawn per netns and verify (issue 26:
 * networking/bridge's `next` ran 7 `ip` spawns). `ip -d` is global in a batch (a line cannot carry
 * it): it adds fields to addr and route that their parsers do not read (the parsed answers are
 * equal, tested on output recorded in the lab).
 */
const BATCH = [['-d', 'link', 'show'], ['addr', 'show'], ['route', 'show']] as const;

type Batched = { kind: 'read'; texts: string[] } | { kind: 'failed'; stderr: string } | { kind: 'unsplit' };

/** Splits `ip -j -batch`'s answer: one JSON array a line, one line per query, or `unsplit`. */
export function splitIpBatch(stdout: string, queries: number): string[] | 'unsplit' {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  return lines.length === queries && lines.every((l) => l.startsWith('[') && l.trimEnd().endsWith(']')) ? lines : 'unsplit';
}

const ipBatch = (ns: string): Promise<Batched> =>
  cachedProbe(`ip -n ${ns} -j -d -batch`, async (): Promise<Batched> => {
    const r = runProbe('ip', ['-n', ns, '-j', '-d', '-batch', '-'], { timeoutMs: 10_000, input: `${BATCH.map((q) => q.filter((a) => a !== '-d').join(' ')).join('\n')}\n` });
    if (r.code !== 0) return { kind: 'failed', stderr: r.stderr.trim() || `exit ${r.code ?? 'signal'}` };
    const texts = splitIpBatch(r.stdout, BATCH.length);
    return texts === 'unsplit' ? { kind: 'unsplit' } : { kind: 'read', texts };
  });

/** The links of a netns (the root one when `ns` is undefined). */
export const readLinks = async (ns?: string): Promise<IpLink[]> => parseIpLinks(await ipIn(ns, ['-d', 'link', 'show']));
/**
 * The links of a process's network namespace, which may have no name (`unshare --net`): read with
 * `nsenter -t PID -n ip -j -d link show`.
 */
export async function readLinksOfProcess(pid: number): Promise<IpLink[]> {
  const r = await run('nsenter', ['-t', String(pid), '-n', 'ip', '-j', '-d', 'link', 'show'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip -j -d link show in the network namespace of PID ${pid}: ${r.stderr.trim() || `exit ${r.code ?? 'signal'}`}`);
  return parseIpLinks(r.stdout);
}
/** The addresses of every link in a named netns (`ip -n NS -j addr show`). */
export const readAddrs = async (ns: string): Promise<IpLinkAddresses[]> => parseIpAddrs(await ipIn(ns, ['addr', 'show']));
/** The main routing table of a named netns (`ip -n NS -j route show`). */
export const readRoutes = async (ns: string): Promise<IpRoute[]> => parseIpRoutes(await ipIn(ns, ['route', 'show']));

/** The neighbour (ARP) table of a named netns (`ip -n NS -j neigh show`). */
export const readNeighbours = async (ns: string): Promise<IpNeighbour[]> => parseIpNeigh(await ipIn(ns, ['neigh', 'show']));

/** The ports of the bridges in a named netns (`bridge -j link show`). */
export async function readBridgePorts(ns: string): Promise<BridgePort[]> {
  const r = await runInNetns(ns, 'bridge', ['-j', 'link', 'show'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`bridge -j link show in ${ns}: ${r.stderr.trim()}`);
  return parseBridgeLinks(r.stdout);
}

/** A named network namespace (`ip -j netns list`). */
export interface NetnsEntry {
  name: string;
  /** the nsid the root namespace gave it; veths in the root namespace name their peer's by it */
  id: number | null;
}

/** `ip -j netns list`. With no namespaces it prints nothing at all, not `[]` (recorded). */
export function parseNetnsList(text: string): NetnsEntry[] {
  return jsonObjects(text, 'ip -j netns list').map((n) => {
    const name = str(n.name);
    if (name === null) throw new Error('ip -j netns list: an entry without a name');
    return { name, id: num(n.id) };
  });
}

/** The named network namespaces (`ip netns list`), with their nsid, without ip's nsid noise on stderr. */
export const readNetns = async (): Promise<NetnsEntry[]> => parseNetnsList(await ipIn(undefined, ['netns', 'list']));

/**
 * The names of the named network namespaces: what `ip netns list` lists, the entries of /run/netns,
 * read without a spawn (issue 26). Where the folder is missing there are none, as ip says.
 */
export async function netnsNames(): Promise<string[]> {
  try {
    return await readdir(NETNS_RUN_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
const NETNS_RUN_DIR = '/run/netns';

/** The IPv4 addresses of one interface, as `10.0.0.1/16`. */
export const inetAddrs = async (ns: string, ifname: string): Promise<string[]> =>
  (await readAddrs(ns)).filter((l) => l.ifname === ifname).flatMap((l) => l.addrs.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));

/**
 * Whether /run/netns/NAME really holds a namespace. `ip netns add` typed inside `ip netns exec`
 * leaves only an empty file here: its bind mount stays in that command's own mount namespace
 * (measured), and `ip netns list` still lists the name.
 */
export const netnsUsable = (name: string): Promise<boolean> =>
  // the batch of a verify's link, addr and route queries enters the netns too: no spawn of its own
  cachedProbe(`netns usable ${name}`, async () => (await ipBatch(name)).kind !== 'failed');

/** A sysctl as seen inside a namespace (/proc/sys/net follows the reader's netns). */
export async function readSysctl(ns: string, key: string): Promise<string> {
  const r = await runInNetns(ns, 'sysctl', ['-n', key], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`sysctl -n ${key} in ${ns}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** What {@link pingFrom} saw: replies, or why there were none. */
export type PingResult = { ok: true; summary: string } | { ok: false; summary: string };

/** One ping with a 1 s timeout, sent from inside `ns` (a netns name, or `pid:N` for a process's). */
export async function pingFrom(ns: string, target: string): Promise<PingResult> {
  const args = ['-c', '1', '-W', '1', target];
  const r = ns.startsWith('pid:')
    ? await run('nsenter', ['-t', ns.slice(4), '-n', 'ping', ...args], { timeoutMs: 5000 })
    : await runInNetns(ns, 'ping', args, { timeoutMs: 5000 });
  const stats = r.stdout.split('\n').find((l) => l.includes('packets transmitted')) ?? (r.stderr.trim() || `exit ${r.code ?? 'signal'}`);
  return r.code === 0 ? { ok: true, summary: stats.trim() } : { ok: false, summary: stats.trim() };
}

/** Connection-tracking entries in a named netns (`conntrack -L` with a filter such as `-p icmp`). */
export async function readConntrack(ns: string, filter: readonly string[]): Promise<ConntrackEntry[]> {
  const r = await runInNetns(ns, 'conntrack', ['-L', ...filter], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`conntrack -L in ${ns}: ${r.stderr.trim()}`);
  return parseConntrack(r.stdout);
}
