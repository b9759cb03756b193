// Overlay parsers and verdicts, on mountinfo and getfattr output recorded on this VM
// (test/fixtures/mountinfo/README.md and test/fixtures/getfattr/README.md say how).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMountinfo, type MountEntry } from '../../src/checks/mounts.ts';
import {
  findOverlays,
  judgeOpaqueDir,
  judgeOverlay,
  judgeOverlayWithLower,
  judgeWhiteout,
  overlaysWithLower,
  parseGetfattr,
  parseOverlayOptions,
  pickOverlayWithLower,
  resolveLayers,
  type FileKind,
} from '../../src/checks/overlayfs.ts';

const C = '/tmp/ws-h1-rec/ch';
const M = `${C}/merged`;
const fixture = (dir: string, name: string): string => readFileSync(path.join(import.meta.dirname, '../fixtures', dir, name), 'utf8');
const table = (name: string): MountEntry[] => parseMountinfo(fixture('mountinfo', name));
const superOf = (name: string, mountPoint: string): string => {
  const e = table(name).find((m) => m.mountPoint === mountPoint && m.fsType === 'overlay');
  if (e === undefined) throw new Error(`no overlay at ${mountPoint} in ${name}`);
  return e.superOptions;
};

describe('parseOverlayOptions', () => {
  it.each([
    ['relative layers, as typed', 'overlay-relative.txt', M, { lowerdirs: ['rootfs'], datadirs: [], upperdir: 'upper', workdir: 'work' }],
    ['absolute layers', 'overlay-absolute.txt', M, { lowerdirs: [`${C}/rootfs`], datadirs: [], upperdir: `${C}/upper`, workdir: `${C}/work` }],
    ['several lowerdirs, topmost first, with a trailing slash kept', 'overlay-multi-lower.txt', M, { lowerdirs: [`${C}/a`, `${C}/b/`, 'rootfs'], datadirs: [], upperdir: 'upper', workdir: 'work' }],
    ['only lowerdirs (read-only)', 'overlay-readonly.txt', M, { lowerdirs: ['rootfs', 'base'], datadirs: [] }],
    ['a space, an escaped colon and an escaped comma', 'overlay-escapes.txt', `${C}/merged 2`, { lowerdirs: ['my layer', 'col:on', 'co,mma'], datadirs: [], upperdir: 'upper', workdir: 'work' }],
    ['lowerdir+= and datadir+= (literal paths)', 'overlay-new-api.txt', M, { lowerdirs: ['a', 'col:on'], datadirs: ['d1'], upperdir: 'upper', workdir: 'work' }],
    ['lowerdir+= from fsconfig, a comma printed as \\054', 'overlay-new-api.txt', `${C}/m2`, { lowerdirs: ['co,mma', `${C}/b`], datadirs: [] }],
  ])('reads %s', (_, file, mountPoint, layers) => {
    expect(parseOverlayOptions(superOf(file, mountPoint))).toMatchObject(layers);
  });

  it('keeps the other options apart (uuid=on appears on the first mount of a new upperdir)', () => {
    expect(parseOverlayOptions(superOf('overlay-relative.txt', M)).options).toEqual({ rw: true, uuid: 'on' });
    expect(parseOverlayOptions(superOf('overlay-readonly.txt', M)).options).toEqual({ ro: true, redirect_dir: 'on' });
  });

  // Recorded on this kernel with `mount -o 'lowerdir=a:b::d1,…,metacopy=on'` and
  // `-o 'workdir=w\,2'` (a folder named `w,2`); kept inline, the rest of the table is host.txt.
  it('reads data-only layers after :: and unescapes upperdir/workdir', () => {
    expect(parseOverlayOptions('rw,lowerdir=a:b::d1,upperdir=u,workdir=w,redirect_dir=on,metacopy=on')).toMatchObject({ lowerdirs: ['a', 'b'], datadirs: ['d1'] });
    expect(parseOverlayOptions('rw,lowerdir=a,upperdir=u\\0402,workdir=w\\134\\0542,uuid=on')).toMatchObject({ upperdir: 'u 2', workdir: 'w,2' });
  });
});

describe('resolveLayers', () => {
  it('resolves relative layers against the chapter folder and drops trailing slashes', () => {
    const layers = resolveLayers(parseOverlayOptions(superOf('overlay-multi-lower.txt', M)), C);
    expect(layers).toMatchObject({ lowerdirs: [`${C}/a`, `${C}/b`, `${C}/rootfs`], upperdir: `${C}/upper`, workdir: `${C}/work` });
  });

  it('leaves an overlay without upperdir without one', () => {
    expect(resolveLayers(parseOverlayOptions(superOf('overlay-readonly.txt', M)), C)).not.toHaveProperty('upperdir');
  });
});

