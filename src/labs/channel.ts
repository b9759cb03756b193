// The host's end of the guest agent's port: a handshake, then terminals, commands and the
// guest's reports, multiplexed as frames (protocol.ts) on one byte stream from the driver.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
  dataFrames,
  encodeFrame,
  jsonFrame,
  parseJson,
  type ExecResult,
  type Frame,
  type HelloReply,
  type RequestAnswer,
  type TerminalSize,
} from './protocol.ts';

/** What the host does with a report the guest's workshop posted; its answer goes back to the sender. */
export type ReportHandler = (body: string) => Promise<RequestAnswer>;

export interface ConnectOptions {
  /** how long to wait for the agent (a cold boot under TCG takes a minute or more) */
  timeoutMs: number;
  onReport?: ReportHandler;
}

type Listener<T> = (v: T) => void;

/** One terminal in the guest: a tmux client on the session it was opened with. */
export class HostTerminal {
  private readonly dataListeners = new Set<Listener<Buffer>>();
  private readonly closeListeners = new Set<Listener<string>>();
  private state: { kind: 'open' } | { kind: 'closed'; reason: string } = { kind: 'open' };

  readonly id: number;
  private readonly channel: LabChannel;

  constructor(id: number, channel: LabChannel) {
    this.id = id;
    this.channel = channel;
  }

  get isOpen(): boolean {
    return this.state.kind === 'open';
  }

  write(data: string | Buffer): void {
    if (this.state.kind !== 'open') return;
    for (const f of dataFrames(this.id, typeof data === 'string' ? Buffer.from(data) : data)) this.channel.send(f);
  }

  resize(size: TerminalSize): void {
    if (this.state.kind === 'open') this.channel.send(jsonFrame(FrameType.resize, this.id, size));
  }

  /** Closes this client; the tmux session and its shell stay for the next open. */
  close(): void {
    if (this.state.kind !== 'open') return;
    this.channel.send(jsonFrame(FrameType.close, this.id, { reason: 'closed by the host' }));
    this.ended('closed by the host');
  }

  /** Subscribes to the terminal's output; returns the unsubscribe. */
  onData(cb: Listener<Buffer>): () => void {
    this.dataListeners.add(cb);
    return () => this.dataListeners.delete(cb);
  }

  onClose(cb: Listener<string>): () => void {
    if (this.state.kind === 'closed') {
      cb(this.state.reason);
      return () => {};
    }
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  /** @internal frames from the channel */
  received(data: Buffer): void {
    for (const cb of this.dataListeners) cb(data);
  }

  /** @internal */
  ended(reason: string): void {
    if (this.state.kind !== 'open') return;
    this.state = { kind: 'closed', reason };
    this.channel.forget(this.id);
    for (const cb of this.closeListeners) cb(reason);
    this.closeListeners.clear();
    this.dataListeners.clear();
  }
}

interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Takes a waiting exec or ping off its map, its timer stopped; undefined when it timed out already. */
function settle<T>(map: Map<number, Pending<T>>, id: number): Pending<T> | undefined {
  const p = map.get(id);
  if (!p) return undefined;
  map.delete(id);
  clearTimeout(p.timer);
  return p;
}

export class LabChannel {
  private readonly terminals = new Map<number, HostTerminal>();
  private readonly execs = new Map<number, Pending<ExecResult>>();
  private readonly pings = new Map<number, Pending<number>>();
  private readonly closeListeners = new Set<Listener<string>>();
  private nextId = 1;
  private closedWhy: string | null = null;

  private readonly stream: Duplex;
  private readonly decoder: FrameDecoder;
  readonly hello: HelloReply;
  private readonly onReport: ReportHandler | undefined;

