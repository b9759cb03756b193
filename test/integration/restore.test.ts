// `goto X --restore` and "a step that broke an earlier one", through the built CLI, as root: on
// overlayfs, btrfs and networking the learner's state is broken by hand, `next` names the earlier
// step that no longer holds, the restore says what it removes, and afterwards every step before
// the target passes again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, openWorkshop, type Workshop } from '../helpers/workshop.ts';

let ws: Workshop;
beforeAll(async () => {
  ws = await openWorkshop('/tmp/ws-it-restore-', { allowHost: true });
});
afterAll(async () => {
  await ws.dispose();
});

interface CheckJson {
  passed: boolean;
}
interface NextJson {
  passed: boolean;
  noLongerHold: Array<{ step: string }>;
}

async function expectStepsPass(chapter: string, steps: readonly string[]): Promise<void> {
  for (const s of steps) {
    const r = await ws.cli(['--json', 'check', `${chapter}/${s}`]);
    expect((JSON.parse(r.stdout) as CheckJson).passed, `${chapter}/${s}: ${r.stdout}`).toBe(true);
  }
}

async function scenario(chapter: string, earlier: readonly string[], target: string, breakIt: string, broken: string): Promise<void> {
  expect((await ws.cli(['goto', chapter])).code).toBe(0);
  const solved = await ws.cli(['solve', `${chapter}/${earlier.at(-1) ?? ''}`, '--through']);
  expect(solved.code, solved.stderr).toBe(0);
  expect((await ws.shell(chapter, breakIt)).code).toBe(0);

  const next = await ws.cli(['--json', 'next']);
  const n = JSON.parse(next.stdout) as NextJson;
  expect(n.passed).toBe(false);
  expect(n.noLongerHold.map((b) => b.step)).toContain(`${chapter}/${broken}`);
  const text = await ws.cli(['next']);
  expect(text.stdout).toMatch(new RegExp(`step \\d+ \\(${broken}\\) no longer holds: `));

  const refused = await ws.cli(['goto', `${chapter}/${target}`, '--restore']);
  expect(refused.code, 'no terminal and no --yes').toBe(2);
  expect(refused.stderr).toMatch(/It removes:/);

  const r = await ws.cli(['goto', `${chapter}/${target}`, '--restore', '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`▶ solving ${chapter}/${earlier[0] ?? ''}`));
  expect(r.stdout).toMatch(/restored to .* in [\d.]+ s/);
  await expectStepsPass(chapter, earlier);
  const status = await ws.cli(['--json', 'status']);
  expect(status.stdout).toContain(`${chapter}/${target}`);
}

describe.skipIf(!isRoot)('goto --restore', () => {
  it('overlayfs: the overlay unmounted by hand, then restored to the opaque step', async () => {
    await scenario('overlayfs', ['dirs', 'mount', 'cow', 'whiteout'], 'opaque', 'umount /tmp/$WORKSHOP_NONCE/overlay', 'mount');
  });

  it('btrfs: the store unmounted by hand, then restored to the snapshot step', async () => {
    await scenario('btrfs', ['image', 'mount', 'subvolume', 'populate', 'run'], 'snapshot', 'umount store', 'mount');
  });

  it('networking: the bridge deleted, then restored to the forward step', async () => {
    await scenario('networking', ['bridge', 'netns', 'veth', 'addr', 'route', 'ping-bridge'], 'forward', 'ip netns exec ws-host ip link del br0', 'bridge');
  });
});
