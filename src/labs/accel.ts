// KVM or TCG. /dev/kvm can exist and still fail, and fail late: on this build machine (a
// Firecracker VM whose /dev/kvm is nested) a 512-byte boot sector runs under KVM, but the labs'
// Debian kernel stops early with "KVM internal error" and qemu hangs with an empty console. So
// the probe boots what a lab boots: the image's own kernel, with no disk, to the panic that says
// it found no root file system. That line proves the kernel went through its whole start under
// KVM. Where KVM works it costs under a second; where it does not, the time limit (then TCG).
import { existsSync } from 'node:fs';
import { followLines } from '../sys/exec.ts';

export type Accel = 'kvm' | 'tcg';

/** The kernel's last words when it booted and found no root: the end of the probe. */
export const PROBE_DONE = /Kernel panic - not syncing: VFS: Unable to mount root/;

export interface KernelProbe {
  qemu: string;
  kernel: string;
  machine: string;
  /** 'kvm' for the real probe; 'tcg' lets a test prove that the probe can pass at all */
  accel: Accel;
  /** the CPU model for that accelerator ('host' under KVM) */
  cpu: string;
  timeoutMs: number;
}

/** The probe's qemu command line: no disk, no network, the console on stdout. */
export function kernelProbeArgs(p: KernelProbe): string[] {
  return [
    '-accel', p.accel, '-cpu', p.cpu, '-machine', p.machine,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-nic', 'none', '-m', '256',
    '-serial', 'stdio', '-kernel', p.kernel,
    '-append', 'console=ttyS0 panic=-1 loglevel=4',
  ];
}

/** Whether the kernel boots to its root-mount panic under p.accel within p.timeoutMs. */
export async function kernelBoots(p: KernelProbe): Promise<boolean> {
  let finish: (ok: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const stop = await followLines(p.qemu, kernelProbeArgs(p), (line) => {
    if (PROBE_DONE.test(line)) finish(true);
  });
  if (stop === null) return false;
  const timer = setTimeout(() => finish(false), p.timeoutMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    stop();
  }
}

/** KVM where /dev/kvm exists and the lab's kernel really boots with it; TCG otherwise. */
export async function kvmWorks(qemu: string, kernel: string, machine: string, timeoutMs = 10_000): Promise<boolean> {
  if (!existsSync('/dev/kvm')) return false;
  return kernelBoots({ qemu, kernel, machine, accel: 'kvm', cpu: 'host', timeoutMs });
}
