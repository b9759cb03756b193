// The built-in lessons run in workshop's own process for next, check and watch (host-inline.ts),
// a pack's code never does: not with --lessons, and not when it is the pack in use without any
// flag (`workshop pack use`). A check that calls process.exit() is an error row there, as the
// child refuses it; in workshop's own process it would have ended workshop with exit 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makePack } from '../helpers/pack.ts';
import { workshop } from '../helpers/workshop.ts';

const MD = `# Exits\n\n## Exit {#exit}\n\nDo it.\n\n## What you built\n\nNothing.\n`;
const TS = `import { defineChapter, defineCheck, pass } from 'workshop/lesson';
const bye = defineCheck('exits', async () => { process.exit(0); return pass('never'); });
export default defineChapter({ formatVersion: 1, id: 'exits', title: 'Exits', steps: { exit: { verify: () => [bye], solve: async () => {}, hints: ['none'] } }, cleanup: async () => {} });
`;

describe('a pack in use without --lessons runs in the lesson host child', () => {
  const pack = makePack({ '01-exits': { md: MD, ts: TS } });
  const home = mkdtempSync('/tmp/ws-inline-home-');
  afterAll(() => {
    pack.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('next reports the process.exit() as an error row and exits 1', async () => {
    expect((await workshop(home, ['pack', 'add', pack.dir, '--name', 'wsexits', '--no-test'])).code).toBe(0);
    expect((await workshop(home, ['pack', 'use', 'wsexits'])).code).toBe(0);
    const r = await workshop(home, ['next']);
    expect(r.stdout + r.stderr).toMatch(/it calls process\.exit\(0\)/);
    expect(r.code).toBe(1);
  });
});
