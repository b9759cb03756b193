// Chapter 09 through the built CLI: the self-test starts two containers with the reference ctr
// (TypeScript) under every mutant and checks that nothing is left.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsNames } from '../../src/checks/networking.ts';
import { mountsUnder, readMountinfo } from '../../src/checks/mounts.ts';
import { isRoot, openWorkshop, type TestJson, type Workshop } from '../helpers/workshop.ts';

let w: Workshop;
const ws = (...args: string[]) => w.cli(args);
const wsCgroups = async () => (await readdir('/sys/fs/cgroup/pids').catch(() => [] as string[])).filter((n) => n.startsWith('ws-ctr'));

describe.skipIf(!isRoot)('chapter 09, the capstone runtime', () => {
  beforeAll(async () => {
    w = await openWorkshop('/tmp/ws-cap-it-', { allowHost: true });
  });
  afterAll(async () => {
    await w.dispose();
  });

  it('passes every phase of workshop test with no residue', async () => {
    const r = await ws('test', '--chapter', 'capstone', '--json');
    const report = JSON.parse(r.stdout) as TestJson;
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual([['capstone', 'pass', []]]);
    expect(await wsCgroups()).toEqual([]);
    expect((await netnsNames()).filter((n) => ['ws-host', 'ws-net', 'ws-box'].includes(n))).toEqual([]);
    // Only this test's own mounts: on a shared machine others mount and unmount meanwhile.
    expect(mountsUnder(await readMountinfo(), w.home)).toEqual([]);
  }, 170_000);
});
