// The per-boot cache of list and doctor: an answer is reused only for the same boot, user, PATH,
// dpkg state and steps.ts; --fresh probes again; a broken chapter is never cached.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachePath, machineFacts, readiness, type Machine, type Readiness } from '../../src/engine/readiness.ts';
import type { ChapterEntry } from '../../src/lessons/catalog.ts';
import type { VmVerdict } from '../../src/sys/host.ts';

let dir: string;
const machine: Machine = { bootId: 'boot-1', uid: 0, path: '/usr/bin:/bin', dpkg: '1:2:3' };

function chapter(id: string): ChapterEntry {
  const stepsPath = join(dir, `${id}-steps.ts`);
  writeFileSync(stepsPath, 'export default {};\n');
  return { id, order: 0, dir, mdPath: join(dir, `${id}.md`), stepsPath, text: { title: id, steps: [], problems: [] } as unknown as ChapterEntry['text'] };
}

/** A probe that counts its calls and answers `answer`. */
function counting(answer: Readiness) {
  const calls: string[] = [];
  return { calls, probe: async (c: ChapterEntry) => (calls.push(c.id), answer) };
}

const missingLvm: Readiness = { kind: 'loaded', needs: ['device-mapper target thin-pool'], missing: ['no device-mapper'] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-readiness-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the readiness cache of list and doctor', () => {
  it('probes once, then answers from the cache for the same boot and steps.ts', async () => {
    const c = chapter('lvm');
    const p = counting(missingLvm);
    const cache = cachePath(dir);
    const first = await readiness([c], { cache, machine, probe: p.probe });
    const second = await readiness([c], { cache, machine, probe: p.probe });
    expect(p.calls).toEqual(['lvm']);
    expect(second.chapters).toEqual(first.chapters);
    expect(second.chapters[0]).toEqual(missingLvm);
  });

  it('probes again when steps.ts changes', async () => {
    const c = chapter('lvm');
    const p = counting(missingLvm);
    const cache = cachePath(dir);
    await readiness([c], { cache, machine, probe: p.probe });
    writeFileSync(c.stepsPath, 'export default { requires: [] };\n');
    utimesSync(c.stepsPath, new Date(), new Date(Date.now() + 5000));
    await readiness([c], { cache, machine, probe: p.probe });
    expect(p.calls).toEqual(['lvm', 'lvm']);
  });

  it.each([
    ['a new boot', { bootId: 'boot-2' }],
    ['another user', { uid: 1000 }],
    ['another PATH', { path: '/usr/local/bin:/usr/bin:/bin' }],
    ['an apt-get install (dpkg status rewritten)', { dpkg: '9:9:9' }],
  ])('probes again after %s', async (_what, change) => {
    const c = chapter('btrfs');
    const p = counting({ kind: 'loaded', needs: ['command btrfs'], missing: [] });
    const cache = cachePath(dir);
    await readiness([c], { cache, machine, probe: p.probe });
    await readiness([c], { cache, machine: { ...machine, ...change }, probe: p.probe });
    expect(p.calls).toEqual(['btrfs', 'btrfs']);
  });

  it('never trusts a cache when the boot id is unknown (no procfs)', async () => {
    const c = chapter('btrfs');
    const p = counting(missingLvm);
    const m = { ...machine, bootId: 'unknown' };
    await readiness([c], { cache: cachePath(dir), machine: m, probe: p.probe });
    await readiness([c], { cache: cachePath(dir), machine: m, probe: p.probe });
    expect(p.calls).toHaveLength(2);
  });

  it('--fresh probes everything again and the next run reads what it found', async () => {
    const c = chapter('lvm');
    const cache = cachePath(dir);
    await readiness([c], { cache, machine, probe: counting(missingLvm).probe });
    const fixed: Readiness = { kind: 'loaded', needs: missingLvm.kind === 'loaded' ? missingLvm.needs : [], missing: [] };
    const p = counting(fixed);
    expect((await readiness([c], { cache, machine, probe: p.probe })).chapters[0]).toEqual(missingLvm);
    expect((await readiness([c], { cache, machine, fresh: true, probe: p.probe })).chapters[0]).toEqual(fixed);
    expect((await readiness([c], { cache, machine, probe: p.probe })).chapters[0]).toEqual(fixed);
    expect(p.calls).toEqual(['lvm']);
  });

  it('does not cache a broken chapter', async () => {
    const c = chapter('broken');
    const p = counting({ kind: 'broken', problems: ['steps.ts:3: cannot import'] });
    await readiness([c], { cache: cachePath(dir), machine, probe: p.probe });
    await readiness([c], { cache: cachePath(dir), machine, probe: p.probe });
    expect(p.calls).toHaveLength(2);
  });

  it('keeps the VM verdict per boot, and --fresh detects it again', async () => {
    const cache = cachePath(dir);
    let detections = 0;
    const detect = async (): Promise<VmVerdict> => (detections++, { vm: true, how: 'systemd-detect-virt --vm: kvm' });
    const probe = counting(missingLvm).probe;
    const a = await readiness([], { cache, machine, vm: true, detect, probe });
    const b = await readiness([], { cache, machine, vm: true, detect, probe });
    await readiness([], { cache, machine, vm: true, fresh: true, detect, probe });
    await readiness([], { cache, machine: { ...machine, bootId: 'boot-2' }, vm: true, detect, probe });
    expect(a.vm).toEqual({ vm: true, how: 'systemd-detect-virt --vm: kvm' });
    expect(b.vm).toEqual(a.vm);
    expect(detections).toBe(3);
  });

  it('reads the boot id of this machine', () => {
    expect(machineFacts().bootId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
