// Builds one of each kind of residue under a temp home, then checks that takeInventory finds
// exactly those, that cleanResidue removes them all, and that nothing of anyone else is touched.
import { copyFile, mkdir, mkdtemp, rm, rmdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk, type RunResult } from '../../src/sys/exec.ts';
import { mountsUnder, readMountinfo } from '../../src/checks/mounts.ts';
import { processesUnder } from '../../src/checks/proc.ts';
import { cleanResidue } from '../../src/engine/clean.ts';
import { takeInventory, type ResidueItem } from '../../src/engine/inventory.ts';
import { sleep } from '../helpers/wait.ts';
import { isRoot } from '../helpers/workshop.ts';

const NETNS = 'ws-inv-test';
const CGROUP = '/sys/fs/cgroup/pids/ws-inv-test';
let home = '';
let out = ''; // mounts made outside home that still belong to it
let seed = ''; // a /tmp/<x> shaped like container.sh's
let loop = '';
const sleepers: Promise<RunResult>[] = [];

/** Only our own items: other tests on this machine may have ws-host and friends up meanwhile. */
const mine = (items: readonly ResidueItem[]): ResidueItem[] =>
  items.filter((i) => [home, out, seed].some((d) => i.id.startsWith(d) || i.detail.includes(d)) || i.id.startsWith('ws-inv') || i.id === CGROUP);
const summary = (items: readonly ResidueItem[]): string[] => items.map((i) => `${i.kind} ${i.kind === 'process' ? i.detail.split(':')[0] : i.id}`).sort();

async function teardown(): Promise<void> {
  for (const pid of await processesUnder([home, out, seed].filter((d) => d !== ''))) process.kill(pid, 'SIGKILL');
  await Promise.race([Promise.allSettled(sleepers), sleep(3000)]);
  for (const d of [home, out, seed].filter((x) => x !== '')) for (const m of mountsUnder(await readMountinfo(), d)) await run('umount', ['-l', m.mountPoint]);
  if (loop !== '') await run('losetup', ['-d', loop]);
  await run('ip', ['link', 'del', 'ws-invA']);
  await run('ip', ['netns', 'del', NETNS]);
  await rmdir(CGROUP).catch(() => undefined);
  for (const d of [seed, out, home]) if (d !== '') await rm(d, { recursive: true, force: true });
}


describe.skipIf(!isRoot)('residue inventory', () => {
  beforeAll(async () => {
    home = await mkdtemp('/tmp/ws-h2-home-');
    out = await mkdtemp('/tmp/ws-h2-out-');
    seed = await mkdtemp('/tmp/ws-h2-seed-');
    const ch = path.join(home, 'chapters/overlayfs');
    await mkdir(path.join(ch, 'rootfs/bin'), { recursive: true });
    await copyFile('/bin/busybox', path.join(ch, 'rootfs/bin/busybox'));
    for (const d of ['bind', 'merged', 'upper', 'work']) await mkdir(path.join(out, d));
    for (const d of ['upper', 'workdir', 'overlay']) await mkdir(path.join(seed, d));
    // A bind mount of a folder of home, outside it: only mountinfo's root field tells it is ours.
    await runOk('mount', ['--bind', path.join(ch, 'rootfs'), path.join(out, 'bind')]);
    // An overlay typed from the chapter folder with a relative lowerdir, mounted outside home.
    await runOk('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=rootfs,upperdir=${out}/upper,workdir=${out}/work`, `${out}/merged`], { cwd: ch });
    // What the seed's container.sh leaves behind.
    await runOk('mount', ['-t', 'overlay', 'none', '-o', `lowerdir=${ch}/rootfs,upperdir=${seed}/upper,workdir=${seed}/workdir`, `${seed}/overlay`]);
    await mkdir(path.join(home, 'chapters/btrfs'));
    await writeFile(path.join(home, 'chapters/btrfs/store.img'), '');
    await truncate(path.join(home, 'chapters/btrfs/store.img'), 8 << 20);
    loop = (await runOk('losetup', ['-f', '--show', path.join(home, 'chapters/btrfs/store.img')])).trim();
    await runOk('ip', ['netns', 'add', NETNS]);
    await runOk('ip', ['link', 'add', 'ws-invA', 'type', 'veth', 'peer', 'name', 'ws-invB', 'netns', NETNS]);
    await mkdir(CGROUP);
    sleepers.push(run('chroot', [path.join(ch, 'rootfs'), '/bin/busybox', 'sleep', '600']));
    // Wait until the chrooted sleeper has really entered its root.
    for (let i = 0; i < 200 && (await processesUnder(path.join(ch, 'rootfs'))).length === 0; i++) await sleep(10);
  }, 60_000);

  afterAll(teardown, 60_000);

  it('finds exactly what was made for the workshop, cleans it all, and then finds nothing', async () => {
    const before = mine(await takeInventory(home));
    expect(summary(before)).toEqual(
      [
        'process busybox',
        `mount ${out}/bind`,
        `mount ${out}/merged`,
        `mount ${seed}/overlay`,
        `loop ${loop}`,
        'link ws-invA',
        `netns ${NETNS}`,
        `cgroup ${CGROUP}`,
        `tmpdir ${seed}`,
      ].sort(),
    );
    const lines: string[] = [];
    expect(await cleanResidue(home, before, (l) => lines.push(l))).toEqual([]);
    expect(lines).toContain(`ip netns del ${NETNS}`);
    expect(lines.filter((l) => l.startsWith('umount'))).toHaveLength(3);
    expect(mine(await takeInventory(home))).toEqual([]);
    // The peer went with its namespace, before cleanResidue returned.
    expect((await run('ip', ['link', 'show', 'ws-invA'])).code).not.toBe(0);
  });
});
