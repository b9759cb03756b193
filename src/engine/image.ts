// The VM image of the hosted labs (and of test/vm): a Debian 13 disk with the kernel, workshop and a
// lesson pack, made by the one builder, src/image/build-image.sh (docs/image-builder.md). Deciding
// its arguments and reading what it made are pure; running it is exec.ts's.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runShowingProgress } from '../sys/exec.ts';
import { envError, usageError } from '../errors.ts';

export const IMAGE_ARCHES = ['amd64', 'arm64'] as const;
export type ImageArch = (typeof IMAGE_ARCHES)[number];
export const IMAGE_FORMATS = ['qcow2', 'raw'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** What to build. */
export interface ImageRequest {
  arch: ImageArch;
  format: ImageFormat;
  /** the lesson pack, an absolute folder */
  lessons: string;
  /** also copy the disk there (with .vmlinuz, .initrd.img and .json beside it) */
  out?: string;
  /** the cache folder; the builder's default when absent */
  cache?: string;
}

/** image.json, as the builder writes it (format 1). */
export interface ImageManifest {
  format: 1;
  /** the image's cache key: the same inputs give the same key */
  key: string;
  baseKey: string;
  arch: ImageArch;
  suite: string;
  /** file names in the image folder */
  disk: string;
  diskFormat: ImageFormat;
  diskSize: string;
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** the kernel command line: serial console, root on the first virtio disk */
  cmdline: string;
  qemu: { binary: string; machine: string; cpu: string };
  lessons: string;
  guestLessons: string;
  workshopVersion: string;
  overlays: string[];
  enabled: string[];
  masked: string[];
}

/** An image that exists, with the sizes of its disk. */
export interface BuiltImage {
  dir: string;
  manifest: ImageManifest;
  diskPath: string;
  /** the size the guest sees */
  virtualBytes: number;
  /** what the disk file takes on the host (sparse or qcow2: far less) */
  allocatedBytes: number;
}

/** Pure: Node's name of a CPU architecture as Debian's, or undefined for one the builder does not make. */
export function debianArch(nodeArch: string): ImageArch | undefined {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : undefined;
}

/** Pure: the builder's arguments for a request. */
export function builderArgs(req: ImageRequest): string[] {
  return ['--arch', req.arch, '--format', req.format, '--lessons', req.lessons, ...(req.cache ? ['--cache', req.cache] : []), ...(req.out ? ['--out', req.out] : [])];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Pure: reads image.json; throws an Error naming the first field that is missing or wrong. */
export function parseManifest(text: string): ImageManifest {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v)) throw new Error('image.json is not an object');
  if (v['format'] !== 1) throw new Error(`image.json has format ${String(v['format'])}; this workshop reads format 1`);
  for (const k of ['key', 'baseKey', 'suite', 'disk', 'diskSize', 'kernel', 'initrd', 'kernelVersion', 'cmdline', 'lessons', 'guestLessons', 'workshopVersion'])
    if (typeof v[k] !== 'string' || v[k] === '') throw new Error(`image.json: ${k} is missing or not a string`);
  if (!(IMAGE_ARCHES as readonly unknown[]).includes(v['arch'])) throw new Error(`image.json: arch ${String(v['arch'])} is neither amd64 nor arm64`);
  if (!(IMAGE_FORMATS as readonly unknown[]).includes(v['diskFormat'])) throw new Error(`image.json: diskFormat ${String(v['diskFormat'])} is neither qcow2 nor raw`);
  const q = v['qemu'];
  if (!isRecord(q) || typeof q['binary'] !== 'string' || typeof q['machine'] !== 'string' || typeof q['cpu'] !== 'string') throw new Error('image.json: qemu needs binary, machine and cpu');
  for (const k of ['overlays', 'enabled', 'masked']) if (!isStrings(v[k])) throw new Error(`image.json: ${k} is not a list of strings`);
  return v as unknown as ImageManifest;
}

/** Pure: a size for people, in binary units ("1.9 GiB"). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i] ?? ''}`;
}

/** Reads an image folder the builder made. */
export async function readImage(dir: string): Promise<BuiltImage> {
  const manifest = parseManifest(await readFile(join(dir, 'image.json'), 'utf8'));
  const diskPath = join(dir, manifest.disk);
  const st = await stat(diskPath);
  // qemu-img's virtual size lives in the qcow2 header: bytes 24..31, big-endian (docs/interop/qcow2.txt).
  let virtualBytes = st.size;
  if (manifest.diskFormat === 'qcow2') {
    const fh = await open(diskPath, 'r');
    try {
      const head = Buffer.alloc(32);
      await fh.read(head, 0, 32, 0);
      virtualBytes = Number(head.readBigUInt64BE(24));
    } finally {
      await fh.close();
    }
  }
  return { dir, manifest, diskPath, virtualBytes, allocatedBytes: st.blocks * 512 };
}

/** The builder's path in this installation. */
export const builderPath = (projectRoot: string): string => join(projectRoot, 'src', 'image', 'build-image.sh');

/**
 * Builds the image (or finds it in the cache): the builder's progress goes to stderr as it comes.
 * `hookArgs` are the builder's --overlay/--enable/--mask for guest-side pieces (the labs' agent).
 * Its exit code 2 is a usage error and 3 a missing tool, as for workshop itself.
 */
export async function buildImage(projectRoot: string, req: ImageRequest, hookArgs: readonly string[] = []): Promise<BuiltImage> {
  const r = await runShowingProgress('bash', [builderPath(projectRoot), ...builderArgs(req), ...hookArgs]);
  if (r.code === 2) throw usageError('the image builder refused its arguments (see above)', 'workshop lab image build --help');
  if (r.code !== 0) throw envError(`the image build failed (exit ${r.code ?? 'by a signal'})${r.stderr ? `: ${r.stderr}` : ''}`, 'the lines above say where it stopped; the logs are in the cache folder it names');
  const dir = r.stdout.trim().split('\n').at(-1) ?? '';
  if (!dir.startsWith('/')) throw envError(`the image builder printed no image folder (it printed "${dir.slice(0, 80)}")`);
  return readImage(dir);
}
