// `classroom serve --labs N [--warm W] [--lab-memory MiB] [--lab-cpus N] [--lab-image DIR]
// [--lab-accel auto|kvm|tcg] [--idle-stop 20m] [--expire]`: the hosted labs' flags, and the qemu driver they open. Loaded
// only when --labs is given (it is the only path that reads a lab image).
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envError, usageError } from '../../../errors.ts';
import type { LabsConfig } from '../../../classroom/labs-plugin.ts';
import type { Accel } from '../../../labs/accel.ts';
import { visible } from '../../../classroom/safe-text.ts';
import { flagString, type Cli } from '../../cli.ts';
import type { FlagValues } from '../../args.ts';
import { parseCount, parseDuration } from './flags.ts';

export interface LabFlags {
  capacity: number;
  warm: number;
  spec: { memoryMiB: number; cpus: number };
  idleStopMs: number;
  image: string | undefined;
  accel: Accel | 'auto';
  expire: boolean;
}

/** The flags of `classroom serve` that hosted labs add (its flag table spreads them in). */
export const LAB_FLAGS = {
  labs: { type: 'string', value: 'N', describe: 'hosted labs: a VM per learner, at most N; learners open /lab in a browser (needs root and `workshop lab image build`)' },
  warm: { type: 'string', value: 'W', describe: 'with --labs: VMs booted ahead, so that a learner who joins gets a prompt at once (default 0)' },
  'lab-memory': { type: 'string', value: 'MiB', describe: 'with --labs: memory per VM (default 1024)' },
  'lab-cpus': { type: 'string', value: 'N', describe: 'with --labs: CPUs per VM (default 1)' },
  'lab-image': { type: 'string', value: 'DIR', describe: 'with --labs: the image folder `workshop lab image build` made (default: the newest labs image in its cache)' },
  'lab-accel': { type: 'string', value: 'auto|kvm|tcg', describe: 'with --labs: how qemu runs the VMs; auto (default) uses KVM when the image\'s kernel really boots with it, TCG otherwise' },
  'idle-stop': { type: 'string', value: 'TIME', describe: 'with --labs: a lab nobody used this long is stopped, its disk kept (default 20m)' },
  expire: { type: 'boolean', describe: 'with --labs: remove every lab (VM and disk) when the server stops; otherwise they run on for the next server' },
} as const;

const LAB_ONLY = ['warm', 'lab-memory', 'lab-cpus', 'lab-image', 'lab-accel', 'idle-stop', 'expire'] as const;
const ACCELS = ['auto', 'kvm', 'tcg'] as const;

function labAccel(v: string | undefined): Accel | 'auto' {
  const a = ACCELS.find((x) => x === (v ?? 'auto'));
  if (a === undefined) throw usageError(`--lab-accel ${visible(v ?? '')}: not one of auto, kvm, tcg`, 'usage: workshop classroom serve --labs N --lab-accel auto|kvm|tcg');
  return a;
}

/** Pure: the labs the flags ask for; undefined without --labs (then no other lab flag may be given). */
export function labFlags(flags: FlagValues): LabFlags | undefined {
  const n = flagString(flags, 'labs');
  if (n === undefined) {
    const stray = LAB_ONLY.find((f) => flags[f] !== undefined);
    if (stray) throw usageError(`--${stray} goes with --labs N`, 'usage: workshop classroom serve --labs N [--warm W] [--lab-memory 1024] [--lab-cpus 1]');
    return undefined;
  }
  const capacity = parseCount('labs', n, 1, 1000);
  const warm = parseCount('warm', flagString(flags, 'warm') ?? '0', 0, capacity);
  return {
    capacity,
    warm,
    spec: { memoryMiB: parseCount('lab-memory', flagString(flags, 'lab-memory') ?? '1024', 256, 65_536), cpus: parseCount('lab-cpus', flagString(flags, 'lab-cpus') ?? '1', 1, 64) },
    idleStopMs: parseDuration('idle-stop', flagString(flags, 'idle-stop') ?? '20m'),
    image: flagString(flags, 'lab-image'),
    accel: labAccel(flagString(flags, 'lab-accel')),
    expire: flags['expire'] === true,
  };
}

/** The image folder: --lab-image (a folder, or the disk in it), or the newest labs image of the builder's cache. */
async function imageDir(given: string | undefined): Promise<string> {
  if (given !== undefined) {
    try {
      return statSync(given).isDirectory() ? given : dirname(given);
    } catch {
      throw usageError(`--lab-image ${visible(given)}: no such file or folder`, 'pass the folder (or disk) that `workshop lab image build` printed');
    }
  }
  const { labImageInCache } = await import('../../../labs/image.ts');
  const found = await labImageInCache();
  if (!found) throw envError('there is no labs image on this machine', 'build it first: sudo workshop lab image build (then serve again), or pass --lab-image DIR');
  return found;
}

/** The labs of `classroom serve`: the qemu driver on the image, state under WORKSHOP_HOME/labs. */
export async function labsConfig(cli: Cli, f: LabFlags): Promise<LabsConfig> {
  if (process.getuid?.() !== 0) throw envError('hosted labs need root (qemu drops to nobody once its files are open)', 'run the server as root: sudo workshop classroom serve --labs N');
  const dir = await imageDir(f.image);
  const { readLabImage } = await import('../../../labs/image.ts');
  const { QemuDriver } = await import('../../../labs/qemu.ts');
  let image;
  try {
    image = await readLabImage(dir);
  } catch (err) {
    throw envError(`${visible(dir)} is not a labs image: ${err instanceof Error ? err.message : String(err)}`, 'build one with: sudo workshop lab image build');
  }
  const stateDir = join(cli.home, 'labs');
  return {
    driver: new QemuDriver({ stateDir, image, accel: f.accel }),
    stateDir,
    capacity: f.capacity,
    warm: f.warm,
    spec: f.spec,
    idleStopMs: f.idleStopMs,
    lessonsDir: cli.lessonsDir,
    expireOnClose: f.expire,
  };
}

/** What `classroom serve` prints about the labs. */
export function labsBanner(labs: LabsConfig, origin: string): string[] {
  return [
    `Hosted labs: ${labs.capacity} VMs (${labs.warm} booted ahead), ${labs.spec.memoryMiB} MiB and ${labs.spec.cpus} CPU each, on ${labs.driver.describe}. A learner opens, in a browser:`,
    `  ${origin}/lab`,
    `  (the instructor's labs: ${origin}/lab/instructor, once the dashboard URL above has set your cookie)`,
    '',
  ];
}
