// The lab network: two named network namespaces that stand in for the VM host and the internet,
// so that the network chapters never touch the machine's own interfaces, routes or iptables.
//
//   ws-net  ("the internet")          ws-host ("the VM host")          ws-box (chapter 07)
//   ws-inet 198.51.100.1/24  <-veth->  ws-uplink 198.51.100.2/24  ...  br0 10.0.0.1/16 ... veth
//                                      default via 198.51.100.1
import { readFile, readlink } from 'node:fs/promises';
import { inetAddrs, netnsNames, readLinks, readNetns, readRoutes, type IpLink } from './networking.ts';
import { run, runOk } from '../sys/exec.ts';
import { listPids } from './proc.ts';
import { sleep } from '../sys/lang.ts';

/** The names and addresses of the lab network that the network chapters run in. */
export const LAB = {
  host: 'ws-host',
  net: 'ws-net',
  /** the container netns of chapter 07; it lives in the lab and goes with it */
  box: 'ws-box',
  uplink: 'ws-uplink',
  inet: 'ws-inet',
  hostAddr: '198.51.100.2',
  netAddr: '198.51.100.1',
  prefix: 24,
} as const;

/** Whether the lab network is up, what is wrong if not, and which lab namespaces exist. */
export interface LabStatus {
  up: boolean;
  /** what is missing or wrong; empty when up */
  problems: string[];
  namespaces: string[];
}


/** Pure: what is wrong with the lab, given what the kernel says. */
export function labProblems(f: { names: readonly string[]; hostLinks: readonly IpLink[] | null; netLinks: readonly IpLink[] | null; hostAddrs: readonly string[]; netAddrs: readonly string[]; hostDefault: string | null }): string[] {
  const p: string[] = [];
  for (const ns of [LAB.host, LAB.net]) if (!f.names.includes(ns)) p.push(`netns ${ns} is missing`);
  const up = (links: readonly IpLink[] | null, name: string, ns: string): void => {
    const l = links?.find((x) => x.ifname === name);
    if (links !== null && !l) p.push(`${name} is missing in ${ns}`);
    else if (l && !l.up) p.push(`${name} is down in ${ns}`);
  };
  up(f.hostLinks, 'lo', LAB.host);
  up(f.hostLinks, LAB.uplink, LAB.host);
  up(f.netLinks, 'lo', LAB.net);
  up(f.netLinks, LAB.inet, LAB.net);
  if (f.hostLinks !== null && !f.hostAddrs.includes(`${LAB.hostAddr}/${LAB.prefix}`)) p.push(`${LAB.uplink} has no ${LAB.hostAddr}/${LAB.prefix}`);
  if (f.netLinks !== null && !f.netAddrs.includes(`${LAB.netAddr}/${LAB.prefix}`)) p.push(`${LAB.inet} has no ${LAB.netAddr}/${LAB.prefix}`);
  if (f.hostLinks !== null && f.hostDefault !== LAB.netAddr) p.push(`${LAB.host} has no default route via ${LAB.netAddr}`);
  return p;
}


/** Whether the lab is up, and what is missing or wrong if not. */
export async function labStatus(): Promise<LabStatus> {
  const names = await netnsNames();
  const hasHost = names.includes(LAB.host);
  const hasNet = names.includes(LAB.net);
  const [hostLinks, netLinks, hostAddrs, netAddrs, routes] = await Promise.all([
    hasHost ? readLinks(LAB.host) : null,
    hasNet ? readLinks(LAB.net) : null,
    hasHost ? inetAddrs(LAB.host, LAB.uplink) : [],
    hasNet ? inetAddrs(LAB.net, LAB.inet) : [],
    hasHost ? readRoutes(LAB.host) : [],
  ]);
  const hostDefault = routes.find((r) => r.dst === 'default')?.gateway ?? null;
  const problems = labProblems({ names, hostLinks, netLinks, hostAddrs, netAddrs, hostDefault });
  return { up: problems.length === 0, problems, namespaces: names.filter((n) => [LAB.host, LAB.net, LAB.box].includes(n as never)) };
}

/**
 * Builds the lab, or repairs what is missing of it: safe to run again at any time. `log` receives
 * each command as it runs, so that a learner can read along.
 */
