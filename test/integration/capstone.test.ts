// Chapter 09 through the built CLI: the self-test starts two containers with the reference ctr
// (TypeScript) under every mutant and checks that nothing is left.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/checks/exec.ts';
import { netnsNames } from '../../src/checks/net.ts';

const CLI = process.env['WORKSHOP_CLI'] ?? fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const LESSONS = fileURLToPath(new URL('../../lessons', import.meta.url));
let home = '';
const ws = (...args: string[]) => run(process.execPath, [CLI, '--lessons', LESSONS, '--home', home, '--allow-host', ...args], { timeoutMs: 170_000 });
const wsCgroups = async () => (await readdir('/sys/fs/cgroup/pids').catch(() => [] as string[])).filter((n) => n.startsWith('ws-ctr'));

beforeAll(async () => {
  home = await mkdtemp('/tmp/ws-cap-it-');
});
afterAll(async () => {
  await ws('clean');
  await rm(home, { recursive: true, force: true });
});

describe('chapter 09, the capstone runtime', () => {
  it('passes every phase of workshop test with no residue', async () => {
    const mountsBefore = (await run('cat', ['/proc/self/mountinfo'])).stdout.split('\n').length;
    const r = await ws('test', '--chapter', 'capstone', '--json');
    const report = JSON.parse(r.stdout) as { chapters: Array<{ id: string; status: string; residue: string[] }> };
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual([['capstone', 'pass', []]]);
    expect(await wsCgroups()).toEqual([]);
    expect((await netnsNames()).filter((n) => ['ws-host', 'ws-net', 'ws-box'].includes(n))).toEqual([]);
    expect((await run('cat', ['/proc/self/mountinfo'])).stdout.split('\n').length).toBe(mountsBefore);
  }, 170_000);
});
