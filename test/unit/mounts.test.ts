// Parsers and verdicts of the mount checks, on mountinfo recorded on this VM
// (see test/fixtures/mountinfo/README.md for the command behind each file).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeOctal,
  describeMount,
  hiddenBy,
  isReadOnly,
  judgeMountedAt,
  judgeNotMountedAt,
  mountsAt,
  mountsUnder,
  parseMountinfo,
  readMountinfo,
  type MountEntry,
} from '../../src/checks/mounts.ts';

const C = '/tmp/ws-h1-rec/ch';
const text = (name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures/mountinfo', name), 'utf8');
const table = (name: string): MountEntry[] => parseMountinfo(text(name));
const allAt = (name: string, mountPoint: string): string[] => table(name).filter((e) => e.mountPoint === mountPoint).map((e) => e.source);
const at = (name: string, mountPoint: string): MountEntry => {
  const e = mountsAt(table(name), mountPoint).at(-1);
  if (e === undefined) throw new Error(`fixture ${name} has no mount at ${mountPoint}`);
  return e;
};

describe('parseMountinfo', () => {
  it('parses every line of the recorded host table', () => {
    const entries = table('host.txt');
    expect(entries).toHaveLength(text('host.txt').trim().split('\n').length);
    expect(entries.find((e) => e.mountPoint === '/')).toEqual({
      id: 27,
      parentId: 1,
      majorMinor: '254:0',
      root: '/',
      mountPoint: '/',
      mountOptions: ['rw', 'relatime'],
      optionalFields: [],
      fsType: 'ext4',
      source: '/dev/vda',
      superOptions: 'rw,discard,resv_strict,resuid=65534,resgid=65534',
    });
  });

  it('keeps the optional propagation fields', () => {
    expect(at('host.txt', '/run/netns').optionalFields).toEqual(['shared:1']);
  });

  it.each([
    ['overlay-relative.txt', `${C}/merged`, 'overlay', 'none'],
    ['overlay-absolute.txt', `${C}/merged`, 'overlay', 'overlay'],
    ['bind.txt', `${C}/merged`, 'ext4', '/dev/vda'],
    ['stacked.txt', `${C}/a`, 'tmpfs', 'ws-h1'],
  ])('reads the type and source of %s', (file, mountPoint, fsType, source) => {
    expect(at(file, mountPoint)).toMatchObject({ fsType, source });
  });

  it('decodes \\040 in a mount point with a space', () => {
    expect(table('overlay-escapes.txt').some((e) => e.mountPoint === `${C}/merged 2`)).toBe(true);
  });

  it('keeps the super options escaped, because \\054 is a comma inside a value', () => {
    expect(at('overlay-escapes.txt', `${C}/merged 2`).superOptions).toContain('co\\134\\054mma');
  });

  it('shows a bind mount of a folder through its root field', () => {
    expect(at('bind.txt', `${C}/merged`).root).toBe(`${C}/rootfs`);
  });

  it('skips blank lines', () => {
    expect(parseMountinfo(`\n${text('bind.txt')}\n\n`)).toEqual(table('bind.txt'));
  });

  it.each([
    ['a line without the separator', '44 27 0:39 / /x rw,relatime overlay none rw'],
    ['a line cut short after the separator', '44 27 0:39 / /x rw,relatime - overlay none'],
    ['a non-numeric id', 'x 27 0:39 / /x rw,relatime - tmpfs tmpfs rw'],
    ['a bad major:minor', '44 27 039 / /x rw,relatime - tmpfs tmpfs rw'],
  ])('throws a clear error on %s', (_, line) => {
    expect(() => parseMountinfo(line)).toThrow(/mountinfo: .*line/);
  });
});

describe('decodeOctal', () => {
  it.each([
    ['merged\\0402', 'merged 2'],
    ['a\\011b\\012c', 'a\tb\nc'],
    ['back\\134slash', 'back\\slash'],
    ['plain', 'plain'],
  ])('decodes %s', (raw, decoded) => expect(decodeOctal(raw)).toBe(decoded));
});

describe('mountsAt and mountsUnder', () => {
  it('lists stacked mounts in mount order, the visible one last', () => {
    expect(mountsAt(table('stacked.txt'), `${C}/merged`).map((e) => e.fsType)).toEqual(['tmpfs', 'overlay']);
  });

  it('leaves out a mount hidden by a later mount of a parent folder', () => {
    expect(allAt('hidden-by-parent.txt', `${C}/data/cache`)).toEqual(['wscache']);
    expect(mountsAt(table('hidden-by-parent.txt'), `${C}/data/cache`)).toEqual([]);
    expect(mountsAt(table('hidden-by-parent.txt'), `${C}/data`).map((e) => e.source)).toEqual(['wsdata']);
  });

  it('leaves out a mount on a folder that a later mount stacked on that folder hides', () => {
    expect(mountsAt(table('hidden-by-stack.txt'), `${C}/data/cache`)).toEqual([]);
    expect(mountsAt(table('hidden-by-stack.txt'), `${C}/data`).map((e) => e.source)).toEqual(['wsdata', 'wsnew']);
  });

  it('keeps a mount on a folder of an earlier mount', () => {
    expect(mountsAt(table('nested.txt'), `${C}/data/cache`).map((e) => e.source)).toEqual(['wscache']);
  });

  it('ignores a trailing slash in the path', () => {
    expect(mountsAt(table('bind.txt'), `${C}/merged/`)).toHaveLength(1);
  });

  it('lists the mounts under a folder deepest first, newest first at equal depth', () => {
    const under = mountsUnder(table('stacked.txt'), '/tmp/ws-h1-rec');
    expect(under.map((e) => [e.mountPoint, e.fsType])).toEqual([
      [`${C}/a`, 'tmpfs'],
      [`${C}/merged`, 'overlay'],
      [`${C}/merged`, 'tmpfs'],
    ]);
  });

  it('does not count a sibling with a common prefix as under the folder', () => {
    expect(mountsUnder(table('stacked.txt'), `${C}/merg`)).toEqual([]);
  });
});

describe('isReadOnly', () => {
  it.each([
    ['an overlay with only lowerdirs (super option ro)', 'overlay-readonly.txt', `${C}/merged`, true],
    ['a tmpfs mounted ro', 'stacked.txt', `${C}/a`, true],
    ['a writable overlay', 'overlay-relative.txt', `${C}/merged`, false],
    ['the root file system', 'host.txt', '/', false],
  ])('%s', (_, file, mountPoint, ro) => expect(isReadOnly(at(file, mountPoint))).toBe(ro));
});

describe('judgeMountedAt', () => {
  it('accepts an overlay of the expected type', () => {
    expect(judgeMountedAt(table('overlay-relative.txt'), `${C}/merged`, { fsType: 'overlay' })).toMatchObject({ ok: true });
  });

  it('says that nothing is mounted there', () => {
    expect(judgeMountedAt(table('host.txt'), `${C}/merged`)).toMatchObject({ ok: false, actual: `nothing is mounted at ${C}/merged` });
  });

  it('names the file system found instead', () => {
    expect(judgeMountedAt(table('bind.txt'), `${C}/merged`, { fsType: 'overlay' })).toMatchObject({
      ok: false,
      actual: `a bind mount of ${C}/rootfs (ext4) is mounted there`,
    });
  });

  it('fails on a mount hidden by a later mount of a parent folder, and names that mount', () => {
    expect(judgeMountedAt(table('hidden-by-parent.txt'), `${C}/data/cache`, { fsType: 'tmpfs' })).toEqual({
      ok: false,
      expected: `tmpfs mounted at ${C}/data/cache`,
      actual: `tmpfs is mounted at ${C}/data/cache but hidden by tmpfs mounted later at ${C}/data`,
      hint: `umount ${C}/data`,
    });
  });

  it('accepts a mount on a folder of an earlier mount', () => {
    expect(judgeMountedAt(table('nested.txt'), `${C}/data/cache`, { fsType: 'tmpfs' })).toMatchObject({ ok: true });
  });

  it('judges the visible mount, not one hidden under it', () => {
    const v = judgeMountedAt(table('stacked.txt'), `${C}/merged`, { fsType: 'tmpfs' });
    expect(v).toMatchObject({ ok: false, actual: 'overlay is mounted there (on top of tmpfs)' });
    expect(v.ok ? '' : v.hint).toMatch(/hidden/);
  });
});

describe('hiddenBy', () => {
  it.each([
    ['hidden-by-parent.txt', `${C}/data/cache`, 'wsdata'],
    ['hidden-by-stack.txt', `${C}/data/cache`, 'wsnew'],
    ['nested.txt', `${C}/data/cache`, undefined],
    ['stacked.txt', `${C}/merged`, undefined],
    ['host.txt', '/', undefined],
  ])('in %s, the mount at %s is hidden by %s', (file, mountPoint, cover) => {
    const entries = table(file);
    const e = entries.find((m) => m.mountPoint === mountPoint);
    if (e === undefined) throw new Error(`fixture ${file} has no mount at ${mountPoint}`);
    expect(hiddenBy(entries, e)?.source).toBe(cover);
  });

  it('hides nothing in the whole recorded host table', () => {
    const entries = table('host.txt');
    expect(entries.filter((e) => hiddenBy(entries, e) !== undefined)).toEqual([]);
  });
});

describe('judgeNotMountedAt', () => {
  it('still counts a mount hidden by a later one, and says what to unmount first', () => {
    expect(judgeNotMountedAt(table('hidden-by-parent.txt'), `${C}/data/cache`)).toEqual({
      ok: false,
      expected: `nothing mounted at ${C}/data/cache`,
      actual: `tmpfs is mounted at ${C}/data/cache but hidden by tmpfs mounted later at ${C}/data`,
      hint: `umount ${C}/data`,
    });
  });

  it('accepts a folder with nothing mounted', () => {
    expect(judgeNotMountedAt(table('host.txt'), `${C}/merged`)).toEqual({ ok: true, actual: `nothing is mounted at ${C}/merged` });
  });

  it('says what is still mounted, and how many times', () => {
    expect(judgeNotMountedAt(table('stacked.txt'), `${C}/merged`)).toEqual({
      ok: false,
      expected: `nothing mounted at ${C}/merged`,
      actual: 'overlay is mounted there (on top of tmpfs)',
      hint: `umount ${C}/merged (2 times)`,
    });
  });
});

describe('describeMount', () => {
  it('names a whole file system by its type', () => expect(describeMount(at('stacked.txt', `${C}/a`))).toBe('tmpfs'));
});

describe('readMountinfo', () => {
  it('reads the live table of this process, which always has a root mount', async () => {
    expect((await readMountinfo()).some((e) => e.mountPoint === '/')).toBe(true);
  });
});
