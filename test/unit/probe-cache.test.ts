// The checks of one verify share their probes (sys/probe-cache.ts): networking's `ip -j` reads run
// once per verify however many checks ask, and afresh in the next verify. The spawns are counted
// at sys/exec.ts's run and runProbe, which answer as `ip -j` does for an empty namespace.
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted((): string[] => []);
vi.mock('../../src/sys/exec.ts', () => {
  const answer = (cmd: string, args: readonly string[]) => {
    calls.push(`${cmd} ${args.join(' ')}`);
    // a batch (one query a line on stdin) answers one line a query
    return { code: 0, stdout: args.includes('-batch') ? '[]\n[]\n[]\n' : '[]', stderr: '' };
  };
  return {
    run: (cmd: string, args: readonly string[]) => Promise.resolve(answer(cmd, args)),
    // the `ip -j` queries run synchronously (issue 26)
    runProbe: answer,
    runInNetns: () => Promise.reject(new Error('not in this test')),
  };
});

const { netnsUsable, readAddrs, readLinks } = await import('../../src/checks/networking.ts');
const { cachedProbe, withProbeCache } = await import('../../src/sys/probe-cache.ts');

describe('the probe cache of one verify', () => {
  // issue 26: link, addr and route of a netns, and whether it can be entered, in one batch
  it('spawns one ip batch per netns for all the checks of a verify, and again in the next verify', async () => {
    calls.length = 0;
    const checks = () => Promise.all([readLinks('ws-host'), readLinks('ws-host'), readAddrs('ws-host'), readLinks('ws-net'), netnsUsable('ws-host'), netnsUsable('ws-host')]);
    await withProbeCache(checks);
    expect([...calls].sort()).toEqual(['ip -n ws-host -j -d -batch -', 'ip -n ws-net -j -d -batch -']);
    await withProbeCache(checks);
    expect(calls).toHaveLength(4);
  });

  it('reads afresh outside a verify (a solve, a mutant, lab down waiting for a netns to go)', async () => {
    calls.length = 0;
    await readLinks('ws-host');
    await readLinks('ws-host');
    expect(calls).toHaveLength(2);
  });

  it('shares a failed read too, and keeps keys apart', async () => {
    let n = 0;
    const failing = () => {
      n++;
      return Promise.reject(new Error('no such netns'));
    };
    await withProbeCache(async () => {
      await expect(cachedProbe('a', failing)).rejects.toThrow('no such netns');
      await expect(cachedProbe('a', failing)).rejects.toThrow('no such netns');
      expect(await cachedProbe('b', () => Promise.resolve(2))).toBe(2);
    });
    expect(n).toBe(1);
  });
});
