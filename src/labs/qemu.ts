// The qemu driver: each VM a daemonized qemu with its pidfile, sockets and disk in a folder of its
// own under the state folder, so that the VMs outlive the class server (kill -9 included) and a
// restarted server finds them again by reading that folder.
//
//   <state>/vms/<id>/vm.json       id, spec, base image, created
//                    disk.qcow2    copy-on-write overlay on the base (qemu-img create -b base)
//                    qemu.pid      written by qemu -daemonize
//                    agent.sock    the guest agent's virtio-serial port (one client at a time)
//                    qmp.sock      qemu's control socket: powerdown, quit
//                    console.log   the serial console, for when a guest does not come up
//
// The guest has no network device at all (-nic none, -nodefaults). qemu drops to an unprivileged
// user after it has opened its files (-runas) and runs under its seccomp sandbox.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { run } from '../sys/exec.ts';
import { processAlive } from '../sys/process.ts';
import { kvmWorks, type Accel } from './accel.ts';
import { checkVmId, parseSpec, type LabDriver, type VmRecord, type VmSpec, type VmStatus } from './driver.ts';
import { PORT_NAME } from './protocol.ts';
import { qmp } from './qmp.ts';

/** The base image of the labs: a qcow2 disk and the kernel that boots it. */
export interface BaseImage {
  disk: string;
  kernel: string;
  initrd: string;
  /** the kernel command line; the root is the first virtio disk */
  append?: string;
  /** from the image's manifest; x86's pc machine by default */
  qemu?: { binary: string; machine: string; cpu: string };
}

export interface QemuOptions {
  /** the state folder (made 0700); the VMs live under <stateDir>/vms */
  stateDir: string;
  image: BaseImage;
  /** 'auto' (default): KVM when a tiny guest really boots with it, TCG otherwise */
  accel?: Accel | 'auto';
  qemu?: string;
  /** the user qemu runs as once its files are open; null: stay root. Default 'nobody' when root. */
  runAs?: string | null;
}

