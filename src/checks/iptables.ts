// NAT rules, compared in canonical form. `iptables-save` prints a table as chain headers and
// `-A CHAIN …` lines; the canonical form drops what varies between two equal rule sets (the
// timestamp comments, the [packets:bytes] counters of -c) and keeps a rule's options as data,
// so that a check asks "does a MASQUERADE rule cover 10.0.0.0/16 out of the uplink?" instead
// of comparing strings that iptables may print in another order.
import { inSubnet, ipv4ToNumber } from './networking.ts';
import { runInNetns } from '../sys/exec.ts';

/** A match that `!` may negate, such as `! -o br0`. */
export interface Negatable {
  value: string;
  negated: boolean;
}

/** One rule of `iptables-save`, in a canonical form that compares equal however it was typed. */
export interface IptRule {
  chain: string;
  source: Negatable | null;
  destination: Negatable | null;
  inInterface: Negatable | null;
  outInterface: Negatable | null;
  protocol: Negatable | null;
  /** other matches, e.g. `-m comment --comment "ws lab"`, as tokens */
  matches: string[];
  target: string | null;
  targetArgs: string[];
  /** `iptables-save -c` only: how many packets (new connections, in nat) matched. Not part of the canonical form. */
  packets: number | null;
}

/** A chain of a table and its policy (`-` for a user chain). */
export interface IptChain {
  name: string;
  /** ACCEPT/DROP for a built-in chain, `-` for a user chain */
  policy: string;
}

/** One table of `iptables-save`: its chains with their policies, and its rules. */
export interface IptTable {
  name: string;
  chains: IptChain[];
  rules: IptRule[];
}

/** Splits a rule line as a shell would: iptables-save quotes comments ("ws lab"). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return out;
}

const FIELDS: Record<string, keyof Pick<IptRule, 'source' | 'destination' | 'inInterface' | 'outInterface' | 'protocol'>> = {
  '-s': 'source',
  '-d': 'destination',
  '-i': 'inInterface',
  '-o': 'outInterface',
  '-p': 'protocol',
};

/** One `-A CHAIN …` line (counters already removed). */
export function parseRule(line: string, packets: number | null = null): IptRule {
  const t = tokenize(line);
  if (t[0] !== '-A' || t[1] === undefined) throw new Error(`iptables-save: not a rule: ${line}`);
  const rule: IptRule = { chain: t[1], source: null, destination: null, inInterface: null, outInterface: null, protocol: null, matches: [], target: null, targetArgs: [], packets };
  for (let i = 2; i < t.length; i++) {
    const tok = t[i] ?? '';
    const negated = tok === '!';
    const opt = negated ? (t[++i] ?? '') : tok;
    const field = FIELDS[opt];
    if (field !== undefined) {
      rule[field] = { value: t[++i] ?? '', negated };
    } else if (opt === '-j' || opt === '-g') {
      rule.target = t[++i] ?? null;
      rule.targetArgs = t.slice(i + 1);
      break;
    } else {
      rule.matches.push(...(negated ? ['!', opt] : [opt]));
    }
  }
  return rule;
}

/** `iptables-save [-c] [-t TABLE]` output as tables, chains and rules, without comments or counters. */
export function parseIptablesSave(text: string): IptTable[] {
  const tables: IptTable[] = [];
  let cur: IptTable | null = null;
  for (const raw of text.split('\n')) {
    // `-c` prefixes each rule with [packets:bytes]; counters are not part of what a rule is.
    const counted = /^\[(\d+):\d+\]\s+/.exec(raw.trim());
    const line = raw.trim().slice(counted?.[0].length ?? 0);
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [], rules: [] };
      tables.push(cur);
    } else if (line === 'COMMIT') {
      cur = null;
    } else if (cur === null) {
      throw new Error(`iptables-save: "${line}" outside a table`);
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      cur.chains.push({ name: name ?? '', policy: policy ?? '-' });
    } else {
      cur.rules.push(parseRule(line, counted ? Number(counted[1]) : null));
    }
  }
  return tables;
}

