// Facts about the machine itself, for the preflight chapter.
import { readFile, stat } from 'node:fs/promises';
import { defineCheck, fail, pass, type Check } from './check.ts';
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

/** This machine is a VM (`systemd-detect-virt --vm`, else the cpuinfo hypervisor flag). */
export const runningInVm = (): Check =>
  defineCheck('this machine is a VM', async () => {
    const v = await detectVm();
    return v.vm ? pass(v.how) : fail('a VM (systemd-detect-virt --vm, or the cpuinfo hypervisor flag)', v.how, 'Run the workshop in its VM: vagrant up, vagrant ssh, sudo -i.');
  });

/** workshop itself runs as uid 0. */
export const runningAsRoot = (): Check =>
  defineCheck('workshop runs as root', () => {
    const uid = process.getuid?.() ?? -1;
    return uid === 0 ? pass('uid 0') : fail('uid 0', `uid ${uid}`, 'sudo -i, then run workshop again');
  });

/** A file whose owner is root proves that whoever made it was root. */
export const ownedByRoot = (p: string): Check =>
  defineCheck(`${p} was made by root`, async (ctx) => {
    const st = await stat(ctx.path(p)).catch(() => null);
    if (!st) return fail(`${p} owned by uid 0`, 'nothing there');
    return st.uid === 0 ? pass('owner uid 0') : fail(`${p} owned by uid 0`, `owner uid ${st.uid}`, 'Make it from a root shell (sudo -i).');
  });
