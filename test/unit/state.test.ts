import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StateDocument } from '../../src/contract/state.ts';
import { parseGetfattrTree, stackProblems } from '../../src/engine/state/overlayfs.ts';
import { bootEntryRoot } from '../../src/engine/state/lvm.ts';
import { viewsOf } from '../../src/engine/state/index.ts';
import { FAMILIES } from '../../src/engine/families.ts';
import { renderState } from '../../src/render/state/index.ts';
import { judgeOpaqueDir } from '../../src/checks/overlayfs.ts';

const U = '/var/lib/workshop/chapters/overlayfs/c-512ef58b8f16/upper';
const ESC = /\u001b\[/;

describe('workshop state: parsers', () => {
  it('splits a recursive getfattr into one record per path and finds the opaque dir', () => {
    const tree = parseGetfattrTree(readFileSync(new URL('../fixtures/getfattr/upper-recursive.txt', import.meta.url), 'utf8'));
    expect([...tree.keys()]).toEqual([U, `${U}/etc`, `${U}/var`, `${U}/var/www`]);
    expect([...tree].filter(([p, x]) => judgeOpaqueDir(x, p).ok).map(([p]) => p)).toEqual([`${U}/var/www`]);
  });

  it('reads root= from a boot loader entry', () => {
    expect(bootEntryRoot('title Base-0.1\nlinux /vmlinuz\noptions root=/dev/HostVG/Base-0.1 ro\n')).toBe('/dev/HostVG/Base-0.1');
    expect(bootEntryRoot('title nothing\n')).toBeNull();
  });

  it.each([
    ['a family name', 'overlayfs', [{ family: 'overlayfs' }]],
    ['a list', ['chroot', { family: 'namespaces', hostname: 'box' }], [{ family: 'chroot' }, { family: 'namespaces', hostname: 'box' }]],
    ['nothing', undefined, []],
  ] as const)('turns %s into views', (_, spec, views) => {
    expect(viewsOf(spec)).toEqual(views);
  });
});

const doc: StateDocument = {
  format: 1,
  chapter: 'networking',
  dir: '/w/chapters/networking',
  pictures: [
    {
      family: 'networking',
      internet: [{ name: 'netns ws-net', status: 'ok', actual: 'exists' }],
      uplink: [{ name: 'ws-uplink (ws-host)', status: 'ok', actual: '198.51.100.2/24, UP' }],
      host: [{ name: 'br0', status: 'ok', actual: 'bridge, 10.0.0.1/16, UP' }],
      veth: [{ name: 'veth0 (ws-host)', status: 'wrong', actual: 'no master, UP', expected: 'master br0, UP' }],
      box: [{ name: 'default route (ws-box)', status: 'missing', actual: '', expected: 'default via 10.0.0.1' }],
    },
    { family: 'overlayfs', stacks: [{ merged: '/w/chapters/networking/m', mountId: 7, readOnly: false, upper: { path: '/w/chapters/networking/u', files: 1, whiteouts: 2, opaqueDirs: 0 }, workdir: '/w/chapters/networking/w', lowerdirs: ['/w/a', '/w/b'], inside: [] }] },
  ],
};

describe('workshop state: drawing', () => {
  it('draws a missing or wrong piece with what was expected, in plain text without escape codes', () => {
    const text = renderState(doc, false, FAMILIES);
    expect(text).not.toMatch(ESC);
    expect(text).toContain('✘ veth0 (ws-host): no master, UP (expected master br0, UP)');
    expect(text).toContain('✘ default route (ws-box): missing (expected default via 10.0.0.1)');
  });

  it('draws an overlay as a stack: merged on top, then upper with its counts, workdir, lowerdirs in order', () => {
    const lines = renderState(doc, false, FAMILIES).split('\n');
    const at = (s: string) => lines.findIndex((l) => l.includes(s));
    expect(at('merged')).toBeLessThan(at('upper'));
    expect(lines[at('upper')]).toContain('1 file, 2 whiteouts, 0 opaque dirs');
    expect(at('workdir')).toBeLessThan(at('lower 1  /w/a'));
    expect(at('lower 1  /w/a')).toBeLessThan(at('lower 2  /w/b'));
  });

  it('colours with the same styler as the check table when asked', () => {
    expect(renderState(doc, true, FAMILIES)).toMatch(ESC);
  });
});

describe('workshop state: a wrong overlay stack is drawn as wrong (issue 21 item 9)', () => {
  const D = '/var/lib/workshop/chapters/overlayfs';
  const layers = (lowerdirs: string[], upperdir: string) => ({ layers: { lowerdirs, upperdir, datadirs: [], options: {} } });
  it('names the image as the upperdir: lower and upper swapped', () => {
    expect(stackProblems(layers(['/tmp/x/upper'], `${D}/rootfs`), { path: `${D}/rootfs`, name: 'rootfs' }, true)).toEqual(['upper is the image rootfs: lower and upper are swapped']);
  });
  it('names an image that is not among the lowerdirs, and nothing for a right stack', () => {
    const image = { path: `${D}/rootfs`, name: 'rootfs' };
    expect(stackProblems(layers(['/tmp/x/decoy'], '/tmp/x/upper'), image, true)).toEqual(['the image rootfs is not a lower layer']);
    expect(stackProblems(layers([`${D}/rootfs`], '/tmp/x/upper'), image, true)).toEqual([]);
    // capstone's stacks have no rootfs at all: nothing to say
    expect(stackProblems(layers(['/x/base'], '/x/c1/upper'), image, false)).toEqual([]);
  });
  it('draws the problem under the mount, and a ✘ on the wrong layer', () => {
    const doc: StateDocument = {
      format: 1,
      chapter: 'overlayfs',
      dir: D,
      pictures: [{ family: 'overlayfs', stacks: [{ merged: '/tmp/x/overlay', mountId: 7, readOnly: false, upper: { path: `${D}/rootfs`, files: 0, whiteouts: 0, opaqueDirs: 0 }, workdir: `${D}/w`, lowerdirs: ['/tmp/x/upper'], inside: [], problems: ['upper is the image rootfs: lower and upper are swapped'] }] }],
    };
    const text = renderState(doc, false, FAMILIES);
    expect(text).toContain('│ ✘ upper is the image rootfs: lower and upper are swapped');
    expect(text).toMatch(/├ upper {4}rootfs ✘/);
  });
});
