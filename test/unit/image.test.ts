// The image builder's interface (docs/image-builder.md) and `workshop lab image build`'s pure parts:
// the request the flags make, the builder's arguments, image.json as a real build wrote it, and what
// the command prints. The builder itself is proven by test/vm, which boots what it makes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeImage, imageRequest } from '../../src/cli/commands/lab-image.ts';
import { builderArgs, debianArch, humanBytes, parseManifest, type BuiltImage } from '../../src/engine/image.ts';
import { CLI, NODE, REPO, spawnCollect } from '../helpers/workshop.ts';

const fixture = (name: string): string => readFileSync(path.join(REPO, 'test/fixtures/image', name), 'utf8');
const builder = path.join(REPO, 'src/image/build-image.sh');
const bash = (args: string[]) => {
  const r = spawnSync('bash', args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('the request of `workshop lab image build`', () => {
  it("builds a qcow2 for this machine's architecture by default, with the pack it is given", () => {
    expect(imageRequest({}, '/packs/p', 'x64')).toEqual({ arch: 'amd64', format: 'qcow2', lessons: '/packs/p' });
    expect(imageRequest({}, '/packs/p', 'arm64')).toMatchObject({ arch: 'arm64' });
  });

  it('takes --arch and --out (made absolute); a lab disk is always qcow2', () => {
    expect(imageRequest({ arch: 'arm64', out: 'base.qcow2' }, '/l', 'x64')).toEqual({ arch: 'arm64', format: 'qcow2', lessons: '/l', out: path.resolve('base.qcow2') });
  });

  it('refuses an architecture it does not build as a usage error', () => {
    expect(() => imageRequest({ arch: 'x86_64' }, '/l', 'x64')).toThrow(/--arch must be amd64 or arm64, not "x86_64"/);
  });

  it('asks for --arch on a machine the builder makes no image for', () => {
    expect(() => imageRequest({}, '/l', 'riscv64')).toThrow(/this machine is riscv64: say which image to build with --arch/);
    expect(imageRequest({ arch: 'amd64' }, '/l', 'riscv64')).toMatchObject({ arch: 'amd64' });
  });

  it("maps Node's architecture names to Debian's", () => {
    expect([debianArch('x64'), debianArch('arm64'), debianArch('ia32')]).toEqual(['amd64', 'arm64', undefined]);
  });

  it('hands the builder its options', () => {
    expect(builderArgs({ arch: 'arm64', format: 'qcow2', lessons: '/l', out: '/o/base.qcow2', cache: '/c' })).toEqual(['--arch', 'arm64', '--format', 'qcow2', '--lessons', '/l', '--cache', '/c', '--out', '/o/base.qcow2']);
  });
});

describe('image.json', () => {
  it('reads the manifest of a real x86 build', () => {
    const m = parseManifest(fixture('image-amd64.json'));
    expect(m).toMatchObject({ format: 1, arch: 'amd64', disk: 'disk.img', diskFormat: 'raw', kernel: 'vmlinuz', qemu: { binary: 'qemu-system-x86_64', machine: 'pc', cpu: 'max' } });
    expect(m.cmdline).toMatch(/^console=ttyS0 root=\/dev\/vda /);
    expect(m.key).toMatch(/^[0-9a-f]{16}$/);
    expect(m.enabled).toEqual(['workshop-vm.service']);
  });

  it.each([
    [(j: Record<string, unknown>) => ({ ...j, format: 2 }), /format 2; this workshop reads format 1/],
    [(j: Record<string, unknown>) => ({ ...j, arch: 'riscv64' }), /arch riscv64 is neither amd64 nor arm64/],
    [(j: Record<string, unknown>) => ({ ...j, cmdline: undefined }), /cmdline is missing/],
    [(j: Record<string, unknown>) => ({ ...j, qemu: { binary: 'q' } }), /qemu needs binary, machine and cpu/],
    [(j: Record<string, unknown>) => ({ ...j, enabled: [1] }), /enabled is not a list of strings/],
  ])('rejects a manifest that is wrong: %#', (change, message) => {
    const j = JSON.parse(fixture('image-amd64.json')) as Record<string, unknown>;
    expect(() => parseManifest(JSON.stringify(change(j)))).toThrow(message);
  });

  it('says where the image is, how big, its key, and how to boot a learner on it', () => {
    const manifest = { ...parseManifest(fixture('image-amd64.json')), arch: 'arm64' as const, qemu: { binary: 'qemu-system-aarch64', machine: 'virt', cpu: 'max' }, disk: 'disk.qcow2', diskFormat: 'qcow2' as const };
    const img: BuiltImage = { dir: '/c/image-arm64-k', manifest, diskPath: '/c/image-arm64-k/disk.qcow2', virtualBytes: 8 * 1024 ** 3, allocatedBytes: 1.5 * 1024 ** 3 };
    const text = describeImage(img, undefined).join('\n');
    expect(text).toContain('image: /c/image-arm64-k/disk.qcow2');
    expect(text).toContain('qcow2, arm64, 8.0 GiB for the guest, 1.5 GiB on this disk');
    expect(text).toContain(`key ${manifest.key}`);
    expect(text).toContain('qemu-img create -f qcow2 -b /c/image-arm64-k/disk.qcow2 -F qcow2 learner.qcow2');
    expect(text).toContain('qemu-system-aarch64 -M virt -cpu max');
    expect(describeImage(img, '/out/base.qcow2').join('\n')).toContain('kernel /out/base.qcow2.vmlinuz');
  });

  it('prints sizes in binary units', () => {
    expect([humanBytes(512), humanBytes(1536), humanBytes(8 * 1024 ** 3)]).toEqual(['512 B', '1.5 KiB', '8.0 GiB']);
  });
});

describe('the builder script', () => {
  it('is strict bash and parses', () => {
    for (const f of [builder, path.join(REPO, 'test/vm/build-image.sh')]) {
      expect(bash(['-n', f])).toEqual({ code: 0, out: '' });
      expect(readFileSync(f, 'utf8')).toMatch(/^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m);
    }
  });

  it('documents its options in --help', () => {
    const r = bash([builder, '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--arch amd64|arm64', '--format raw|qcow2', '--lessons DIR', '--cache DIR', '--overlay DIR', '--enable UNIT', '--mask UNIT', '--out FILE']) expect(r.out).toContain(o);
  });

  it.each([
    [['--arch', 'sparc'], /--arch must be amd64 or arm64, not sparc/],
    [['--format', 'vmdk'], /--format must be raw or qcow2, not vmdk/],
    [['--lessons', '/nonexistent/pack'], /--lessons \/nonexistent\/pack is not a folder/],
    [['--enable', 'a;b'], /not a unit name: a;b/],
    [['--out', '/tmp/a b'], /use a file name of letters/],
    [['--bogus'], /unknown argument --bogus/],
  ])('refuses %j with exit 2 before it touches anything', (args, message) => {
    const r = bash([builder, ...args]);
    expect(r.out).toMatch(message);
    expect(r.code).toBe(2);
  });

  it("test/vm builds with it: raw, the harness as an overlay, no login prompt on either architecture's console", () => {
    const text = readFileSync(path.join(REPO, 'test/vm/build-image.sh'), 'utf8');
    expect(text).toContain('src/image/build-image.sh');
    expect(text).toMatch(/--format raw\s[\s\S]*--overlay "\$here\/guest" --enable workshop-vm\.service/);
    for (const u of ['serial-getty@ttyS0.service', 'serial-getty@ttyAMA0.service']) expect(text).toContain(`--mask ${u}`);
  });
});

describe('`workshop lab image build` through the built binary', () => {
  const ws = (...args: string[]) => spawnCollect(NODE, [CLI, ...args], { timeoutMs: 30_000 });

  it('has a --help of its own', async () => {
    const r = await ws('lab', 'image', 'build', '--help');
    expect(r.stdout).toMatch(/^usage: workshop lab image build \[--lessons DIR\] \[--arch amd64\|arm64\] \[--out FILE\]/);
    expect(r.stdout).toContain('--arch amd64|arm64');
    expect(r.code).toBe(0);
  });

  it.runIf(process.getuid?.() === 0)('refuses a wrong architecture or subcommand as usage errors, with the usage as the hint', async () => {
    const bad = await ws('lab', 'image', 'build', '--arch', 'sparc');
    expect(bad.stderr).toContain('error: --arch must be amd64 or arm64, not "sparc"');
    expect(bad.stderr).toContain('hint: usage: workshop lab image build');
    expect(bad.code).toBe(2);
    const sub = await ws('lab', 'image', 'make');
    expect(sub.stderr).toContain('unknown lab image command "make"');
    expect(sub.code).toBe(2);
  });

  it.runIf(process.getuid?.() === 0)('lints the pack before it builds anything: a folder without chapters is a lesson error', async () => {
    const r = await ws('--lessons', path.join(REPO, 'docs'), 'lab', 'image', 'build');
    expect(r.stderr).toMatch(/error: the pack .*docs has 1 problem\(s\):\n.*docs:1: no chapters/);
    expect(r.code).toBe(4);
  });
});
