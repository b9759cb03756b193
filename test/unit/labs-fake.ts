// A driver and guest agent in memory, speaking the real frames: the labs manager's logic is tested
// without a VM (test/labs/ boots real ones).
import { duplexPair, type Duplex } from 'node:stream';
import type { LabDriver, VmRecord, VmSpec, VmStatus } from '../../src/labs/driver.ts';
import { FrameDecoder, FrameType, PROTOCOL_VERSION, encodeFrame, jsonFrame, parseJson } from '../../src/labs/protocol.ts';

/** The guest side: answers hello, echoes terminal input after a prompt, runs canned commands. */
export class FakeAgent {
  readonly commands: string[] = [];
  private readonly decoder = new FrameDecoder();
  private nextRequest = 1;
  private readonly waiting = new Map<number, (a: { status: number; body: string }) => void>();

  private readonly stream: Duplex;
  private readonly vm: FakeVm;

  constructor(stream: Duplex, vm: FakeVm) {
    this.stream = stream;
    this.vm = vm;
    stream.on('data', (c: Buffer) => {
      for (const f of this.decoder.push(c)) this.onFrame(f.type, f.id, f.payload);
    });
    stream.on('error', () => {});
  }

  private onFrame(type: number, id: number, payload: Buffer): void {
    const v = parseJson(payload) as Record<string, unknown> | undefined;
    if (type === FrameType.hello) this.stream.write(jsonFrame(FrameType.hello, id, { nonce: v?.['nonce'], version: PROTOCOL_VERSION, bootId: this.vm.bootId, uptimeS: 1 }));
    else if (type === FrameType.open) this.stream.write(encodeFrame(FrameType.data, id, `${this.vm.id}# `));
    else if (type === FrameType.data) this.stream.write(encodeFrame(FrameType.data, id, payload));
    else if (type === FrameType.ping) this.stream.write(encodeFrame(FrameType.pong, id, payload));
    else if (type === FrameType.exec) {
      const command = String(v?.['command']);
      this.commands.push(command);
      const stdout = command === 'workshop status --json' ? JSON.stringify(this.vm.position) : '';
      this.stream.write(jsonFrame(FrameType.execResult, id, { code: 0, signal: null, stdout, stderr: '', timedOut: false }));
    } else if (type === FrameType.response) {
      this.waiting.get(id)?.(v as { status: number; body: string });
    }
  }

  /** What workshop's sender does in the guest: posts a report, and gets the host's answer. */
  report(body: string): Promise<{ status: number; body: string }> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.stream.write(jsonFrame(FrameType.request, id, { kind: 'report', body }));
    });
  }
}

export interface FakeVm {
  id: string;
  spec: VmSpec;
  running: boolean;
  bootId: string;
  boots: number;
  /** boots still to come whose guest dies before its agent answers (a kernel crash at boot) */
  crashingBoots: number;
  agent: FakeAgent | null;
  /** what `workshop status --json` says in this guest */
  position: { current: string; stepNumber: number };
}

export class FakeDriver implements LabDriver {
  readonly describe = 'fake';
  readonly vms = new Map<string, FakeVm>();
  private readonly ends = new Map<string, Duplex>();

  async create(id: string, spec: VmSpec): Promise<VmRecord> {
    if (this.vms.has(id)) throw new Error('exists');
    this.vms.set(id, { id, spec, running: false, bootId: '', boots: 0, crashingBoots: 0, agent: null, position: { current: 'preflight/vm', stepNumber: 1 } });
    return { id, spec, createdAt: '', status: { state: 'stopped' } };
  }

  async start(id: string): Promise<void> {
    const v = this.need(id);
    if (v.running) return;
    v.running = true;
    v.boots++;
    v.bootId = `${id}-boot-${v.boots}`;
  }

  async stop(id: string): Promise<void> {
    const v = this.need(id);
    v.running = false;
    this.ends.get(id)?.destroy();
    v.agent = null;
  }

  async destroy(id: string): Promise<void> {
    if (this.vms.has(id)) await this.stop(id);
    this.vms.delete(id);
  }

  async console(id: string): Promise<Duplex> {
    const v = this.need(id);
    if (!v.running) throw new Error(`${id} is not running`);
    this.ends.get(id)?.destroy();
    const [host, guest] = duplexPair();
    this.ends.set(id, guest);
    if (v.crashingBoots > 0) {
      // qemu exits (panic=-1, -no-reboot): the VM stops and its socket closes, no hello ever comes
      v.crashingBoots--;
      setImmediate(() => {
        v.running = false;
        host.destroy();
        guest.destroy();
      });
      return host;
    }
    v.agent = new FakeAgent(guest, v);
    return host;
  }

  async status(id: string): Promise<VmStatus> {
    const v = this.vms.get(id);
    return !v ? { state: 'absent' } : v.running ? { state: 'running', pid: 1 } : { state: 'stopped' };
  }

  async list(): Promise<VmRecord[]> {
    return [...this.vms.values()].map((v) => ({ id: v.id, spec: v.spec, createdAt: '', status: v.running ? { state: 'running', pid: 1 } : { state: 'stopped' } }));
  }

  need(id: string): FakeVm {
    const v = this.vms.get(id);
    if (!v) throw new Error(`no VM ${id}`);
    return v;
  }
}
