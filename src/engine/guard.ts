// The VM guard and the root check. workshop runs destructive commands as root, so outside a VM
// it refuses unless told otherwise. What a VM is, is decided in sys/host.ts.
import { detectVm, type VmVerdict } from '../sys/host.ts';
import { envError } from '../errors.ts';

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
