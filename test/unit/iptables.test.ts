import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalRule, canonicalTable, masqueradeCovers, parseIptablesSave, subnetCovers, tokenize } from '../../src/checks/iptables.ts';

const fx = (name: string): string => readFileSync(new URL(`../fixtures/iptables/${name}`, import.meta.url), 'utf8');
const nat = (name: string) => {
  const t = parseIptablesSave(fx(name)).find((x) => x.name === 'nat');
  if (!t) throw new Error('no nat table');
  return t;
};
const pick = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i];
  if (x === undefined) throw new Error(`no item ${i}`);
  return x;
};
const WANT = { subnet: '10.0.0.0/16', uplink: 'ws-uplink' };

describe('parseIptablesSave', () => {
  it('reads the chains and the MASQUERADE rule of the lab', () => {
    const t = nat('nat-masquerade.txt');
    expect(t.chains.map((c) => `${c.name} ${c.policy}`)).toEqual(['PREROUTING ACCEPT', 'INPUT ACCEPT', 'OUTPUT ACCEPT', 'POSTROUTING ACCEPT']);
    expect(t.rules.map(canonicalRule)).toEqual(['-A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE']);
  });

  it('gives the same canonical form with and without -c counters, and keeps the count aside', () => {
    expect(canonicalTable(nat('nat-masquerade-counters.txt'))).toBe(canonicalTable(nat('nat-masquerade.txt')));
    expect(nat('nat-masquerade-counters.txt').rules[0]?.packets).toBe(1);
    expect(nat('nat-masquerade.txt').rules[0]?.packets).toBeNull();
  });

  it('reads an emptied nat table (left behind after -D: not residue) as no rules', () => {
    expect(nat('nat-emptied.txt').rules).toEqual([]);
    expect(nat('nat-none.txt').rules).toEqual([]);
  });

  it('reads negations, quoted comments, user chains and target options', () => {
    const t = nat('nat-variants.txt');
    expect(t.chains.find((c) => c.name === 'WS-CHAIN')?.policy).toBe('-');
    expect(t.rules.map(canonicalRule)).toEqual([
      '-A POSTROUTING -o eth0 -j MASQUERADE',
      '-A POSTROUTING -s 10.0.0.0/16 ! -o br0 -m comment --comment "ws lab" -j MASQUERADE',
      '-A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -p tcp -j MASQUERADE --to-ports 1024-65535',
      '-A WS-CHAIN -j RETURN',
    ]);
  });

  it('rejects a rule outside a table', () => {
    expect(() => parseIptablesSave('-A POSTROUTING -j MASQUERADE\n')).toThrow(/outside a table/);
  });
});

describe('tokenize', () => {
  it.each([
    ['-A X -m comment --comment "ws lab" -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'ws lab', '-j', 'ACCEPT']],
    ['-A X -m comment --comment "a \\"q\\"" -j ACCEPT', ['-A', 'X', '-m', 'comment', '--comment', 'a "q"', '-j', 'ACCEPT']],
  ])('%s', (line, want) => expect(tokenize(line)).toEqual(want));
});

describe('masqueradeCovers', () => {
  const rules = nat('nat-variants.txt').rules;
  it('accepts the lab rule', () => expect(masqueradeCovers(pick(nat('nat-masquerade.txt').rules, 0), WANT)).toEqual({ ok: true }));
  it("rejects the seed's -o eth0: the lab's host has no eth0", () => expect(masqueradeCovers(pick(rules, 0), WANT)).toMatchObject({ ok: false, why: expect.stringMatching(/eth0/) }));
  it('accepts Docker\'s form: ! -o br0 with a comment', () => expect(masqueradeCovers(pick(rules, 1), WANT)).toEqual({ ok: true }));
  it('rejects a rule for TCP only', () => expect(masqueradeCovers(pick(rules, 2), WANT)).toMatchObject({ ok: false, why: expect.stringMatching(/protocol tcp/) }));
  it('rejects NAT for the wrong subnet', () => expect(masqueradeCovers(pick(nat('nat-wrong-subnet.txt').rules, 0), WANT)).toMatchObject({ ok: false, why: expect.stringMatching(/10\.1\.0\.0\/16/) }));
  it('rejects a rule in another chain', () => expect(masqueradeCovers(pick(rules, 3), WANT).ok).toBe(false));
});

describe('subnetCovers', () => {
  it.each([
    ['10.0.0.0/16', '10.0.0.0/16', true],
    ['10.0.0.0/8', '10.0.0.0/16', true],
    ['0.0.0.0/0', '10.0.0.0/16', true],
    ['10.0.0.0/24', '10.0.0.0/16', false],
    ['10.1.0.0/16', '10.0.0.0/16', false],
  ])('%s covers %s: %s', (outer, inner, want) => expect(subnetCovers(outer, inner)).toBe(want));
});
