import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupPathOf, groupPath, layoutFor, parseFlatKeyed, parseLimit, parseProcCgroup } from '../../src/checks/cgroups.ts';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures/cgroup', name), 'utf8');

describe('parseFlatKeyed', () => {
  it.each([
    ['v1-pids-events-zero.txt', 'max', '0'],
    ['v1-pids-events-refused.txt', 'max', '1'],
    ['v1-memory-oom-control-zero.txt', 'oom_kill', '0'],
    ['v1-memory-oom-control-killed.txt', 'oom_kill', '1'],
    ['v2-cgroup-events.txt', 'populated', '0'],
  ])('reads %s: %s is %s', (name, key, value) => {
    expect(parseFlatKeyed(fixture(name)).get(key)).toBe(value);
  });
});

describe('parseLimit', () => {
  it.each([
    ['v1-pids-max-20.txt', 20],
    ['v1-memory-limit-32m.txt', 32 * 1024 * 1024],
    ['v1-memory-limit-unlimited.txt', 'max'],
  ])('reads %s', (name, want) => {
    expect(parseLimit(fixture(name))).toBe(want);
  });

  it('reads max, as pids.max and v2 memory.max say when unlimited', () => {
    expect(parseLimit('max\n')).toBe('max');
  });

  it('refuses text that is no limit', () => {
    expect(() => parseLimit('32M\n')).toThrow(/number or "max"/);
  });
});

describe('parseProcCgroup and cgroupPathOf', () => {
  it('finds the v1 pids and memory paths of a process moved into a group', () => {
    const lines = parseProcCgroup(fixture('proc-cgroup-v1-in-group.txt'));
    expect(cgroupPathOf(lines, 'pids', 'v1')).toBe('/ws-nsa-rec');
    expect(cgroupPathOf(lines, 'memory', 'v1')).toBe('/ws-nsa-rec');
  });

  it('reads the hybrid layout of this machine: the v2 line is 0::/', () => {
    const lines = parseProcCgroup(fixture('proc-cgroup-v1-hybrid.txt'));
    expect(lines.find((l) => l.id === 9)?.controllers).toEqual(['name=systemd']);
    expect(cgroupPathOf(lines, 'pids', 'v1')).toBe('/');
    expect(cgroupPathOf(lines, 'memory', 'v2')).toBe('/');
  });

  it('refuses a malformed line', () => {
    expect(() => parseProcCgroup('pids\n')).toThrow(/bad line/);
  });
});

describe('layoutFor', () => {
  it('puts a v1 group in one folder per controller, with v1 file names', () => {
    const l = layoutFor('v1');
    expect(l.dir('pids', 'ws-demo')).toBe('/sys/fs/cgroup/pids/ws-demo');
    expect(l.dir('memory', 'ws-demo')).toBe('/sys/fs/cgroup/memory/ws-demo');
    expect(l.files.memoryMax).toBe('memory.limit_in_bytes');
    expect(groupPath(l, 'memory', l.dir('memory', 'ws-demo'))).toBe('/ws-demo');
  });

  it('puts a v2 group in one folder, with memory.max and memory.events', () => {
    const l = layoutFor('v2');
    expect(l.dir('pids', 'ws-demo')).toBe(l.dir('memory', 'ws-demo'));
    expect(l.files).toMatchObject({ memoryMax: 'memory.max', memoryEvents: 'memory.events' });
    expect(groupPath(l, 'pids', l.dir('pids', 'ws-demo'))).toBe('/ws-demo');
  });
});
