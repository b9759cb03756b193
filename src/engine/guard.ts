// The VM guard and the root check. workshop runs destructive commands as root, so outside a VM
// it refuses unless told otherwise.
import { readFile } from 'node:fs/promises';
import { run } from '../checks/exec.ts';
import { envError } from './errors.ts';

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

export const isRoot = (): boolean => process.getuid?.() === 0;

export function requireRoot(commandLine: string): void {
  if (!isRoot()) throw envError('this command changes or inspects system state and needs root', `run it as root: sudo workshop ${commandLine}`);
}

export async function requireVm(allowHost: boolean, what: string, detect: () => Promise<VmVerdict> = detectVm): Promise<void> {
  if (allowHost) return;
  const v = await detect();
  if (!v.vm) {
    throw envError(`refusing to ${what} outside a VM (${v.how}): it runs destructive commands as root`, 'run it inside the workshop VM (vagrant up), or pass --allow-host (or WORKSHOP_ALLOW_HOST=1) if you know what you are doing');
  }
}
