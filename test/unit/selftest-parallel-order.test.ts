// `workshop test --jobs N` offers the longest chapter first (by what each took the last time), so
// that the two workers end together instead of the longest chapter starting last and running alone.
import { describe, expect, it } from 'vitest';
import { offerOrder } from '../../src/engine/selftest-parallel.ts';

const job = (id: string, index: number, claims: string[], seconds?: number) => ({ id, index, claims: new Set(claims), seconds });

describe('offerOrder', () => {
  it('offers the longest first, whatever it claims and wherever it stands', () => {
    // the VM guest's seconds: capstone and lvm first, preflight (which claims everything) last
    const jobs = [job('preflight', 0, ['process', 'netns', 'link', 'cgroup'], 9), job('overlayfs', 1, [], 30), job('lvm', 2, [], 162), job('capstone', 3, ['process', 'cgroup', 'netns', 'link'], 249), job('namespaces', 4, ['process'], 100)];
    expect(offerOrder(jobs).map((j) => j.id)).toEqual(['capstone', 'lvm', 'namespaces', 'overlayfs', 'preflight']);
  });

  it('offers a chapter with no time yet first, then by what it claims and its place, as before any run', () => {
    const jobs = [job('a', 0, []), job('b', 1, ['process', 'netns']), job('c', 2, ['process'], 500), job('d', 3, ['cgroup'])];
    expect(offerOrder(jobs).map((j) => j.id)).toEqual(['b', 'd', 'a', 'c']);
  });
});
