// The KVM probe boots what a lab boots. On the build machine /dev/kvm exists and a boot sector
// runs under it, but the labs' kernel stops early ("KVM internal error") and qemu hangs: the old
// probe said KVM, and every lab VM then hung with an empty console. Under TCG the same probe must
// pass, or it could never say yes; a file that is no kernel must fail it within its limit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelBoots } from '../../src/labs/accel.ts';
import { readLabImage } from '../../src/labs/image.ts';
import { qemusOf } from './helpers.ts';

const IMAGE = process.env['WORKSHOP_LABS_IMAGE'] ?? '';

describe.runIf(IMAGE !== '')('the KVM probe (needs WORKSHOP_LABS_IMAGE)', () => {
  it('passes when the image\'s kernel boots to its root panic (under TCG, so that it runs here)', async () => {
    const image = await readLabImage(IMAGE);
    const t0 = performance.now();
    const ok = await kernelBoots({ qemu: 'qemu-system-x86_64', kernel: image.kernel, machine: 'pc', accel: 'tcg', cpu: 'max', timeoutMs: 120_000 });
    console.log(`kernel probe under TCG: ${Math.round(performance.now() - t0)} ms`);
    expect(ok).toBe(true);
  }, 150_000);

  it('fails, within its time limit, on a file that is no kernel, and leaves no qemu behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-kprobe-'));
    try {
      const fake = join(dir, 'vmlinuz');
      writeFileSync(fake, 'not a kernel\n');
      const t0 = performance.now();
      expect(await kernelBoots({ qemu: 'qemu-system-x86_64', kernel: fake, machine: 'pc', accel: 'tcg', cpu: 'max', timeoutMs: 3000 })).toBe(false);
      expect(performance.now() - t0).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(qemusOf(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
