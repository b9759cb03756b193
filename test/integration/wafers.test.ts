// Chapter 03 (wafers) on the real kernel: the self-test through the built CLI, the shipped
// reference script on a three-level chain, and a learner typing the seed's commands.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/sys/exec.ts';
import { mountsUnder, readMountinfo } from '../../src/checks/mounts.ts';
import { findOverlays } from '../../src/checks/overlayfs.ts';
import { chapterSelfTest, REPO, openWorkshop, type Workshop, isRoot } from '../helpers/workshop.ts';


describe.skipIf(!isRoot)('chapter wafers', () => {
  const { cli } = chapterSelfTest('/tmp/ws-fs3-it-', ['wafers']);

  describe('the reference script lessons/03-wafers/wafers', () => {
    let dir = '';
    const wafers = (args: string[]) =>
      run(path.join(REPO, 'lessons/03-wafers/wafers'), args, { env: { ...process.env, WAFERS: `${dir}/wafers`, STACKS: `${dir}/machines` } as Record<string, string>, timeoutMs: 10_000 });

    beforeAll(async () => {
      dir = await mkdtemp('/tmp/ws-fs3-script-');
      await mkdir(`${dir}/wafers/a/data`, { recursive: true });
      await writeFile(`${dir}/wafers/a/data/from-a`, 'a\n');
    });
    afterAll(async () => {
      for (const m of mountsUnder(await readMountinfo(), dir)) await run('umount', [m.mountPoint]);
      await rm(dir, { recursive: true, force: true });
    });

    it('stacks C on B on A with the nearest parent first, and remembers the parents', async () => {
      expect((await wafers(['stack', 'b', 'a'])).stdout).toBe('2 wafers stacked at ' + `${dir}/machines/b\n`);
      expect((await wafers(['stack', 'c', 'b'])).stdout).toBe(`3 wafers stacked at ${dir}/machines/c\n`);
      const [c] = findOverlays(await readMountinfo(), dir).filter((o) => o.mount.mountPoint === `${dir}/machines/c`);
      expect(c?.layers).toMatchObject({ lowerdirs: [`${dir}/wafers/b/data`, `${dir}/wafers/a/data`], upperdir: `${dir}/wafers/c/data`, workdir: `${dir}/wafers/c/work` });
      expect(await readFile(`${dir}/wafers/c/parent`, 'utf8')).toBe('b\n');
      expect(await readFile(`${dir}/machines/c/from-a`, 'utf8')).toBe('a\n');
    });

    it('unstacks, then stacks again without a parent', async () => {
      expect((await wafers(['unstack', 'c', 'b'])).code).toBe(0);
      expect(mountsUnder(await readMountinfo(), `${dir}/machines`)).toEqual([]);
      expect((await wafers(['stack', 'c'])).stdout).toBe(`3 wafers stacked at ${dir}/machines/c\n`);
      expect((await wafers(['unstack', 'c'])).code).toBe(0);
    });

    it('refuses a new wafer without a parent, and a parent that does not exist', async () => {
      expect(await wafers(['stack', 'nope'])).toMatchObject({ code: 1, stderr: `wafers: no wafer nope in ${dir}/wafers: give a parent to create it\n` });
      expect(await wafers(['stack', 'x', 'missing'])).toMatchObject({ code: 1, stderr: `wafers: no wafer missing in ${dir}/wafers\n` });
    });
  });

  describe('a learner working through the chapter', () => {
    let ws: Workshop;
    beforeAll(async () => {
      ws = await openWorkshop('/tmp/ws-fs3-learner-', { cli: cli() });
      expect((await ws.cli(['goto', 'wafers/base'])).code).toBe(0);
    });
    afterAll(async () => ws.dispose());

    const typed = async (script: string) => {
      const r = await ws.shell('wafers', script);
      expect(r.stderr).not.toMatch(/command not found/);
      expect(r.code).toBe(0);
      return ws.cli(['next']);
    };

    it('accepts the commands of each step as the chapter gives them, with `mount -t overlay none` and `overlay`', async () => {
      // base: the seed's pacstrap replaced by busybox. Issue 12, item 8: --install before the folders
      // exits 0 with only bin/ filled; next names the missing folders, and its hint repairs it.
      await ws.shell('wafers', 'mkdir -p wafers/archbase/data/bin; cp /bin/busybox wafers/archbase/data/bin/; chroot wafers/archbase/data /bin/busybox --install -s 2>/dev/null');
      const half = await ws.cli(['--json', 'next']);
      expect(half.code).toBe(1);
      const rows = (JSON.parse(half.stdout) as { results: Array<{ status: string; check: string; actual?: string; hint?: string }> }).results.filter((r) => r.status !== 'pass');
      expect(rows).toEqual([
        {
          status: 'fail',
          check: 'wafers/archbase/data has the four folders and busybox\'s links in all of them',
          expected: 'wafers/archbase/data/{bin,sbin,usr/bin,usr/sbin} before busybox --install -s',
          actual: 'missing: wafers/archbase/data/sbin, wafers/archbase/data/usr/bin, wafers/archbase/data/usr/sbin: --install put only the links that go to bin/',
          hint: 'mkdir -p wafers/archbase/data/{bin,sbin,usr/bin,usr/sbin}; chroot wafers/archbase/data /bin/busybox --install -s (running it again after the folders exist makes the rest)',
        },
      ]);
      expect((await typed('mkdir -p wafers/archbase/data/{bin,sbin,usr/bin,usr/sbin}; chroot wafers/archbase/data /bin/busybox --install -s')).code).toBe(0);
      expect((await typed('mkdir -p $WAFERS/archbase2/data; echo archbase > $WAFERS/archbase2/parent')).code).toBe(0);
      // stack-by-hand with the source `none` and absolute paths from `workshop env`.
      const none = await typed('mkdir -p wafers/archbase2/work machines/archbase2; mount -t overlay none -o lowerdir=$WAFERS/archbase/data,upperdir=$WAFERS/archbase2/data,workdir=$WAFERS/archbase2/work $STACKS/archbase2');
      expect(none.stdout + none.stderr).not.toMatch(/✗|FAIL/);
      expect(none.code).toBe(0);
      expect((await typed('echo $WORKSHOP_NONCE > machines/archbase2/hello.txt')).code).toBe(0);
      // script: the learner's own file, here the chapter's reference.
      expect((await typed(`mkdir -p bin; cp ${REPO}/lessons/03-wafers/wafers bin/wafers; chmod +x bin/wafers`)).code).toBe(0);
      expect((await typed('bin/wafers unstack archbase2')).code).toBe(0);
      // restack by hand, with the source `overlay` and relative paths.
      expect((await typed('mount -t overlay overlay -o lowerdir=wafers/archbase/data,upperdir=wafers/archbase2/data,workdir=wafers/archbase2/work machines/archbase2')).code).toBe(0);
      // nspawn on the stack (the seed's way in), then the bottom wafer stacked by itself.
      expect((await typed('systemd-nspawn -q -D machines/archbase2 --register=no --keep-unit /bin/sh -c "echo $WORKSHOP_NONCE > /booted.txt"')).code).toBe(0);
      expect((await typed('bin/wafers stack archbase')).code).toBe(0);
    });

    it('rejects a script that hangs, says so, and leaves no mount behind', async () => {
      await ws.cli(['goto', 'wafers/script']);
      await ws.shell('wafers', 'printf "#!/bin/sh\\nsleep 60\\n" > bin/wafers; chmod +x bin/wafers');
      const r = await ws.cli(['--json', 'check']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('it hung for 10 s and was killed');
      expect(mountsUnder(await readMountinfo(), path.join(ws.home, 'chapters/wafers/.wafers-check'))).toEqual([]);
    });

    it('rejects a script that exits non-zero, with its message', async () => {
      await ws.shell('wafers', 'printf "#!/bin/sh\\necho no stacks today >&2; exit 3\\n" > bin/wafers');
      const r = await ws.cli(['--json', 'check']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('exit 3: no stacks today');
    });
  });
});