  private constructor(stream: Duplex, decoder: FrameDecoder, hello: HelloReply, onReport: ReportHandler | undefined, pending: readonly Frame[]) {
    this.stream = stream;
    this.decoder = decoder;
    this.hello = hello;
    this.onReport = onReport;
    for (const f of pending) this.onFrame(f);
    stream.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.onFrame(f);
    });
    stream.on('close', () => this.shutdown('the channel closed'));
    stream.on('error', (err) => this.shutdown(`the channel failed: ${err.message}`));
  }

  /**
   * Says hello until the agent answers with the same nonce: frames from before (a previous host's,
   * cut mid-write) are skipped. Rejects when the agent does not answer in time.
   */
  static connect(stream: Duplex, o: ConnectOptions): Promise<LabChannel> {
    const decoder = new FrameDecoder();
    const nonce = randomBytes(12).toString('hex');
    return new Promise((resolve, reject) => {
      const helloFrame = jsonFrame(FrameType.hello, 0, { nonce });
      const again = setInterval(() => stream.write(helloFrame), 1000);
      const limit = setTimeout(() => fail(new Error(`the guest agent did not answer within ${Math.round(o.timeoutMs / 1000)} s`)), o.timeoutMs);
      const cleanup = () => {
        clearInterval(again);
        clearTimeout(limit);
        stream.off('data', onData);
        stream.off('close', onClose);
        stream.off('error', fail);
      };
      function fail(err: Error): void {
        cleanup();
        stream.destroy();
        reject(err);
      }
      function onClose(): void {
        fail(new Error('the channel closed before the guest agent answered'));
      }
      function onData(chunk: Buffer): void {
        const frames = decoder.push(chunk);
        for (const [i, f] of frames.entries()) {
          if (f.type !== FrameType.hello) continue;
          const v = parseJson(f.payload) as Partial<HelloReply> | undefined;
          if (v?.nonce !== nonce) continue;
          if (v.version !== PROTOCOL_VERSION) {
            fail(new Error(`the guest agent speaks protocol ${String(v.version)}, this host ${PROTOCOL_VERSION}: rebuild the lab image`));
            return;
          }
          cleanup();
          const hello = { nonce, version: v.version, bootId: String(v.bootId ?? ''), uptimeS: Number(v.uptimeS ?? 0) };
          resolve(new LabChannel(stream, decoder, hello, o.onReport, frames.slice(i + 1)));
          return;
        }
      }
      stream.on('data', onData);
      stream.once('close', onClose);
      stream.once('error', fail);
      stream.write(helloFrame);
    });
  }

  get isOpen(): boolean {
    return this.closedWhy === null;
  }

  onClose(cb: Listener<string>): () => void {
    if (this.closedWhy !== null) {
      cb(this.closedWhy);
      return () => {};
    }
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return id;
  }

  /** @internal */
  send(frame: Buffer): void {
    if (this.closedWhy === null) this.stream.write(frame);
  }

  /** @internal */
  forget(id: number): void {
    this.terminals.delete(id);
  }

  /** A terminal on the tmux session `session` (created on the first open, attached after). */
  openTerminal(size: TerminalSize, session = 'main'): HostTerminal {
    if (this.closedWhy !== null) throw new Error(`the lab channel is closed: ${this.closedWhy}`);
    const t = new HostTerminal(this.id(), this);
    this.terminals.set(t.id, t);
    this.send(jsonFrame(FrameType.open, t.id, { ...size, session }));
    return t;
  }

  /** Runs a bash command line in the guest as a root login shell would. */
  exec(command: string, timeoutMs = 60_000): Promise<ExecResult> {
    if (this.closedWhy !== null) return Promise.reject(new Error(`the lab channel is closed: ${this.closedWhy}`));
    const id = this.id();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.execs.delete(id);
        reject(new Error(`the guest did not finish "${command}" within ${timeoutMs + 5000} ms`));
      }, timeoutMs + 5000);
      this.execs.set(id, { resolve, reject, timer });
      this.send(jsonFrame(FrameType.exec, id, { command, timeoutMs }));
    });
  }

  /** The round trip to the agent and back, in ms. */
  ping(timeoutMs = 10_000): Promise<number> {
    if (this.closedWhy !== null) return Promise.reject(new Error(`the lab channel is closed: ${this.closedWhy}`));
    const id = this.id();
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new Error('no pong'));
      }, timeoutMs);
      this.pings.set(id, { resolve: () => resolve(performance.now() - t0), reject, timer });
      this.send(encodeFrame(FrameType.ping, id));
    });
  }

  /** Closes the stream; the VM and its tmux sessions go on. */
  close(): void {
    this.shutdown('closed by the host');
    this.stream.destroy();
  }

  private shutdown(why: string): void {
    if (this.closedWhy !== null) return;
    this.closedWhy = why;
    for (const t of [...this.terminals.values()]) t.ended(why);
    for (const p of [...this.execs.values(), ...this.pings.values()]) {
      clearTimeout(p.timer);
      p.reject(new Error(why));
    }
    this.execs.clear();
    this.pings.clear();
    for (const cb of this.closeListeners) cb(why);
    this.closeListeners.clear();
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.data:
        this.terminals.get(f.id)?.received(f.payload);
        return;
      case FrameType.close: {
        const v = parseJson(f.payload) as { reason?: unknown } | undefined;
        this.terminals.get(f.id)?.ended(`the guest closed it: ${String(v?.reason ?? '')}`);
        return;
      }
      case FrameType.execResult: {
        const p = settle(this.execs, f.id);
        if (!p) return;
        const v = parseJson(f.payload) as Partial<ExecResult> | undefined;
        p.resolve({
          code: typeof v?.code === 'number' ? v.code : null,
          signal: typeof v?.signal === 'string' ? v.signal : null,
          stdout: String(v?.stdout ?? ''),
          stderr: String(v?.stderr ?? ''),
          timedOut: v?.timedOut === true,
        });
        return;
      }
      case FrameType.pong:
        settle(this.pings, f.id)?.resolve(0);
        return;
      case FrameType.request:
        void this.answer(f);
        return;
      default:
        return; // hellos after the first, and frames only the host sends
    }
  }

  private async answer(f: Frame): Promise<void> {
    const v = parseJson(f.payload) as { kind?: unknown; body?: unknown } | undefined;
    let a: RequestAnswer;
    if (v?.kind !== 'report' || typeof v.body !== 'string') a = { status: 400, body: '{"error":"bad request from the guest"}' };
    else if (!this.onReport) a = { status: 503, body: '{"error":"this host takes no reports"}' };
    else {
      try {
        a = await this.onReport(v.body);
      } catch (err) {
        a = { status: 500, body: JSON.stringify({ error: (err as Error).message }) };
      }
    }
    this.send(jsonFrame(FrameType.response, f.id, a));
  }
}
