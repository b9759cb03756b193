// A chapter's set-up commands print under a heading of their own, never loose among step output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, openWorkshop, type Workshop } from '../helpers/workshop.ts';

describe.skipIf(!isRoot)("a chapter's set-up", () => {
  let ws: Workshop;
  beforeAll(async () => {
    ws = await openWorkshop('/tmp/ws-setup-it-');
  });
  afterAll(async () => ws.dispose());

  it('prints "Setting up chapter X:" before its first command', async () => {
    const r = await ws.cli(['goto', 'overlayfs'], { env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const heading = lines.findIndex((l) => l.startsWith('Setting up chapter overlayfs (Copy-on-write with overlayfs):'));
    const firstCommand = lines.findIndex((l) => l.startsWith('$ '));
    expect(heading).toBeGreaterThanOrEqual(0);
    expect(firstCommand).toBeGreaterThan(heading);
  });
});
