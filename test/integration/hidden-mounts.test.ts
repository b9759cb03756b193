// The mount checks on a mount that a later mount of a parent folder hides, for real: in a
// private mount namespace (unshare -m), so that nothing is mounted on the host and the mounts
// go away with the namespace. The probe runs the checks' source in that namespace.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/sys/exec.ts';
import { NODE, REPO, isRoot } from '../helpers/workshop.ts';

/** Runs `mounts` (shell) in a private mount namespace, then the checks on data/cache; returns their results. */
async function probeAfter(dir: string, mounts: string): Promise<{ mountedAt: unknown; notMountedAt: unknown; mountsAt: string[]; listed: string }> {
  const probe = `
    const { mountedAt, notMountedAt, mountsAt, readMountinfo } = await import(${JSON.stringify(path.join(REPO, 'src/checks/mounts.ts'))});
    const { checkContext } = await import(${JSON.stringify(path.join(REPO, 'src/engine/context.ts'))});
    const ctx = checkContext({ chapter: 'ws-hidden', dir: process.cwd(), home: process.cwd(), nonce: 'test', startedAt: Date.now() });
    const pick = (r) => ({ status: r.status, actual: r.actual, hint: r.hint });
    console.log(JSON.stringify({
      mountedAt: pick(await mountedAt('data/cache', { fsType: 'tmpfs' }).run(ctx)),
      notMountedAt: pick(await notMountedAt('data/cache').run(ctx)),
      mountsAt: mountsAt(await readMountinfo(), ctx.path('data/cache')).map((e) => e.source),
    }));`;
  const script = `set -e; ${mounts}; printf '%s\\n' "$(ls -A data)" >&2; exec ${NODE} --input-type=module -e "$PROBE"`;
  const r = await run('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { cwd: dir, env: { ...process.env, PROBE: probe } });
  if (r.code !== 0) throw new Error(`probe failed (${r.code}): ${r.stderr}`);
  return { ...JSON.parse(r.stdout), listed: r.stderr.trim() };
}

describe.skipIf(!isRoot)('mount checks on hidden mounts (private mount namespace)', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp('/tmp/ws-hidden-');
    await mkdir(path.join(dir, 'data/cache'), { recursive: true });
  });

  afterEach(async () => {
    // The mounts lived only in the probe's namespace; the folder is all that is left.
    await rm(dir, { recursive: true, force: true });
  });

  it('fails on a tmpfs at data/cache hidden by a later tmpfs at data', async () => {
    const r = await probeAfter(dir, 'mount -t tmpfs wscache data/cache; mount -t tmpfs wsdata data');
    expect(r.listed).toBe('');
    expect(r.mountsAt).toEqual([]);
    expect(r.mountedAt).toEqual({
      status: 'fail',
      actual: `tmpfs is mounted at ${dir}/data/cache but hidden by tmpfs mounted later at ${dir}/data`,
      hint: `umount ${dir}/data`,
    });
    expect(r.notMountedAt).toMatchObject({ status: 'fail', hint: `umount ${dir}/data` });
  });

  it('passes on a tmpfs at data/cache mounted on a tmpfs at data', async () => {
    const r = await probeAfter(dir, 'mount -t tmpfs wsdata data; mkdir data/cache; mount -t tmpfs wscache data/cache');
    expect(r.listed).toBe('cache');
    expect(r.mountsAt).toEqual(['wscache']);
    expect(r.mountedAt).toMatchObject({ status: 'pass' });
    expect(r.notMountedAt).toMatchObject({ status: 'fail' });
  });
});