describe('findOverlays and overlaysWithLower', () => {
  it('finds only overlays, with resolved layers', () => {
    expect(findOverlays(table('stacked.txt'), C).map((o) => o.layers.lowerdirs)).toEqual([[`${C}/rootfs`, `${C}/base`]]);
    expect(findOverlays(table('host.txt'), C)).toEqual([]);
  });

  it.each([
    ['a relative layer given as an absolute path', 'overlay-relative.txt', `${C}/rootfs`, 1],
    ['a layer typed with a trailing slash', 'overlay-multi-lower.txt', `${C}/b`, 1],
    ['a path given with a trailing slash', 'overlay-multi-lower.txt', 'a/', 1],
    ['the upperdir, which is no lowerdir', 'overlay-relative.txt', 'upper', 0],
    ['a data-only layer, which is no lowerdir', 'overlay-new-api.txt', 'd1', 0],
  ])('matches %s', (_, file, lower, count) => {
    expect(overlaysWithLower(table(file), lower, C)).toHaveLength(count);
  });

  it('prefers an overlay naming the folder by absolute path to a relative lookalike', () => {
    // overlay-relative.txt typed `lowerdir=rootfs`; it could have been run from any folder.
    const entries = [...table('overlay-absolute.txt'), ...table('overlay-relative.txt').filter((e) => e.fsType === 'overlay')];
    expect(pickOverlayWithLower(entries, 'rootfs', C)?.typed.lowerdirs).toEqual([`${C}/rootfs`]);
  });

  it('prefers a writable overlay to a newer read-only one', () => {
    const entries = [...table('overlay-relative.txt'), ...table('overlay-readonly.txt').filter((e) => e.fsType === 'overlay')];
    expect(pickOverlayWithLower(entries, 'rootfs', C)?.layers.upperdir).toBe(`${C}/upper`);
  });
});

describe('judgeOverlay', () => {
  const full = { lower: [`${C}/rootfs`], upper: `${C}/upper`, work: `${C}/work`, writable: true };

  it('accepts an overlay mounted with relative layers from the chapter folder', () => {
    expect(judgeOverlay(table('overlay-relative.txt'), M, full, C)).toEqual({
      ok: true,
      actual: 'overlay at merged (lowerdir=rootfs, upperdir=upper, workdir=work, writable)',
    });
  });

  it('accepts the same overlay mounted with absolute layers', () => {
    expect(judgeOverlay(table('overlay-absolute.txt'), M, full, C)).toMatchObject({ ok: true });
  });

  it('ignores uuid=on, redirect_dir=on and trailing slashes', () => {
    expect(judgeOverlay(table('overlay-multi-lower.txt'), `${M}/`, { lower: ['a/', 'b', 'rootfs'], upper: 'upper/' }, C)).toMatchObject({ ok: true });
  });

  it('rejects an overlay whose lowerdirs are in the wrong order', () => {
    expect(judgeOverlay(table('overlay-multi-lower.txt'), M, { lower: ['b', 'a', 'rootfs'] }, C)).toMatchObject({
      ok: false,
      actual: 'lowerdir order is a:b:rootfs, expected b:a:rootfs',
    });
  });

  it('rejects an overlay with other lowerdirs', () => {
    expect(judgeOverlay(table('overlay-readonly.txt'), M, { lower: ['rootfs'] }, C)).toMatchObject({ ok: false, actual: 'lowerdir is rootfs:base, expected rootfs' });
  });

  it('rejects a read-only overlay when an upperdir is expected', () => {
    expect(judgeOverlay(table('overlay-readonly.txt'), M, { lower: ['rootfs', 'base'], upper: 'upper', writable: true }, C)).toMatchObject({
      ok: false,
      actual: 'no upperdir: the overlay is read-only',
    });
  });

  it('rejects a writable overlay when a read-only one is expected', () => {
    expect(judgeOverlay(table('overlay-relative.txt'), M, { writable: false }, C)).toMatchObject({ ok: false, actual: 'the overlay is writable: it has an upperdir (upper)' });
  });

  it('names a wrong upperdir and workdir together', () => {
    expect(judgeOverlay(table('overlay-relative.txt'), M, { upper: 'u', work: 'w' }, C)).toMatchObject({ ok: false, actual: 'upperdir is upper, expected u; workdir is work, expected w' });
  });

  it('rejects a bind mount, saying what it is', () => {
    expect(judgeOverlay(table('bind.txt'), M, full, C)).toMatchObject({
      ok: false,
      expected: 'an overlay at merged with lowerdir=rootfs, upperdir=upper, workdir=work, writable',
      actual: `a bind mount of ${C}/rootfs (ext4), not an overlay`,
    });
  });

  it('rejects a folder with nothing mounted', () => {
    expect(judgeOverlay(table('host.txt'), M, full, C)).toMatchObject({ ok: false, actual: 'nothing is mounted at merged' });
  });

  it('judges the visible mount: an overlay under a tmpfs is not enough', () => {
    const entries = table('stacked.txt').filter((e) => e.id !== 46);
    entries.push(...table('stacked.txt').filter((e) => e.id === 46), ...table('bind.txt').filter((e) => e.mountPoint === M));
    expect(judgeOverlay(entries, M, {}, C)).toMatchObject({ ok: false, hint: expect.stringMatching(/hidden/) });
  });
});

