// Is this machine a VM? The engine's guard and readiness ask, the labs ask before they boot a
// guest, and the preflight chapter's check (checks/host.ts) asks: the lowest layer answers once.
import { readFile } from 'node:fs/promises';
import { run } from './exec.ts';

export type VmVerdict = { vm: true; how: string } | { vm: false; how: string };

/**
 * Pure decision. `systemd-detect-virt --vm` (not the plain form, which also reports containers:
 * it says `docker` on a Firecracker VM that has /.dockerenv) is trusted first; the cpuinfo
 * `hypervisor` flag is the fallback where systemd-detect-virt is missing.
 */
export function decideVm(detect: { code: number | null; stdout: string } | undefined, cpuinfo: string): VmVerdict {
  const kind = detect?.stdout.trim() ?? '';
  if (detect && detect.code === 0 && kind && kind !== 'none') return { vm: true, how: `systemd-detect-virt --vm: ${kind}` };
  const flags = cpuinfo.split('\n').find((l) => l.startsWith('flags'))?.split(/\s+/) ?? [];
  if (flags.includes('hypervisor')) return { vm: true, how: 'the cpuinfo hypervisor flag' };
  return { vm: false, how: detect ? `systemd-detect-virt --vm: ${kind || 'none'}; no hypervisor flag in /proc/cpuinfo` : 'no systemd-detect-virt; no hypervisor flag in /proc/cpuinfo' };
}

export async function detectVm(): Promise<VmVerdict> {
  const [detect, cpuinfo] = await Promise.all([
    run('systemd-detect-virt', ['--vm'], { timeoutMs: 5000 }).then((r) => (r.code === null && !r.timedOut ? undefined : r)),
    readFile('/proc/cpuinfo', 'utf8').catch(() => ''),
  ]);
  return decideVm(detect, cpuinfo);
}
