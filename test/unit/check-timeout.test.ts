import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECK_TIMEOUT_MS, defineCheck, pass, runChecks, type CheckContext } from '../../src/checks/check.ts';
import { timeScale } from '../../src/sys/exec.ts';

const ctx = {} as CheckContext;
const never = () => new Promise<never>(() => {});

describe('the time limit of a check', () => {
  afterEach(() => vi.useRealTimers());

  it('reports a probe that never settles as an error row with its name, after its own limit', async () => {
    const t0 = Date.now();
    const r = await runChecks([defineCheck('hangs forever', never, { timeoutMs: 50 }), defineCheck('quick', () => pass('yes'))], ctx);
    expect(r).toEqual([
      { status: 'error', check: 'hangs forever', error: 'the check did not finish within 0.1 s: its probe hangs' },
      { status: 'pass', check: 'quick', actual: 'yes' },
    ]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it(`gives every check ${CHECK_TIMEOUT_MS} ms by default`, async () => {
    vi.useFakeTimers();
    const r = runChecks([defineCheck('hangs', never)], ctx);
    await vi.advanceTimersByTimeAsync(CHECK_TIMEOUT_MS - 1);
    let settled = false;
    void r.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await r)[0]).toMatchObject({ status: 'error', check: 'hangs', error: expect.stringContaining('within 10 s') });
  });

  it('stretches every limit by WORKSHOP_TIME_SCALE, for a slow machine such as a TCG guest', async () => {
    vi.stubEnv('WORKSHOP_TIME_SCALE', '3');
    try {
      const t0 = Date.now();
      const r = await runChecks([defineCheck('hangs', never, { timeoutMs: 50 })], ctx);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(r[0]).toMatchObject({ status: 'error', error: 'the check did not finish within 0.2 s: its probe hangs' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it.each([
    [undefined, 1],
    ['4', 4],
    ['0.5', 1],
    ['100', 20],
    ['fast', 1],
  ])('reads WORKSHOP_TIME_SCALE=%s as %d', (v, want) => {
    expect(timeScale(v === undefined ? {} : { WORKSHOP_TIME_SCALE: v })).toBe(want);
  });
});