export async function labUp(log: (line: string) => void = () => {}): Promise<LabStatus> {
  const sh = async (args: string[]): Promise<void> => {
    log(args.join(' '));
    await runOk(args[0] ?? '', args.slice(1), { timeoutMs: 10_000 });
  };
  const names = await netnsNames();
  for (const ns of [LAB.host, LAB.net]) if (!names.includes(ns)) await sh(['ip', 'netns', 'add', ns]);
  const [hostLinks, netLinks] = await Promise.all([readLinks(LAB.host), readLinks(LAB.net)]);
  const uplink = hostLinks.find((l) => l.ifname === LAB.uplink);
  const inet = netLinks.find((l) => l.ifname === LAB.inet);
  if (!uplink || !inet || uplink.peerIndex !== inet.ifindex) {
    // A half of an old pair (its peer gone with an older ws-net) is replaced by a fresh pair.
    if (uplink) await sh(['ip', '-n', LAB.host, 'link', 'del', LAB.uplink]);
    if (inet) await run('ip', ['-n', LAB.net, 'link', 'del', LAB.inet]);
    // Made directly inside the two namespaces: the pair never appears in the root namespace.
    await sh(['ip', 'link', 'add', LAB.uplink, 'netns', LAB.host, 'type', 'veth', 'peer', 'name', LAB.inet, 'netns', LAB.net]);
  }
  for (const ns of [LAB.host, LAB.net]) await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await sh(['ip', '-n', LAB.net, 'addr', 'replace', `${LAB.netAddr}/${LAB.prefix}`, 'dev', LAB.inet]);
  await sh(['ip', '-n', LAB.net, 'link', 'set', LAB.inet, 'up']);
  await sh(['ip', '-n', LAB.host, 'addr', 'replace', `${LAB.hostAddr}/${LAB.prefix}`, 'dev', LAB.uplink]);
  await sh(['ip', '-n', LAB.host, 'link', 'set', LAB.uplink, 'up']);
  await sh(['ip', '-n', LAB.host, 'route', 'replace', 'default', 'via', LAB.netAddr]);
  const st = await labStatus();
  if (!st.up) throw new Error(`the lab is still incomplete after lab up: ${st.problems.join('; ')}`);
  return st;
}

/** The inode of a named netns: what /proc/PID/ns/net of a process inside it links to. */
async function netnsInode(name: string): Promise<string | null> {
  const r = await run('stat', ['-L', '-c', '%i', `/run/netns/${name}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Processes whose network namespace is `inode` (a shell left open with `workshop shell host`). */
export async function processesInNetns(inode: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await listPids()) {
    const link = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
    if (link === `net:[${inode}]`) out.push(pid);
  }
  return out;
}

async function processName(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
}

/**
 * Deletes named network namespaces and waits until they are really gone. `ip netns del` only
 * removes the name: the kernel tears the namespace down 6–31 ms later (measured), and only once
 * no process is left inside. Until then its veth pairs still exist, with their peers in the other
 * namespaces. So we wait for the names and for every peer link that pointed into the namespace.
 */
export async function deleteNetns(names: readonly string[], log: (line: string) => void = () => {}, timeoutMs = 5000): Promise<void> {
  for (const name of names) {
    const all = await readNetns();
    const me = all.find((n) => n.name === name);
    if (!me) continue;
    const inode = await netnsInode(name);
    // The veth ends whose peer lives in this namespace go with it: in the root namespace (they
    // name it by its nsid) and in every other named namespace (they pair by ifindex).
    const mine = (await readLinks(name).catch(() => [])).filter((l) => l.kind === 'veth');
    const peerLinks: Array<{ ns: string | undefined; ifname: string }> = [];
    if (me.id !== null) for (const l of await readLinks().catch(() => [])) if (l.linkNetnsId === me.id) peerLinks.push({ ns: undefined, ifname: l.ifname });
    for (const other of all.filter((n) => n.name !== name)) {
      for (const l of await readLinks(other.name).catch(() => [])) {
        if (l.kind === 'veth' && l.linkNetnsId !== null && mine.some((m) => m.peerIndex === l.ifindex && l.peerIndex === m.ifindex)) peerLinks.push({ ns: other.name, ifname: l.ifname });
      }
    }
    log(`ip netns del ${name}`);
    await runOk('ip', ['netns', 'del', name], { timeoutMs: 10_000 });
    const end = Date.now() + timeoutMs;
    for (;;) {
      const left: string[] = [];
      const present = await netnsNames();
      for (const p of peerLinks) {
        if (p.ns !== undefined && !present.includes(p.ns)) continue;
        if ((await readLinks(p.ns).catch(() => [])).some((l) => l.ifname === p.ifname)) left.push(`${p.ifname} in ${p.ns ?? 'the root namespace'}`);
      }
      if (left.length === 0 && !present.includes(name)) break;
      if (Date.now() > end) {
        const holders = inode === null ? [] : await processesInNetns(inode);
        const who = await Promise.all(holders.map(async (pid) => `${pid} (${await processName(pid)})`));
        throw new Error(`${name} was deleted, but after ${timeoutMs} ms ${left.join(', ') || 'its name'} still existed${who.length > 0 ? `; processes still inside keep it alive: ${who.join(', ')}` : ''}`);
      }
      await sleep(5);
    }
  }
}

/** Takes the whole lab down, the chapter's container netns first, and waits until it is gone. */
export async function labDown(log: (line: string) => void = () => {}): Promise<void> {
  await deleteNetns([LAB.box, LAB.host, LAB.net], log);
}
