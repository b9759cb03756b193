// `workshop watch` reacts to each kind of change a check can see, not to its timer (30 s here):
// a file made in a folder that did not exist when watch started (rootfs/etc, as a learner's
// mkdir -p makes it), in a chapter folder holding a rootfs of 3000 folders, and then removed and
// made again (watch used to walk the whole tree again after every verify, and missed changes made
// meanwhile: 2.3 and 6.7 s measured); a mount; a link in a lab network namespace (ip monitor); a
// process moved into a cgroup (inotify on the cgroup's files: the write to cgroup.procs).
// The time from each change to its row on the tmux screen is printed, per kind. The limit is
// loose (1 s, against the timer's 30 s); the goal of 300 ms is measured, not gated. (This kernel has
// no dummy links: the link is a veth pair.)
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePack } from '../helpers/pack.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';
import { CLI, isRoot, NODE, spawnCollect, workshop } from '../helpers/workshop.ts';

const LINK = 'wswatch0';
/** a cgroup of the pids controller: v1's tree of its own, or v2's one tree */
const CGROUP = existsSync('/sys/fs/cgroup/cgroup.procs') ? '/sys/fs/cgroup/ws-watchev' : '/sys/fs/cgroup/pids/ws-watchev';
const MD = `# Events\n\n## Change everything {#all}\n\nDo it.\n`;
const TS = `import { readFile } from 'node:fs/promises';
import { defineChapter, defineCheck, fileExists, mountedAt, pass, fail, readLinks, LAB } from 'workshop/lesson';
const group = defineCheck('a process in ws-watchev', async () => {
  const procs = (await readFile('${CGROUP}/cgroup.procs', 'utf8').catch(() => '')).trim();
  return procs ? pass(procs) : fail('a process', 'none');
});
const link = defineCheck('${LINK} in the lab', async () => {
  const l = (await readLinks(LAB.host).catch(() => [])).find((x) => x.ifname === '${LINK}');
  return l ? pass('there') : fail('a link', 'none');
});
export default defineChapter({
  formatVersion: 1, id: 'events', title: 'Events',
  steps: { all: { verify: () => [fileExists('rootfs/etc/flag'), mountedAt('mnt'), link, group], solve: async () => {}, hints: ['none'] } },
  cleanup: async () => {},
});
`;

describe.skipIf(!isRoot || !hasTmux)('workshop watch sees each kind of change without its timer', () => {
  const pack = makePack({ '01-events': { md: MD, ts: TS } });
  const home = mkdtempSync('/tmp/ws-watchev-home-');
  let dir = '';
  beforeAll(async () => {
    dir = (await workshop(home, ['--lessons', pack.dir, 'path'])).stdout.trim();
    mkdirSync(path.join(dir, 'mnt'), { recursive: true });
    for (let i = 0; i < 1500; i++) mkdirSync(path.join(dir, `rootfs/usr/d${i}/x`), { recursive: true });
    expect((await workshop(home, ['--lessons', pack.dir, '--allow-host', 'lab', 'up'])).code).toBe(0);
  });
  afterAll(async () => {
    await spawnCollect('umount', [path.join(dir, 'mnt')]);
    await workshop(home, ['--lessons', pack.dir, '--allow-host', 'lab', 'down']);
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('turns the file, mount, link and cgroup rows ✔ within 1 s of each change', async () => {
    const t = Tmux.start('watchev', { cwd: '/tmp', width: 100, height: 24 });
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const reaction = async (row: RegExp, change: () => Promise<void> | void): Promise<number> => {
      const t0 = Date.now();
      await change();
      await t.waitFor(row, 5000);
      return Date.now() - t0;
    };
    try {
      t.type(`clear; ${NODE} ${CLI} --lessons ${pack.dir} --home ${home} watch --interval 30`);
      await t.waitFor(/✘ [^\n]*wswatch0/);
      const flag = path.join(dir, 'rootfs/etc/flag');
      const files: number[] = [];
      for (let i = 0; i < 3; i++) {
        files.push(await reaction(/✔ [^\n]*rootfs\/etc\/flag/, () => {
          mkdirSync(path.dirname(flag), { recursive: true });
          writeFileSync(flag, 'x');
        }));
        files.push(await reaction(/✘ [^\n]*rootfs\/etc\/flag/, () => rmSync(flag)));
      }
      writeFileSync(flag, 'x');
      await t.waitFor(/✔ [^\n]*rootfs\/etc\/flag/, 5000);
      const ms = {
        file: Math.max(...files),
        mount: await reaction(/✔ [^\n]*mnt/, async () => {
          expect((await spawnCollect('mount', ['-t', 'tmpfs', 'ws-watchev', path.join(dir, 'mnt')])).code).toBe(0);
        }),
        link: await reaction(/✔ [^\n]*wswatch0/, async () => {
          expect((await spawnCollect('ip', ['-n', 'ws-host', 'link', 'add', LINK, 'type', 'veth', 'peer', 'name', 'wswatch1'])).code).toBe(0);
        }),
        cgroup: await reaction(/✔ [^\n]*ws-watchev/, () => {
          mkdirSync(CGROUP, { recursive: true });
          writeFileSync(`${CGROUP}/cgroup.procs`, String(sleeper.pid));
        }),
      };
      console.log(`watch reaction (ms): ${JSON.stringify(ms)}`);
      for (const v of Object.values(ms)) expect(v).toBeLessThan(1000);
    } finally {
      t.kill();
      sleeper.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(CGROUP)) rmdirSync(CGROUP);
      await spawnCollect('ip', ['-n', 'ws-host', 'link', 'del', LINK]);
    }
  });
});
