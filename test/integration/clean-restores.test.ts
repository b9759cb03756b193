// `workshop clean` after a learner solved their way through the system chapters: netns, links,
// mounts, loop devices and the cgroup tree are as they were before. It discovers; it trusts no log.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, workshop } from '../helpers/workshop.ts';

const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;

function cgroupTree(): string[] {
  const dirs: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      try {
        if (statSync(p).isDirectory()) {
          dirs.push(p);
          if (depth < 2) walk(p, depth + 1);
        }
      } catch {
        // a cgroup that vanished while we looked
      }
    }
  };
  walk('/sys/fs/cgroup', 0);
  return dirs.sort();
}

function machine() {
  return {
    netns: out('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean).sort(),
    links: out('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean).sort(),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter(Boolean).sort(),
    loops: out('losetup', ['-n', '-O', 'NAME,BACK-FILE', '-l']).trim(),
    cgroups: cgroupTree(),
  };
}

const home = mkdtempSync(join(tmpdir(), 'ws-it-clean-'));
afterAll(async () => {
  await workshop(home, ['clean']);
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('workshop clean', () => {
  it('leaves netns, links, mounts, loop devices and cgroups as they were before the chapters ran', async () => {
    const before = machine();
    for (const target of ['overlayfs/proc-leak', 'btrfs/incremental', 'namespaces/net', 'cgroups/attach', 'networking/internet']) {
      const r = await workshop(home, ['solve', target, '--through']);
      expect(r.code, `${target}: ${r.stdout}\n${r.stderr.slice(-600)}`).toBe(0);
    }
    const during = machine();
    expect(during.netns).toEqual(expect.arrayContaining(['ws-host', 'ws-net', 'ws-box']));
    expect(during.mounts.length).toBeGreaterThan(before.mounts.length);
    const r = await workshop(home, ['clean', '--json']);
    const report = JSON.parse(r.stdout) as { cleanups: Array<{ chapter: string; status: string }>; after: unknown[] };
    // each chapter's own cleanup runs first; discovery then takes whatever they left
    expect(report.cleanups.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(report.cleanups.map((c) => c.chapter)).toEqual(expect.arrayContaining(['overlayfs', 'btrfs', 'namespaces', 'cgroups', 'networking']));
    expect(report.after).toEqual([]);
    expect(r.code).toBe(0);
    expect(machine()).toEqual(before);
  });
});
