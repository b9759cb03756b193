import { describe, expect, it } from 'vitest';
import { labFlags } from '../../src/cli/commands/classroom/labs-flags.ts';

describe('classroom serve --labs: the flags', () => {
  it('gives no labs without --labs, and refuses a lab flag alone', () => {
    expect(labFlags({})).toBeUndefined();
    expect(() => labFlags({ warm: '2' })).toThrow(/--warm goes with --labs N/);
    expect(() => labFlags({ expire: true })).toThrow(/--expire goes with --labs N/);
  });

  it('reads N, W, the per-VM bounds, the idle stop and --expire, with the issue’s defaults', () => {
    expect(labFlags({ labs: '30' })).toEqual({ capacity: 30, warm: 0, spec: { memoryMiB: 1024, cpus: 1 }, idleStopMs: 20 * 60_000, image: undefined, accel: 'auto', expire: false });
    expect(labFlags({ labs: '4', warm: '2', 'lab-memory': '2048', 'lab-cpus': '2', 'idle-stop': '5m', 'lab-image': '/img', 'lab-accel': 'tcg', expire: true })).toEqual({ capacity: 4, warm: 2, spec: { memoryMiB: 2048, cpus: 2 }, idleStopMs: 5 * 60_000, image: '/img', accel: 'tcg', expire: true });
  });

  it('refuses more warm VMs than labs, and bounds out of range', () => {
    expect(() => labFlags({ labs: '2', warm: '3' })).toThrow(/--warm 3: expected a whole number from 0 to 2/);
    expect(() => labFlags({ labs: '0' })).toThrow(/--labs 0/);
    expect(() => labFlags({ labs: '2', 'lab-memory': '64' })).toThrow(/--lab-memory 64/);
    expect(() => labFlags({ labs: 'many' })).toThrow(/--labs many/);
    expect(() => labFlags({ labs: '2', 'lab-accel': 'hvf' })).toThrow(/--lab-accel hvf: not one of auto, kvm, tcg/);
    expect(() => labFlags({ 'lab-accel': 'kvm' })).toThrow(/--lab-accel goes with --labs N/);
  });
});
