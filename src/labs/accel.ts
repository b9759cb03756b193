// KVM or TCG. /dev/kvm can exist and still fail (this build machine's is a paravirtual one: qemu
// hangs or aborts with "failed to set MSR 0x10a"), so its presence proves nothing: a 512-byte
// boot sector that writes to qemu's isa-debug-exit port is booted with KVM, and only a guest that
// reaches that write within the time limit counts. It costs ~0.3 s where KVM works.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../sys/exec.ts';

export type Accel = 'kvm' | 'tcg';

/** mov al, 0x31; out 0xf4, al; hlt; jmp $ - then the MBR signature. */
export function probeBootSector(): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from([0xb0, 0x31, 0xe6, 0xf4, 0xf4, 0xeb, 0xfe]).copy(b);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** isa-debug-exit turns the value v written to its port into qemu's exit code (v << 1) | 1. */
export const PROBE_EXIT = (0x31 << 1) | 1;

export async function kvmWorks(qemu: string, scratch: string, timeoutMs = 5000): Promise<boolean> {
  if (!existsSync('/dev/kvm')) return false;
  const dir = mkdtempSync(join(scratch, '.kvm-probe-'));
  try {
    const img = join(dir, 'probe.img');
    writeFileSync(img, probeBootSector());
    const r = await run(
      qemu,
      ['-accel', 'kvm', '-cpu', 'host', '-machine', 'pc', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-m', '16',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-drive', `file=${img},format=raw,if=floppy`],
      { timeoutMs },
    );
    return r.code === PROBE_EXIT;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
