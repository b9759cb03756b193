// Issue 14: `workshop status` starts close to `node -e 0`, so it must load none of the heavy
// packages and none of the built-ins it does not use. Watched on the built CLI with a module
// resolve hook and Node's own list of loaded built-ins; `solve preflight/vm`, whose solution runs
// through zx in the lesson host, shows that the recorder sees a package when one is loaded.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, NODE, isRoot, spawnCollect } from '../helpers/workshop.ts';

const HOOK = join(import.meta.dirname, '..', 'fixtures', 'record-loads.mjs');
const HEAVY = ['fastify', 'pg', 'playwright-core', 'playwright', 'marked', 'marked-terminal', 'execa', 'zx', '@inquirer/prompts', 'inquirer', 'wrap-ansi'];
/** built-ins that only some commands need: status needs none of them */
const SLOW_BUILTINS = ['crypto', 'child_process', 'net', 'dgram', 'tty', 'fs/promises', 'http', 'https', 'readline'];
const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

async function loads(args: readonly string[], home = tmp('ws-loads-home-')): Promise<{ code: number | null; packages: string[]; builtins: string[]; urls: string[] }> {
  const log = join(tmp('ws-loads-'), 'log');
  // in NODE_OPTIONS, so that the lesson host, a child process, records what it loads too
  const r = await spawnCollect(NODE, [CLI, ...args], { env: { WORKSHOP_HOME: home, WORKSHOP_LOAD_LOG: log, NO_COLOR: '1', NODE_OPTIONS: `--import=${HOOK}` } });
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const packages = [...new Set(lines.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))];
  const builtins = lines.flatMap((l) => (l.startsWith('builtin:') ? [l.slice('builtin:'.length)] : []));
  return { code: r.code, packages, builtins, urls: lines.filter((l) => !l.startsWith('builtin:')) };
}

describe('what workshop status loads', () => {
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loads no heavy package', async () => {
    const r = await loads(['status']);
    expect(r.code).toBe(0);
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
    expect(r.packages).toEqual([]);
  });

  it('loads none of crypto, child_process, net, tty or fs/promises', async () => {
    const r = await loads(['status']);
    expect(r.builtins.length).toBeGreaterThan(20); // the list is really read
    expect(r.builtins.filter((b) => SLOW_BUILTINS.includes(b))).toEqual([]);
  });

  // The lesson's own `import { stat } from 'node:fs/promises'` goes to the build's fs-promises.js
  // (in the lesson host, which runs steps.ts),
  // and the engine's checks use callback fs: a passing `next` loads neither fs/promises nor the
  // readline it pulls in (~26M instructions).
  it.skipIf(!isRoot)('a passing next loads no fs/promises, even though its steps.ts imports it', async () => {
    const home = tmp('ws-loads-next-');
    const goto = await spawnCollect(NODE, [CLI, 'goto', 'chroot/rootfs-dirs'], { env: { WORKSHOP_HOME: home, NO_COLOR: '1' } });
    expect(goto.code).toBe(0);
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin']) mkdirSync(join(home, 'chapters', 'chroot', 'rootfs', d), { recursive: true });
    expect(readFileSync(join(import.meta.dirname, '..', '..', 'lessons', '01-chroot', 'steps.ts'), 'utf8')).toContain("from 'node:fs/promises'");
    const r = await loads(['next'], home);
    expect(r.code).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/lessons/01-chroot/steps.ts'))).toBe(true);
    // (the built-in lessons run in workshop's own process for next: src/lessons/host-inline.ts)
    expect(r.builtins.filter((b) => ['fs/promises', 'readline', 'crypto'].includes(b))).toEqual([]);
    // the global `performance` loads perf_hooks and ten modules behind it (~1.4 ms): the lock's
    // and the host's time limits read process.hrtime (sys/lang.ts: monotonicMs)
    expect(r.builtins).not.toContain('perf_hooks');
    // the inline host and the lesson API are one file there (scripts/build.mjs): not lesson.js and
    // the chunks of the host's build, which it imports
    expect(r.urls.filter((u) => u.endsWith('/dist/lesson-inline.js'))).toHaveLength(1);
    expect(r.urls.filter((u) => /\/dist\/(host-[^/]*|lesson)\.js$/.test(u))).toEqual([]);
  });

  it.skipIf(!isRoot)('hint, which writes the hint count, loads no perf_hooks, crypto or child_process', async () => {
    const home = tmp('ws-loads-hint-');
    const goto = await spawnCollect(NODE, [CLI, 'goto', 'chroot/rootfs-dirs'], { env: { WORKSHOP_HOME: home, NO_COLOR: '1' } });
    expect(goto.code).toBe(0);
    // the first hint imports steps.ts (in the lesson host) to fill the hints cache; the second reads the cache
    expect((await spawnCollect(NODE, [CLI, 'hint'], { env: { WORKSHOP_HOME: home, NO_COLOR: '1' } })).code).toBe(0);
    const r = await loads(['hint'], home);
    expect(r.code).toBe(0);
    expect(r.packages).toEqual([]);
    expect(r.builtins.filter((b) => ['perf_hooks', 'crypto', 'child_process', 'fs/promises'].includes(b))).toEqual([]);
  });

  // doctor --fresh loaded execa until its probes ran through node:child_process (issue 26)
  it('sees a package when a command loads one (a solution runs through zx in the lesson host)', async () => {
    const r = await loads(['solve', 'preflight/vm', '--allow-host']);
    expect(r.code).toBe(0);
    expect(r.packages).toContain('zx');
    expect(r.builtins).toContain('child_process');
  });
});
