// sys/exec.ts's runProbe, the synchronous runner of short probes (`ip -j`), answers as run does:
// the exit code, stdout and stderr as text, stdin fed, and no throw for a failure.
import { describe, expect, it } from 'vitest';
import { run, runProbe } from '../../src/sys/exec.ts';

describe('runProbe', () => {
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

  it('gives a probe killed by a signal no exit code', () => {
    expect(runProbe('sh', ['-c', 'kill -9 $$'])).toMatchObject({ code: null, timedOut: false });
  });

  it('reports a missing binary without throwing, as run does', async () => {
    const r = runProbe('ws-no-such-binary', ['-j']);
    expect(r).toMatchObject({ code: null, stdout: '', timedOut: false });
    expect(r.stderr).toMatch(/^ws-no-such-binary -j: .*ENOENT/);
    expect((await run('ws-no-such-binary', ['-j'])).code).toBeNull();
  });

  it('kills a probe at its time limit', () => {
    const started = Date.now();
    const r = runProbe('sleep', ['5'], { timeoutMs: 200 });
    expect(r).toMatchObject({ code: null, timedOut: true });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
