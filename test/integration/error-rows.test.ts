// Low-level errors never reach the learner raw: `workshop check` on a pack whose probes meet a
// missing file, a missing script and binary content prints what to do instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, workshop } from '../helpers/workshop.ts';
import { makePack, oneStep } from '../helpers/pack.ts';

describe.skipIf(!isRoot)('the error rows of a check table', () => {
  const pack = makePack({
    '01-raw': oneStep(
      'raw',
      `[
        defineCheck('busybox is in the rootfs', async (c) => { await readFile(c.path('rootfs/bin/busybox')); return pass('there'); }),
        defineCheck('container.sh runs', async (c) => { const r = await c.run('./container.sh', [], { cwd: c.dir }); if (r.code !== 0) throw new Error(r.stderr); return pass('ran'); }),
        defineCheck('motd is text', () => fail('text', JSON.stringify('\\u0000'.repeat(64)) + ' there')),
      ]`,
      "import { readFile } from 'node:fs/promises';",
    ),
  });
  const home = mkdtempSync('/tmp/ws-rows-home-');
  afterAll(() => {
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('says what is missing and what to do, and names binary data by its size', async () => {
    const r = await workshop(home, ['--lessons', pack.dir, 'check'], { env: { NO_COLOR: '1' } });
    expect(r.code).toBe(1);
    const out = r.stdout.replace(/\s+/g, ' ');
    // the path is long (the pack's progress folder, issue 27) and the table may wrap it anywhere
    expect(r.stdout.replace(/\s+/g, '')).toContain('rootfs/bin/busyboxdoesnotexist.Makeitfirst,asthestepsays');
    expect(out).toContain('./container.sh could not be run: it does not exist (are you in the chapter folder?)');
    expect(out).toContain('binary data (64 bytes) there');
    expect(r.stdout).not.toMatch(/ENOENT|\\u0000|the probe itself could not run/);
  });
});
