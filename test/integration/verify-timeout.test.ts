// A check whose probe never settles: `workshop check` reports it as an error row with its name
// within the check's time limit, exits 1, and leaves no lock behind.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, workshop } from '../helpers/workshop.ts';
import { makePack, oneStep } from '../helpers/pack.ts';

describe.skipIf(!isRoot)('a check that never settles', () => {
  const pack = makePack({
    '01-slow': oneStep(
      'slow',
      "[defineCheck('a probe that never answers', () => new Promise(() => {}), { timeoutMs: 300 }), defineCheck('a probe that waits an hour', () => new Promise((r) => setTimeout(r, 3_600_000)), { timeoutMs: 300 }), defineCheck('a quick one', () => pass('fine'))]",
    ),
  });
  const home = mkdtempSync('/tmp/ws-timeout-home-');
  afterAll(() => {
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('is an error row with its name after its limit, exit 1, and the lock is released', async () => {
    const t0 = Date.now();
    const r = await workshop(home, ['--lessons', pack.dir, 'check'], { env: { NO_COLOR: '1' }, timeoutMs: 20_000 });
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/a probe that never answers[\s\S]*did not finish within 0\.3 s/);
    expect(r.stdout).toMatch(/a probe that waits an hour[\s\S]*did not finish within 0\.3 s/);
    expect(r.stdout).toContain('a quick one');
    expect(r.stderr).not.toContain('unsettled');
    expect(existsSync(path.join(home, 'lock'))).toBe(false);
  });
});
