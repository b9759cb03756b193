// sys/exec.ts's runProbe, the synchronous runner of short probes (`ip -j`), answers as run does:
// the exit code, stdout and stderr as text, stdin fed, and no throw for a failure. It runs through
// spawnSync's native half, without loading node:child_process (issue 26), and through
// node:child_process where that is not to be used (WORKSHOP_SPAWN=child_process, a deprecation
// flag): both ways answer alike.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/sys/exec.ts';

const execTs = fileURLToPath(new URL('../../src/sys/exec.ts', import.meta.url));

for (const way of ['native', 'child_process'] as const) {
  describe(`runProbe (${way})`, () => {
    let runProbe: typeof import('../../src/sys/exec.ts').runProbe;
    const before = process.env['WORKSHOP_SPAWN'];
    beforeAll(async () => {
      if (way === 'child_process') process.env['WORKSHOP_SPAWN'] = 'child_process';
      else delete process.env['WORKSHOP_SPAWN'];
      vi.resetModules();
      ({ runProbe } = await import('../../src/sys/exec.ts'));
    });
    afterAll(() => {
      if (before === undefined) delete process.env['WORKSHOP_SPAWN'];
      else process.env['WORKSHOP_SPAWN'] = before;
    });

    it('gives the exit code, stdout and stderr, as run does', async () => {
      const args = ['-c', 'echo out; echo err >&2; exit 3'];
      const { command, ...got } = runProbe('sh', args);
      expect(got).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
      expect(command).toBe('sh -c echo out; echo err >&2; exit 3');
      expect(runProbe('sh', args)).toEqual(await run('sh', args));
    });

    it('feeds its input on stdin, and gives none without it', () => {
      expect(runProbe('cat', [], { input: 'link show\naddr show\n' }).stdout).toBe('link show\naddr show\n');
      expect(runProbe('sh', ['-c', 'cat; echo end']).stdout).toBe('end\n');
      expect(runProbe('cat', [], { input: 'ä ✔\n' }).stdout).toBe('ä ✔\n');
    });

    it('runs in /, never in the caller’s folder, with the process’s environment', () => {
      expect(runProbe('pwd', []).stdout).toBe('/\n');
      process.env['WS_PROBE_ENV'] = 'seen';
      try {
        expect(runProbe('sh', ['-c', 'echo "$WS_PROBE_ENV"']).stdout).toBe('seen\n');
      } finally {
        delete process.env['WS_PROBE_ENV'];
      }
    });

    it('reports a missing binary without throwing, as run does', async () => {
      const r = runProbe('ws-no-such-binary', ['-j']);
      expect(r).toEqual({ code: null, stdout: '', stderr: 'ws-no-such-binary -j: spawnSync ws-no-such-binary ENOENT', timedOut: false, command: 'ws-no-such-binary -j' });
      expect((await run('ws-no-such-binary', ['-j'])).code).toBeNull();
    });

    it('kills a probe at its time limit', () => {
      const started = Date.now();
      const r = runProbe('sleep', ['5'], { timeoutMs: 200 });
      expect(r).toMatchObject({ code: null, timedOut: true });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('gives a probe killed by a signal no exit code', () => {
      expect(runProbe('sh', ['-c', 'kill -9 $$'])).toMatchObject({ code: null, timedOut: false });
    });
  });
}

describe('runProbe in a process of its own', () => {
  /** What the process printed: its stdout, and its stderr after a `|`. */
  const probe = (nodeArgs: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', `const m = await import(${JSON.stringify(execTs)}); const r = m.runProbe('sh', ['-c', 'echo ok']); console.log(r.stdout.trim(), process.moduleLoadList.includes('NativeModule child_process'));`], {
      encoding: 'utf8',
      env: { ...process.env, WORKSHOP_SPAWN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return `${r.stdout}|${r.stderr}`;
  };

  it('loads no node:child_process and prints no warning', () => {
    expect(probe([])).toBe('ok false\n|');
  });

  it('falls back to node:child_process under a deprecation flag, which would print process.binding’s warning', () => {
    expect(probe(['--pending-deprecation'])).toBe('ok true\n|');
    expect(probe([], { NODE_OPTIONS: '--throw-deprecation' })).toBe('ok true\n|');
    expect(probe([], { WORKSHOP_SPAWN: 'child_process' })).toBe('ok true\n|');
  });
});
