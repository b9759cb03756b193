// The overlay and mount checks against real overlays, mounted in a temp folder under /tmp
// with relative layers, the way a learner types them from the chapter folder. The layer
// names are unusual on purpose: an overlay that someone else mounted with `lowerdir=rootfs`
// from another folder would also match `rootfs` resolved against our folder.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { checkContext } from '../../src/engine/context.ts';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Check, CheckContext, CheckResult } from '../../src/checks/check.ts';
import { runOk } from '../../src/sys/exec.ts';
import { mountedAt, mountsUnder, notMountedAt, readMountinfo } from '../../src/checks/mounts.ts';
import { findOverlayWithLower, isOpaqueDir, isWhiteout, overlayMounted, overlayWithLowerMounted } from '../../src/checks/overlayfs.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('overlay probes on real mounts', () => {
  let dir = '';
  let ctx: CheckContext;

  const mountOverlay = (options: string): Promise<string> => runOk('mount', ['-t', 'overlay', 'overlay', '-o', options, 'merged'], { cwd: dir });
  const check = (c: Check): Promise<CheckResult> => c.run(ctx);

  beforeEach(async () => {
    dir = await mkdtemp('/tmp/ws-h1-it-');
    ctx = checkContext({ chapter: 'overlayfs', dir, home: dir, nonce: 'test', startedAt: Date.now() });
    for (const d of ['h1root/etc', 'h1base', 'upper', 'work', 'merged']) await mkdir(path.join(dir, d), { recursive: true });
    await writeFile(path.join(dir, 'h1root/file'), 'lower\n');
    await writeFile(path.join(dir, 'h1root/etc/hosts'), '127.0.0.1 localhost\n');
    await writeFile(path.join(dir, 'h1base/from-base'), 'base\n');
  });

  afterEach(async () => {
    try {
      // Only what this test mounted: everything under its own temp folder, deepest first.
      for (const m of mountsUnder(await readMountinfo(), dir)) await runOk('umount', [m.mountPoint]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts a writable overlay mounted with relative layers', async () => {
    await mountOverlay('lowerdir=h1root,upperdir=upper,workdir=work');
    const results = await Promise.all([
      check(overlayMounted('merged', { lower: ['h1root'], upper: 'upper', work: 'work', writable: true })),
      check(mountedAt('merged', { fsType: 'overlay' })),
      check(overlayWithLowerMounted(ctx.path('h1root'), { writable: true })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass', 'pass']);
    expect((await findOverlayWithLower(ctx, 'h1root'))?.mount.mountPoint).toBe(ctx.path('merged'));
  });

  it('rejects an overlay whose lowerdirs are in the wrong order', async () => {
    await mountOverlay('lowerdir=h1base:h1root,upperdir=upper,workdir=work');
    expect(await check(overlayMounted('merged', { lower: ['h1root', 'h1base'] }))).toMatchObject({
      status: 'fail',
      actual: 'lowerdir order is h1base:h1root, expected h1root:h1base',
    });
  });

  it('rejects a read-only overlay where a writable one is expected', async () => {
    await mountOverlay('lowerdir=h1root:h1base');
    expect(await check(overlayMounted('merged', { lower: ['h1root', 'h1base'], writable: true }))).toMatchObject({
      status: 'fail',
      actual: 'no upperdir: the overlay is read-only',
    });
    expect(await check(overlayWithLowerMounted('h1root', { writable: true }))).toMatchObject({ status: 'fail' });
    expect(await check(overlayMounted('merged', { lower: ['h1root', 'h1base'], writable: false }))).toMatchObject({ status: 'pass' });
  });

  it('rejects a tmpfs where an overlay is expected, and says so', async () => {
    await runOk('mount', ['-t', 'tmpfs', 'tmpfs', 'merged'], { cwd: dir });
    expect(await check(overlayMounted('merged', {}))).toMatchObject({ status: 'fail', actual: 'tmpfs, not an overlay' });
    expect(await check(notMountedAt('merged'))).toMatchObject({ status: 'fail', actual: 'tmpfs is mounted there' });
  });

  it('sees the whiteout that rm leaves in the upperdir', async () => {
    await mountOverlay('lowerdir=h1root,upperdir=upper,workdir=work');
    await rm(ctx.path('merged/file'));
    expect(await check(isWhiteout('upper/file'))).toMatchObject({ status: 'pass' });
    expect(await check(isWhiteout('h1root/file'))).toMatchObject({ status: 'fail', actual: `a regular file at ${ctx.path('h1root/file')}` });
  });

  it('sees the opaque directory that rm -rf and mkdir leave in the upperdir', async () => {
    await mountOverlay('lowerdir=h1root,upperdir=upper,workdir=work');
    await rm(ctx.path('merged/etc'), { recursive: true });
    await mkdir(ctx.path('merged/etc'));
    expect(await check(isOpaqueDir('upper/etc'))).toMatchObject({ status: 'pass' });
    // The merged view hides the overlay's own xattrs, so the same folder there is not "opaque".
    expect(await check(isOpaqueDir('merged/etc'))).toMatchObject({ status: 'fail' });
    expect(await check(isOpaqueDir('h1root/etc'))).toMatchObject({ status: 'fail', actual: 'no opaque xattr' });
  });

  it('passes notMountedAt once the overlay is unmounted', async () => {
    await mountOverlay('lowerdir=h1root,upperdir=upper,workdir=work');
    expect(await check(notMountedAt('merged'))).toMatchObject({ status: 'fail' });
    await runOk('umount', [ctx.path('merged')]);
    expect(await check(notMountedAt('merged'))).toMatchObject({ status: 'pass' });
  });
});
