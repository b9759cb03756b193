// `workshop test --jobs N` offers first the chapters that claim most (the chain of chapters that
// clash with each other is the floor of the run), and among equals the longest (by what each took
// the last time), so that a long chapter does not start last and run alone at the end.
import { describe, expect, it } from 'vitest';
import { lastWords, offerOrder } from '../../src/engine/selftest-parallel.ts';

const job = (id: string, index: number, claims: string[], seconds?: number) => ({ id, index, claims: new Set(claims), seconds });

describe('offerOrder', () => {
  it('offers those that claim most first, and among equals the longest', () => {
    // the VM guest's seconds: capstone before preflight, lvm first of those that claim nothing
    const jobs = [
      job('preflight', 0, ['process', 'netns', 'link', 'cgroup'], 9),
      job('overlayfs', 1, [], 30),
      job('lvm', 2, [], 162),
      job('capstone', 3, ['process', 'cgroup', 'netns', 'link'], 249),
      job('namespaces', 4, ['process'], 100),
      job('chroot', 5, ['process'], 15),
    ];
    expect(offerOrder(jobs).map((j) => j.id)).toEqual(['capstone', 'preflight', 'namespaces', 'chroot', 'lvm', 'overlayfs']);
  });

  it('counts a chapter with no time yet as the longest, and keeps their own order among those', () => {
    const jobs = [job('a', 0, []), job('b', 1, [], 500), job('c', 2, []), job('d', 3, ['cgroup'], 1)];
    expect(offerOrder(jobs).map((j) => j.id)).toEqual(['d', 'a', 'c', 'b']);
  });
});

describe('what a chapter that left no report said last', () => {
  it('quotes its error, its hint and the top of the stack that DEBUG=workshop printed', () => {
    const stderr = [
      'warning: something earlier',
      'error: ENOENT: no such file or directory, statfs /sys/fs/cgroup/cpu/ws-box',
      'Error: ENOENT: no such file or directory, statfs /sys/fs/cgroup/cpu/ws-box',
      '    at findWsCgroups (file:///w/dist/chunk-A.js:10:5)',
      '    at async takeInventory (file:///w/dist/chunk-A.js:20:5)',
      '    at async snapshot (file:///w/dist/chunk-B.js:30:5)',
      '    at async testChapter (file:///w/dist/chunk-B.js:40:5)',
      '    at async test (file:///w/dist/chunk-C.js:50:5)',
      '',
    ].join('\n');
    expect(lastWords(stderr)).toBe(
      'error: ENOENT: no such file or directory, statfs /sys/fs/cgroup/cpu/ws-box | at findWsCgroups (file:///w/dist/chunk-A.js:10:5) | at async takeInventory (file:///w/dist/chunk-A.js:20:5) | at async snapshot (file:///w/dist/chunk-B.js:30:5) | at async testChapter (file:///w/dist/chunk-B.js:40:5)',
    );
  });

  it('gives the end of stderr when there is no error line, and says when there is nothing', () => {
    expect(lastWords('a\nb\nc\nd\ne\nf\n')).toBe('b | c | d | e | f');
    expect(lastWords('')).toBe('(nothing on stderr)');
  });
});