describe('judgeOverlayWithLower', () => {
  it('finds the overlay that uses a lower folder, wherever it is mounted', () => {
    expect(judgeOverlayWithLower(table('overlay-new-api.txt'), `${C}/b`, C)).toMatchObject({ ok: true, actual: expect.stringContaining('overlay at m2') });
  });

  it('rejects a read-only overlay when writes are expected, saying why', () => {
    expect(judgeOverlayWithLower(table('overlay-readonly.txt'), 'base', C, { writable: true })).toMatchObject({ ok: false, actual: expect.stringMatching(/no upperdir$/) });
  });

  it('lists the overlays it found when none uses the folder', () => {
    expect(judgeOverlayWithLower(table('overlay-relative.txt'), 'elsewhere', C)).toMatchObject({ ok: false, actual: expect.stringMatching(/^no overlay uses elsewhere; found overlay at merged/) });
  });

  it('says that lower and upper are swapped when the folder is the upperdir', () => {
    expect(judgeOverlayWithLower(table('overlay-swapped.txt'), 'rootfs', C, { writable: true })).toMatchObject({ ok: false, actual: expect.stringMatching(/rootfs is its upperdir, so lower and upper are swapped/), hint: expect.stringMatching(/^umount merged/) });
  });
});

describe('overlayMounted on swapped layers', () => {
  it('names the swap before listing the differences', () => {
    const v = judgeOverlay(table('overlay-swapped.txt'), M, { lower: ['rootfs'], upper: 'upper', work: 'work' }, C);
    expect(v).toMatchObject({ ok: false, actual: expect.stringMatching(/^lower and upper are swapped: rootfs is the upperdir and upper a lowerdir; lowerdir is upper/) });
  });
});

describe('parseGetfattr', () => {
  it.each([
    ['opaque-dir.txt', { 'trusted.overlay.opaque': 'y' }],
    ['opaque-dir-hex.txt', { 'trusted.overlay.opaque': 'y' }],
    ['opaque-dir-base64.txt', { 'trusted.overlay.opaque': 'y' }],
    ['whiteout.txt', {}],
    ['plain-file.txt', {}],
    ['user-escapes.txt', { 'user.bin': '\x00\xff\x10', 'user.empty': '', 'user.note': 'a "q" b\\c\nd=e' }],
  ])('reads %s', (file, xattrs) => expect(parseGetfattr(fixture('getfattr', file))).toEqual(xattrs));

  it('reads the redirect and origin that mv and index=on leave', () => {
    const x = parseGetfattr(fixture('getfattr', 'redirect-dir.txt'));
    expect(x['trusted.overlay.redirect']).toBe('old');
    // A binary file handle: version 0, magic 0xfb, then its own length (0x1d = 29 bytes).
    expect(x['trusted.overlay.origin']?.slice(0, 3)).toBe('\x00\xfb\x1d');
    expect(x['trusted.overlay.origin']).toHaveLength(29);
  });

  it('refuses the output of several files', () => {
    expect(() => parseGetfattr(fixture('getfattr', 'opaque-dir.txt') + fixture('getfattr', 'upper-root.txt'))).toThrow(/more than one file/);
  });
});

describe('judgeOpaqueDir', () => {
  it('accepts trusted.overlay.opaque=y', () => expect(judgeOpaqueDir(parseGetfattr(fixture('getfattr', 'opaque-dir.txt')), 'upper/etc')).toMatchObject({ ok: true }));

  it('rejects a directory that only has other overlay xattrs, naming them', () => {
    expect(judgeOpaqueDir(parseGetfattr(fixture('getfattr', 'redirect-dir.txt')), 'upper/renamed')).toMatchObject({
      ok: false,
      actual: 'no opaque xattr (it has trusted.overlay.origin, trusted.overlay.redirect)',
    });
  });
});

describe('judgeWhiteout', () => {
  // What `stat` showed for the recorded whiteout (whiteout.stat.txt): "character special file", "Device type: 0,0".
  const kind = (type: 'chr' | 'file' | 'dir', rdev: number): FileKind => ({
    isCharacterDevice: () => type === 'chr',
    isFile: () => type === 'file',
    isDirectory: () => type === 'dir',
    rdev,
  });

  it('accepts a character device 0:0', () => {
    expect(fixture('getfattr', 'whiteout.stat.txt')).toMatch(/character special file[\s\S]*Device type: 0,0/);
    expect(judgeWhiteout(kind('chr', 0), 'upper/file')).toMatchObject({ ok: true });
  });

  it.each([
    ['a regular file', kind('file', 0), 'a regular file at upper/file'],
    ['another character device (/dev/null is 1:3)', kind('chr', 0x103), 'a character device 1:3 at upper/file'],
    ['a missing file', undefined, 'nothing at upper/file'],
  ])('rejects %s', (_, st, actual) => expect(judgeWhiteout(st, 'upper/file')).toMatchObject({ ok: false, actual }));
});
