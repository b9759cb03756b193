// `workshop lab image build [--lessons DIR] [--arch amd64|arm64] [--out FILE]`: the hosted labs'
// base image, a qcow2 Debian 13 disk with the kernel, workshop, the pack and the labs' guest agent
// (src/labs/image.ts's hook). The pack is linted first (a build takes minutes); building is
// engine/image.ts's.
import { resolve } from 'node:path';
import { buildImage, debianArch, humanBytes, IMAGE_ARCHES, type BuiltImage, type ImageArch, type ImageRequest } from '../../engine/image.ts';
import { labBuilderArgs } from '../../labs/image.ts';
import { formatProblem, lintPack } from '../../engine/lint.ts';
import { lessonError, usageError } from '../../errors.ts';
import { flagString, projectRoot, type Cli } from '../cli.ts';
import type { FlagValues } from '../args.ts';
import { defineCommand } from '../command.ts';

export const IMAGE_BUILD_USAGE = 'lab image build [--lessons DIR] [--arch amd64|arm64] [--out FILE]';

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`--${flag} must be ${allowed.join(' or ')}, not "${value}"`, `usage: workshop ${IMAGE_BUILD_USAGE}`);
}

/** Pure: the request the flags make; the architecture defaults to this machine's, and a lab's disk is always qcow2 (an overlay's base). */
export function imageRequest(flags: FlagValues, lessonsDir: string, nodeArch: string): ImageRequest {
  const archFlag = flagString(flags, 'arch');
  const host = debianArch(nodeArch);
  if (archFlag === undefined && host === undefined) throw usageError(`this machine is ${nodeArch}: say which image to build with --arch amd64 or --arch arm64`);
  const arch: ImageArch = archFlag === undefined ? (host ?? 'amd64') : oneOf(archFlag, IMAGE_ARCHES, 'arch');
  const out = flagString(flags, 'out');
  return { arch, format: 'qcow2', lessons: lessonsDir, ...(out === undefined ? {} : { out: resolve(out) }) };
}

/** Pure: what the command prints about the image. */
export function describeImage(img: BuiltImage, out: string | undefined): string[] {
  const m = img.manifest;
  const disk = out ?? img.diskPath;
  const file = (name: string) => (out ? `${out}.${name === m.kernel ? 'vmlinuz' : 'initrd.img'}` : `${img.dir}/${name}`);
  return [
    `image: ${disk}`,
    `  ${m.diskFormat}, ${m.arch}, ${humanBytes(img.virtualBytes)} for the guest, ${humanBytes(img.allocatedBytes)} on this disk`,
    `  key ${m.key} (Debian ${m.suite}, kernel ${m.kernelVersion}, workshop ${m.workshopVersion})`,
    `  lessons ${m.lessons}, in the guest at ${m.guestLessons}`,
    `  kernel ${file(m.kernel)}`,
    `  initrd ${file(m.initrd)}`,
    ...(out ? [`  manifest ${out}.json`] : [`  manifest ${img.dir}/image.json`]),
    '',
    'A learner\'s disk is a copy-on-write overlay on it, booted with the kernel above:',
    ...(m.diskFormat === 'qcow2' ? [`  qemu-img create -f qcow2 -b ${disk} -F qcow2 learner.qcow2`] : []),
    `  ${m.qemu.binary} -M ${m.qemu.machine} -cpu ${m.qemu.cpu} -m 1024 -nographic -nic none -kernel ${file(m.kernel)} -initrd ${file(m.initrd)} \\`,
    `    -append "${m.cmdline}" -drive file=${m.diskFormat === 'qcow2' ? 'learner.qcow2,format=qcow2' : `${disk},format=raw,snapshot=on`},if=virtio`,
  ];
}

/** The image would carry the pack's problems: it is linted first (a build takes minutes). */
async function lintFirst(dir: string): Promise<void> {
  const { problems } = await lintPack(dir);
  if (problems.length > 0) throw lessonError(`the pack ${dir} has ${problems.length} problem(s):\n${problems.map(formatProblem).join('\n')}`, `fix them first (workshop lint ${dir}); the image would carry them`);
}

async function labImage(cli: Cli): Promise<number> {
  const req = imageRequest(cli.flags, cli.lessonsDir, process.arch);
  await lintFirst(req.lessons);
  if (req.out) cli.err(`building into the cache, then copying to ${req.out}`);
  const img = await buildImage(projectRoot(), req, labBuilderArgs(projectRoot()));
  if (cli.json) cli.emit({ image: req.out ?? img.diskPath, dir: img.dir, virtualBytes: img.virtualBytes, allocatedBytes: img.allocatedBytes, manifest: img.manifest });
  else for (const l of describeImage(img, req.out)) cli.out(l);
  return 0;
}

const build = defineCommand({
  meta: {
    name: 'lab image build',
    summary: "build (or find in the cache) the hosted labs' base image: a qcow2 Debian 13 disk with its kernel, workshop, the lesson pack (default: the built-in lessons) and the labs' guest agent. Needs root, debootstrap and qemu-utils (qemu-user-static for a foreign --arch); takes minutes the first time, seconds from the cache",
    usage: IMAGE_BUILD_USAGE,
    exit: '0; 2 usage, 3 environment, 4 the pack has problems',
  },
  flags: {
    arch: { type: 'string', value: 'amd64|arm64', describe: "the guest's architecture (default: this machine's)" },
    out: { type: 'string', value: 'FILE', describe: 'also copy the disk to FILE (with FILE.vmlinuz, FILE.initrd.img, FILE.json)' },
  },
  run: labImage,
});

export default defineCommand({
  meta: { name: 'lab image', summary: "the hosted labs' VM image", usage: 'lab image build ...', exit: '0' },
  maxArgs: Number.POSITIVE_INFINITY,
  subCommands: { build: async () => build },
  // reached only without `build`, or with something else
  run: async (cli) => {
    const [sub, ...rest] = cli.positionals;
    throw usageError(sub === undefined ? 'which lab image command?' : `unknown lab image command "${[sub, ...rest].join(' ')}"`, `usage: workshop ${IMAGE_BUILD_USAGE}`);
  },
});
