// Facts about the machine itself, for the preflight chapter.
import { stat } from 'node:fs/promises';
import { detectVm } from '../sys/host.ts';
import { defineCheck, fail, pass, type Check } from './check.ts';

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