const DEFAULT_APPEND = 'console=ttyS0 root=/dev/vda rw rootfstype=ext4 panic=-1 net.ifnames=0 quiet loglevel=3 systemd.show_status=0';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class QemuDriver implements LabDriver {
  private readonly root: string;
  private readonly image: BaseImage;
  private readonly qemu: string;
  private readonly machine: string;
  private readonly tcgCpu: string;
  private readonly runAs: string | null;
  private accel: Accel | undefined;
  private readonly accelWanted: Accel | 'auto';

  constructor(o: QemuOptions) {
    this.root = resolve(o.stateDir, 'vms');
    this.image = { ...o.image, disk: resolve(o.image.disk), kernel: resolve(o.image.kernel), initrd: resolve(o.image.initrd) };
    this.qemu = o.qemu ?? o.image.qemu?.binary ?? 'qemu-system-x86_64';
    this.machine = o.image.qemu?.machine ?? 'pc';
    this.tcgCpu = o.image.qemu?.cpu ?? 'max';
    this.runAs = o.runAs === undefined ? (process.getuid?.() === 0 ? 'nobody' : null) : o.runAs;
    this.accelWanted = o.accel ?? 'auto';
    mkdirSync(resolve(o.stateDir), { recursive: true, mode: 0o700 });
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  get describe(): string {
    return `qemu (${this.accel ?? (this.accelWanted === 'auto' ? 'kvm or tcg' : this.accelWanted)})`;
  }

  /**
   * KVM or TCG, decided once: by booting the image's own kernel under KVM (accel.ts), since
   * /dev/kvm may exist and fail. The probe is x86's; elsewhere 'auto' means TCG until someone
   * proves KVM there (`--lab-accel kvm`).
   */
  async accelerator(): Promise<Accel> {
    if (this.accel) return this.accel;
    if (this.accelWanted !== 'auto') this.accel = this.accelWanted;
    else this.accel = this.qemu.endsWith('x86_64') && (await kvmWorks(this.qemu, this.image.kernel, this.machine)) ? 'kvm' : 'tcg';
    return this.accel;
  }

  private dir(id: string): string {
    return join(this.root, checkVmId(id));
  }

  async create(id: string, spec: VmSpec): Promise<VmRecord> {
    const dir = this.dir(id);
    if (existsSync(join(dir, 'vm.json'))) throw new Error(`VM ${id} exists already`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', this.image.disk, '-F', 'qcow2', join(dir, 'disk.qcow2')], { timeoutMs: 30_000 });
    if (r.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`qemu-img create failed for VM ${id}: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
    const rec = { id, spec, createdAt: new Date().toISOString(), base: this.image.disk };
    writeFileSync(join(dir, 'vm.json'), `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
    return { id, spec, createdAt: rec.createdAt, status: { state: 'stopped' } };
  }

  /** The qemu command line of a VM. Pure but for the paths; exported for the docs and the tests. */
  args(id: string, spec: VmSpec, accel: Accel): string[] {
    const dir = this.dir(id);
    return [
      '-name', `workshop-lab-${id},process=workshop-lab-${id}`,
      '-daemonize', '-pidfile', join(dir, 'qemu.pid'),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-machine', this.machine, '-accel', accel, '-cpu', accel === 'kvm' ? 'host' : this.tcgCpu,
      '-m', String(spec.memoryMiB), '-smp', String(spec.cpus),
      '-nic', 'none',
      '-serial', `file:${join(dir, 'console.log')}`,
      '-kernel', this.image.kernel, '-initrd', this.image.initrd, '-append', this.image.append ?? DEFAULT_APPEND,
      '-drive', `file=${join(dir, 'disk.qcow2')},format=qcow2,if=virtio,discard=unmap`,
      '-device', 'virtio-serial-pci,id=vser0',
      '-chardev', `socket,id=agent,path=${join(dir, 'agent.sock')},server=on,wait=off`,
      '-device', `virtserialport,bus=vser0.0,chardev=agent,name=${PORT_NAME}`,
      '-qmp', `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
      // pages the guest frees go back to the host: an idle lab costs what it uses, not its -m
      '-device', 'virtio-balloon-pci,free-page-reporting=on',
      '-device', 'virtio-rng-pci',
      // elevateprivileges=deny and spawn=deny stop -daemonize itself (setsid, fork): not set
      '-sandbox', 'on,obsolete=deny,resourcecontrol=deny',
      ...(this.runAs ? ['-runas', this.runAs] : []),
    ];
  }

  private readRecord(id: string): { spec: VmSpec; createdAt: string } | undefined {
    try {
      const v = JSON.parse(readFileSync(join(this.dir(id), 'vm.json'), 'utf8')) as { spec?: unknown; createdAt?: unknown };
      const spec = parseSpec(v.spec);
      return spec ? { spec, createdAt: String(v.createdAt ?? '') } : undefined;
    } catch {
      return undefined;
    }
  }

  async start(id: string): Promise<void> {
    const rec = this.readRecord(id);
    if (!rec) throw new Error(`no VM ${id}`);
    if ((await this.status(id)).state === 'running') return;
    const dir = this.dir(id);
    for (const f of ['agent.sock', 'qmp.sock', 'qemu.pid']) rmSync(join(dir, f), { force: true });
    writeFileSync(join(dir, 'console.log'), '');
    const accel = await this.accelerator();
    // With -daemonize the command returns once the VM runs, its sockets made; errors come before.
    const r = await run(this.qemu, this.args(id, rec.spec, accel), { timeoutMs: 60_000, cwd: dir });
    if (r.code !== 0) throw new Error(`qemu did not start VM ${id}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const st = await this.status(id);
    if (st.state !== 'running') throw new Error(`qemu started VM ${id} but it is not running (see ${join(dir, 'console.log')})`);
  }

  /** The pid of the VM's qemu, if that process is alive and really is this VM's (a pid is reused). */
  private pidOf(id: string): number | undefined {
    const dir = this.dir(id);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(join(dir, 'disk.qcow2')) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async status(id: string): Promise<VmStatus> {
    if (!this.readRecord(id)) return { state: 'absent' };
    const pid = this.pidOf(id);
    return pid === undefined ? { state: 'stopped' } : { state: 'running', pid };
  }

  private async waitGone(id: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.pidOf(id) === undefined) return true;
      await sleep(100);
    }
    return this.pidOf(id) === undefined;
  }

  async stop(id: string, graceMs = 60_000): Promise<void> {
    const pid = this.pidOf(id);
    if (pid === undefined) return;
    const sock = join(this.dir(id), 'qmp.sock');
    // ACPI power button: systemd shuts the guest down, its disk clean
    if (graceMs > 0 && (await qmp(sock, 'system_powerdown').then(() => true, () => false)) && (await this.waitGone(id, graceMs))) return;
    // quit: qemu flushes its own caches and exits; the guest's file system is as after a power cut
    if ((await qmp(sock, 'quit').then(() => true, () => false)) && (await this.waitGone(id, 5000))) return;
    this.kill(pid);
    await this.waitGone(id, 5000);
  }

  private kill(pid: number): void {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }

  async destroy(id: string): Promise<void> {
    const pid = this.pidOf(id);
    if (pid !== undefined) {
      this.kill(pid);
      if (!(await this.waitGone(id, 10_000))) throw new Error(`VM ${id} (qemu ${pid}) did not die`);
    }
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  async console(id: string): Promise<Duplex> {
    if (this.pidOf(id) === undefined) throw new Error(`VM ${id} is not running`);
    const path = join(this.dir(id), 'agent.sock');
    return new Promise<Socket>((resolveSock, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolveSock(s);
      });
      s.once('error', reject);
    });
  }

  async list(): Promise<VmRecord[]> {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const out: VmRecord[] = [];
    for (const id of names.sort()) {
      let rec: { spec: VmSpec; createdAt: string } | undefined;
      try {
        rec = this.readRecord(id);
      } catch {
        continue; // not a VM id: not ours
      }
      if (rec) out.push({ id, spec: rec.spec, createdAt: rec.createdAt, status: await this.status(id) });
    }
    return out;
  }

  /** Where a VM's files are, for diagnostics (the console log) and the tests. */
  vmDir(id: string): string {
    return this.dir(id);
  }
}
