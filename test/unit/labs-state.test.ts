import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkVmId, parseSpec } from '../../src/labs/driver.ts';
import { idleEntries, labsFile, readEntries, reconcile, writeEntries, type LabEntry } from '../../src/labs/state.ts';

const entry = (vm: string, learner: string | null, lastActive = 0): LabEntry => ({ vm, learner, claimedAt: learner ? 't' : null, lastActive, bootId: null });
const vm = (id: string) => ({ id, spec: { memoryMiB: 1024, cpus: 1 }, createdAt: '', status: { state: 'running' as const, pid: 1 } });

describe('labs.json and the driver', () => {
  it('drops an entry whose VM is gone and adopts a VM that no entry names as a warm one', () => {
    const out = reconcile([entry('lab-a', 'ada'), entry('lab-gone', 'bob')], [vm('lab-a'), vm('lab-orphan')], 42);
    expect(out).toEqual([entry('lab-a', 'ada'), { vm: 'lab-orphan', learner: null, claimedAt: null, lastActive: 42, bootId: null }]);
  });

  it('names as idle only labs held by a learner and quiet for the limit', () => {
    const es = [entry('a', 'ada', 0), entry('b', 'bob', 500), entry('w', null, 0)];
    expect(idleEntries(es, 1000, 1000).map((e) => e.vm)).toEqual(['a']);
  });

  it('reads back what it wrote, and an unreadable file as no labs', () => {
    const d = mkdtempSync(join(tmpdir(), 'ws-labs-state-'));
    try {
      writeEntries(d, [entry('lab-a', 'ada', 5)]);
      expect(readEntries(d)).toEqual([entry('lab-a', 'ada', 5)]);
      writeFileSync(labsFile(d), '{ not json');
      expect(readEntries(d)).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('takes only safe VM ids and bounded specs', () => {
    expect(checkVmId('lab-0a1b')).toBe('lab-0a1b');
    for (const bad of ['', '../x', 'Lab', 'a b', 'x'.repeat(49)]) expect(() => checkVmId(bad)).toThrow(/bad VM id/);
    expect(parseSpec({ memoryMiB: 1024, cpus: 1 })).toEqual({ memoryMiB: 1024, cpus: 1 });
    expect(parseSpec({ memoryMiB: 64, cpus: 1 })).toBeUndefined();
    expect(parseSpec({ memoryMiB: 1024, cpus: 0 })).toBeUndefined();
  });
});
