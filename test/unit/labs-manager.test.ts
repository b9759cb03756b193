import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCast } from '../../src/labs/asciicast.ts';
import { Labs, type LabsOptions } from '../../src/labs/labs.ts';
import type { LabSession } from '../../src/labs/session.ts';
import { FakeDriver } from './labs-fake.ts';

const dirs: string[] = [];
const opened: Labs[] = [];
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(driver: FakeDriver, o: Partial<LabsOptions> & { stateDir?: string } = {}): Promise<Labs> {
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'ws-labs-'));
  if (!o.stateDir) dirs.push(stateDir);
  const labs = await Labs.open({ driver, stateDir, capacity: 2, bootTimeoutMs: 2000, ...o });
  opened.push(labs);
  return labs;
}

/** Output of a session until `want` shows. */
function until(s: LabSession, want: string): Promise<string> {
  let out = '';
  return new Promise((resolve) => {
    s.onData((b) => {
      out += b.toString();
      if (out.includes(want)) resolve(out);
    });
  });
}

const size = { cols: 80, rows: 24 };

describe('hosted labs: the manager', () => {
  it('gives a learner a warm VM, boots one for the next, and refuses the learner after the capacity', async () => {
    const driver = new FakeDriver();
    const labs = await open(driver, { capacity: 2, warm: 1 });
    await labs.fillWarm();
    expect(driver.vms.size).toBe(1);
    const ada = await labs.claim('ada');
    expect(ada).toMatchObject({ kind: 'claimed', warm: true });
    const bob = await labs.claim('bob');
    expect(bob).toMatchObject({ kind: 'claimed' });
    expect(await labs.claim('ada')).toEqual(ada);
    const eve = await labs.claim('eve');
    expect(eve.kind).toBe('full');
    expect(eve.kind === 'full' && eve.message).toMatch(/all 2 labs of this class are in use/);
  });

  it('binds a session to the learner’s own VM: what one types never reaches the other', async () => {
    const driver = new FakeDriver();
    const labs = await open(driver);
    const a = await labs.claim('ada');
    const b = await labs.claim('bob');
    const sa = await labs.attach('ada', size);
    const sb = await labs.attach('bob', size);
    expect([sa.vm, sb.vm]).toEqual([a.kind === 'claimed' && a.vm, b.kind === 'claimed' && b.vm]);
    let bobSaw = '';
    sb.onData((d) => (bobSaw += d.toString()));
    const seen = until(sa, 'secret-of-ada');
    sa.write('echo secret-of-ada\r');
    expect(await seen).toContain('secret-of-ada');
    expect(bobSaw).not.toContain('secret-of-ada');
    expect(await labs.ping('ada')).toBeGreaterThanOrEqual(0);
    await expect(labs.ping('mallory')).rejects.toThrow(/not connected/);
    await expect(labs.attach('mallory', size)).rejects.toThrow(/hold no lab/);
  });

  it('hands a guest’s report to the server under the learner who holds the VM, and marks the recording', async () => {
    const driver = new FakeDriver();
    const got: [string, string][] = [];
    const labs = await open(driver, {
      warm: 1,
      onReport: async (learner, body) => {
        got.push([learner, body]);
        return { status: 201, body: '{}' };
      },
    });
    await labs.fillWarm();
    const [warmVm] = [...driver.vms.values()];
    expect(await warmVm?.agent?.report('{}')).toMatchObject({ status: 409 });
    const c = await labs.claim('ada');
    const s = await labs.attach('ada', size);
    const vm = driver.need(s.vm);
    const body = JSON.stringify({ kind: 'passed', step: 'preflight/vm' });
    expect(await vm.agent?.report(body)).toEqual({ status: 201, body: '{}' });
    expect(got).toEqual([['ada', body]]);
    expect(c.kind === 'claimed' && c.vm).toBe(s.vm);
    const cast = parseCast(readFileSync(labs.recordingPath(s.vm), 'utf8'));
    expect(cast.events.filter((e) => e[1] === 'm').map((e) => e[2])).toEqual(['preflight/vm passed']);
  });

  it('stops an idle lab keeping its disk, and on return boots it and restores the current step', async () => {
    const driver = new FakeDriver();
    let now = 1_000_000;
    const labs = await open(driver, { idleStopMs: 60_000, now: () => now });
    await labs.claim('ada');
    const s = await labs.attach('ada', size);
    expect(s.restored).toBeNull();
    const vm = driver.need(s.vm);
    now += 30_000;
    expect(await labs.stopIdle()).toEqual([]);
    now += 31_000;
    expect(await labs.stopIdle()).toEqual([s.vm]);
    expect(vm.running).toBe(false);
    expect(s.isOpen).toBe(false);
    expect(driver.vms.has(s.vm)).toBe(true);
    vm.position = { current: 'overlayfs/mount', stepNumber: 3 };
    const back = await labs.attach('ada', size);
    expect(back.vm).toBe(s.vm);
    expect(vm.boots).toBe(2);
    expect(back.restored).toMatchObject({ kind: 'restored', step: 'overlayfs/mount' });
    expect(vm.agent?.commands).toEqual(['workshop status --json', 'workshop goto overlayfs/mount --restore --yes --json']);
  });

  it('boots a guest again when it dies before its agent answers, up to twice, and gives up after the third death', async () => {
    const driver = new FakeDriver();
    let now = 0;
    const logged: string[] = [];
    const labs = await open(driver, { idleStopMs: 10, now: () => now, log: (m) => logged.push(m) });
    await labs.claim('ada');
    const s = await labs.attach('ada', size);
    const vm = driver.need(s.vm);
    now = 100;
    await labs.stopIdle();
    vm.crashingBoots = 2;
    const back = await labs.attach('ada', size);
    expect(back.vm).toBe(s.vm);
    expect(vm.boots).toBe(4);
    expect(back.restored).toMatchObject({ kind: 'not needed' });
    expect(logged.filter((m) => m.includes('booting it again'))).toEqual([1, 2].map((n) => `lab ${s.vm}: the guest stopped while booting (the channel closed before the guest agent answered); booting it again (${n} of 2)`));
    const seen = until(back, 'still-here');
    back.write('echo still-here\r');
    expect(await seen).toContain('still-here');

    now = 200;
    await labs.stopIdle();
    vm.crashingBoots = 3;
    await expect(labs.attach('ada', size)).rejects.toThrow(/closed before the guest agent answered/);
    expect(vm.boots).toBe(7);
    expect(vm.running).toBe(false);
  });

  it('restores nothing on a chapter’s first step', async () => {
    const driver = new FakeDriver();
    let now = 0;
    const labs = await open(driver, { idleStopMs: 10, now: () => now });
    await labs.claim('ada');
    const s = await labs.attach('ada', size);
    now = 100;
    await labs.stopIdle();
    expect((await labs.attach('ada', size)).restored).toMatchObject({ kind: 'not needed' });
    expect(driver.need(s.vm).agent?.commands).toEqual(['workshop status --json']);
  });

  it('finds its labs again after the server is gone: the same learner gets the same running VM, unbooted', async () => {
    const driver = new FakeDriver();
    const stateDir = mkdtempSync(join(tmpdir(), 'ws-labs-'));
    dirs.push(stateDir);
    const first = await open(driver, { warm: 1, stateDir });
    await first.fillWarm();
    await first.claim('ada');
    const s = await first.attach('ada', size);
    first.close();
    const second = await open(driver, { warm: 1, stateDir });
    expect(second.labOf('ada')?.vm).toBe(s.vm);
    const again = await second.attach('ada', size);
    expect(again.vm).toBe(s.vm);
    expect(again.restored).toBeNull();
    expect(driver.need(s.vm).boots).toBe(1);
  });

  it('expires every VM after the class, and resets one learner to a fresh VM', async () => {
    const driver = new FakeDriver();
    const labs = await open(driver, { warm: 1 });
    await labs.claim('ada');
    const s = await labs.attach('ada', size);
    const fresh = await labs.reset('ada');
    expect(fresh.kind === 'claimed' && fresh.vm).not.toBe(s.vm);
    expect(driver.vms.has(s.vm)).toBe(false);
    await labs.expire();
    expect(driver.vms.size).toBe(0);
    expect(labs.list()).toEqual([]);
  });
});
