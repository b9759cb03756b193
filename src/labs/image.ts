// The labs' base image is the one builder's (src/image/build-image.sh, docs/image-builder.md), in
// qcow2, with the guest agent laid over it through the builder's hook: no recipe of our own.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, type BuiltImage } from '../engine/image.ts';
import type { BaseImage } from './qemu.ts';

export const AGENT_UNIT = 'workshop-lab-agent.service';

/** What the labs add to the image: the agent and its unit, and no login prompt on any console. */
export const LAB_IMAGE_HOOK = {
  overlay: join('src', 'labs', 'guest', 'rootfs'),
  enable: [AGENT_UNIT],
  mask: ['getty@tty1.service', 'serial-getty@ttyS0.service', 'serial-getty@ttyAMA0.service'],
} as const;

/** Pure: the builder's arguments that make a labs image (`workshop lab image build` adds these). */
export function labBuilderArgs(projectRoot: string): string[] {
  return [
    '--format', 'qcow2',
    '--overlay', join(projectRoot, LAB_IMAGE_HOOK.overlay),
    ...LAB_IMAGE_HOOK.enable.flatMap((u) => ['--enable', u]),
    ...LAB_IMAGE_HOOK.mask.flatMap((u) => ['--mask', u]),
  ];
}

/** Quiet boot: the serial console is a file nobody reads, and an emulated UART is slow under TCG. */
const QUIET = 'panic=-1 quiet loglevel=3 systemd.show_status=0';

/** Pure: how the qemu driver boots an image the builder made; refuses one without the agent. */
export function baseImageOf(img: BuiltImage): BaseImage {
  const m = img.manifest;
  if (m.diskFormat !== 'qcow2') throw new Error(`${img.diskPath} is ${m.diskFormat}: a lab's disk is a qcow2 overlay on a qcow2 base (build with --format qcow2)`);
  if (!m.enabled.includes(AGENT_UNIT)) throw new Error(`${img.dir} has no lab agent (${AGENT_UNIT} is not enabled in it): build it with workshop lab image build`);
  return {
    disk: img.diskPath,
    kernel: join(img.dir, m.kernel),
    initrd: join(img.dir, m.initrd),
    append: `${m.cmdline} ${QUIET}`,
    qemu: m.qemu,
  };
}

export async function readLabImage(dir: string): Promise<BaseImage> {
  return baseImageOf(await readImage(dir));
}

/** The builder's cache folder, as build-image.sh has it. */
export const imageCache = (): string => process.env['WORKSHOP_VM_CACHE'] ?? '/var/cache/workshop-vm';

/**
 * The newest labs image in the builder's cache (a qcow2 image with the agent), for `classroom
 * serve --labs` without --lab-image; undefined when there is none.
 */
export async function labImageInCache(cache: string = imageCache()): Promise<string | undefined> {
  let names: string[];
  try {
    names = readdirSync(cache).filter((n) => n.startsWith('image-'));
  } catch {
    return undefined;
  }
  const found: { dir: string; mtime: number }[] = [];
  for (const n of names) {
    const dir = join(cache, n);
    try {
      baseImageOf(await readImage(dir));
      found.push({ dir, mtime: statSync(join(dir, 'image.json')).mtimeMs });
    } catch {
      // not a labs image (test/vm's raw one), or half built
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.dir;
}