const neg = (n: Negatable | null, opt: string): string[] => (n === null ? [] : [...(n.negated ? ['!'] : []), opt, n.value]);
const quote = (s: string): string => (/^[\w./:,+!-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

/** The canonical text of a rule: fixed option order, no counters. Equal rules give equal text. */
export function canonicalRule(r: IptRule): string {
  return [
    '-A', r.chain,
    ...neg(r.source, '-s'), ...neg(r.destination, '-d'), ...neg(r.inInterface, '-i'), ...neg(r.outInterface, '-o'), ...neg(r.protocol, '-p'),
    ...r.matches,
    ...(r.target === null ? [] : ['-j', r.target, ...r.targetArgs]),
  ].map(quote).join(' ');
}

/** The canonical form of a whole table: its chains and rules, one per line, sorted chains first. */
export function canonicalTable(t: IptTable): string {
  return [`*${t.name}`, ...t.chains.map((c) => `:${c.name} ${c.policy}`), ...t.rules.map(canonicalRule)].join('\n');
}

/** Whether every address of `inner` (a CIDR) lies in `outer` (a CIDR). */
export function subnetCovers(outer: string, inner: string): boolean {
  const [ib, ibits] = inner.split('/');
  const [, obits] = outer.split('/');
  if (ipv4ToNumber(ib ?? '') === null) return false;
  return Number(obits ?? '32') <= Number(ibits ?? '32') && inSubnet(ib ?? '', outer);
}

/** iptables interface names may end in `+`, a prefix wildcard. */
const ifaceMatches = (pattern: string, name: string): boolean => (pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

/**
 * Whether a rule masquerades every packet from `subnet` leaving through `uplink`. Conservative:
 * a rule with other matches (a protocol, a mark) covers only part of the traffic and does not count.
 */
export function masqueradeCovers(r: IptRule, want: { subnet: string; uplink: string }): { ok: true } | { ok: false; why: string } {
  if (r.chain !== 'POSTROUTING') return { ok: false, why: `it is in ${r.chain}, not POSTROUTING` };
  if (r.target !== 'MASQUERADE') return { ok: false, why: `its target is ${r.target ?? 'none'}` };
  if (r.source !== null) {
    const covered = subnetCovers(r.source.value, want.subnet);
    if (r.source.negated ? inSubnet(want.subnet.split('/')[0] ?? '', r.source.value) : !covered) return { ok: false, why: `it matches source ${r.source.negated ? '! ' : ''}${r.source.value}, not ${want.subnet}` };
  }
  if (r.destination !== null && !r.destination.negated) return { ok: false, why: `it only matches destination ${r.destination.value}` };
  if (r.outInterface !== null) {
    const hit = ifaceMatches(r.outInterface.value, want.uplink);
    if (hit === r.outInterface.negated) return { ok: false, why: `it matches output interface ${r.outInterface.negated ? '! ' : ''}${r.outInterface.value}, and the lab's uplink is ${want.uplink}` };
  }
  if (r.protocol !== null) return { ok: false, why: `it only matches protocol ${r.protocol.negated ? '! ' : ''}${r.protocol.value}` };
  const other = r.matches.filter((m, i, all) => !(m === '-m' && all[i + 1] === 'comment') && !(m === 'comment' && all[i - 1] === '-m') && !(m === '--comment' || all[i - 1] === '--comment'));
  if (other.length > 0) return { ok: false, why: `it has other matches: ${other.join(' ')}` };
  return { ok: true };
}

/** The nat table inside a network namespace. A namespace where nat was never used prints an empty one (recorded). */
export async function readNatTable(ns: string, opts: { counters?: boolean } = {}): Promise<IptTable> {
  const r = await runInNetns(ns, 'iptables-save', [...(opts.counters === true ? ['-c'] : []), '-t', 'nat'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`iptables-save -t nat in ${ns}: ${r.stderr.trim()}`);
  return parseIptablesSave(r.stdout).find((t) => t.name === 'nat') ?? { name: 'nat', chains: [], rules: [] };
}
