import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseManifest, type BuiltImage } from '../../src/engine/image.ts';
import { kernelProbeArgs, PROBE_DONE } from '../../src/labs/accel.ts';
import { AGENT_UNIT, baseImageOf, labBuilderArgs } from '../../src/labs/image.ts';
import { PORT_NAME } from '../../src/labs/protocol.ts';
import { QemuDriver } from '../../src/labs/qemu.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const image = { disk: '/img/disk.qcow2', kernel: '/img/vmlinuz', initrd: '/img/initrd.img' };

function driver(runAs: string | null = 'nobody'): { d: QemuDriver; state: string } {
  const state = mkdtempSync(join(tmpdir(), 'ws-qemu-'));
  dirs.push(state);
  return { d: new QemuDriver({ stateDir: state, image, runAs, accel: 'tcg' }), state };
}

/** A real builder's manifest (test/fixtures/image), as a labs image would have it. */
function built(change: Record<string, unknown> = {}): BuiltImage {
  const m = parseManifest(JSON.stringify({ ...JSON.parse(readFileSync('test/fixtures/image/image-amd64.json', 'utf8')), disk: 'disk.qcow2', diskFormat: 'qcow2', enabled: [AGENT_UNIT], ...change }));
  return { dir: '/cache/image-amd64-x', manifest: m, diskPath: `/cache/image-amd64-x/${m.disk}`, virtualBytes: 0, allocatedBytes: 0 };
}

describe('the qemu driver’s command line', () => {
  it('gives the guest no network device, one virtio-serial port for the agent, and its own state folder', () => {
    const { d, state } = driver();
    const args = d.args('lab-1', { memoryMiB: 1024, cpus: 1 }, 'tcg');
    const line = args.join(' ');
    expect(line).toContain('-nodefaults');
    expect(args[args.indexOf('-nic') + 1]).toBe('none');
    expect(line).not.toMatch(/-netdev|virtio-net|e1000|hostfwd/);
    expect(line).toContain(`virtserialport,bus=vser0.0,chardev=agent,name=${PORT_NAME}`);
    expect(line).toContain(`socket,id=agent,path=${join(state, 'vms', 'lab-1', 'agent.sock')},server=on,wait=off`);
    expect(line).toContain(`-pidfile ${join(state, 'vms', 'lab-1', 'qemu.pid')}`);
    expect(line).toContain('-daemonize');
    expect(line).toContain(`file=${join(state, 'vms', 'lab-1', 'disk.qcow2')},format=qcow2`);
    expect(line).toMatch(/-m 1024 -smp 1/);
    expect(line).toMatch(/-accel tcg -cpu max/);
    expect(line).toContain('-runas nobody');
    expect(d.args('lab-1', { memoryMiB: 2048, cpus: 2 }, 'kvm').join(' ')).toMatch(/-accel kvm -cpu host -m 2048 -smp 2/);
    expect(driver(null).d.args('lab-1', { memoryMiB: 1024, cpus: 1 }, 'tcg')).not.toContain('-runas');
  });

  it('refuses a VM id that is not a plain name (it becomes a path and an argument)', () => {
    const { d } = driver();
    expect(() => d.args('../../etc', { memoryMiB: 1024, cpus: 1 }, 'tcg')).toThrow(/bad VM id/);
  });

  it('probes KVM by booting the image\'s kernel with no disk and no network, to its root panic', () => {
    const a = kernelProbeArgs({ qemu: 'qemu-system-x86_64', kernel: '/img/vmlinuz', machine: 'pc', accel: 'kvm', cpu: 'host', timeoutMs: 1 });
    expect(a.slice(0, 6)).toEqual(['-accel', 'kvm', '-cpu', 'host', '-machine', 'pc']);
    expect(a).toContain('-nodefaults');
    expect(a.join(' ')).toContain('-nic none');
    expect(a.join(' ')).toContain('-kernel /img/vmlinuz');
    expect(a.join(' ')).toContain('panic=-1');
    expect(a.some((x) => x === '-drive' || x === '-hda' || x === '-initrd')).toBe(false);
    // the line a Debian 13 kernel printed here, under TCG (recorded 2026-12-06)
    expect(PROBE_DONE.test('[    3.281332] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)')).toBe(true);
    expect(PROBE_DONE.test('[    0.000000] Linux version 6.12.118+deb13-amd64')).toBe(false);
  });
});

describe('the labs image', () => {
  it('is the builder’s qcow2 with the agent overlay, its unit enabled and no getty', () => {
    const args = labBuilderArgs('/repo');
    expect(args.join(' ')).toBe(
      '--format qcow2 --overlay /repo/src/labs/guest/rootfs --enable workshop-lab-agent.service --mask getty@tty1.service --mask serial-getty@ttyS0.service --mask serial-getty@ttyAMA0.service',
    );
  });

  it('boots from the manifest: its kernel, its command line made quiet, its machine', () => {
    expect(baseImageOf(built())).toEqual({
      disk: '/cache/image-amd64-x/disk.qcow2',
      kernel: '/cache/image-amd64-x/vmlinuz',
      initrd: '/cache/image-amd64-x/initrd.img',
      append: 'console=ttyS0 root=/dev/vda rw rootfstype=ext4 net.ifnames=0 panic=-1 quiet loglevel=3 systemd.show_status=0',
      qemu: { binary: 'qemu-system-x86_64', machine: 'pc', cpu: 'max' },
    });
  });

  it('refuses a raw image, and an image without the agent', () => {
    expect(() => baseImageOf(built({ disk: 'disk.img', diskFormat: 'raw' }))).toThrow(/qcow2 overlay on a qcow2 base/);
    expect(() => baseImageOf(built({ enabled: ['workshop-vm.service'] }))).toThrow(/has no lab agent/);
  });
});
