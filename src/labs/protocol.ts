// The wire between the host and the guest agent of a hosted lab: length-prefixed frames on one
// byte stream (a virtio-serial port under qemu; any stream elsewhere). Pure, and shared by both
// sides: the agent runs this file in the guest with Node's type stripping, so it imports nothing.
//
// A frame: 'W' 'L' | type u8 | id u32 BE | length u32 BE | payload. The magic lets a reader that
// starts in the middle of a frame (the other side was killed mid-write, or the host reconnected)
// find the next one; a length over MAX_PAYLOAD is taken as noise, not as a frame.

export const MAGIC0 = 0x57; // 'W'
export const MAGIC1 = 0x4c; // 'L'
export const HEADER_BYTES = 11;
export const MAX_PAYLOAD = 1 << 20;
/** The protocol's version, in HELLO; a host refuses an agent of another major. */
export const PROTOCOL_VERSION = 1;
/** The name of the virtio-serial port (the guest sees /dev/virtio-ports/<name>). */
export const PORT_NAME = 'org.workshop.lab.0';
/** Where the agent takes reports inside the guest (loopback only): the sender's class URL. */
export const REPORT_PORT = 7979;

/**
 * Frame types. The id says which terminal, exec or request a frame belongs to; the host numbers
 * terminals and execs, the agent numbers its requests, and the types keep the two apart.
 */
export const FrameType = {
  /** host->agent {nonce}; agent->host {nonce, version, bootId, uptimeS} */
  hello: 1,
  /** host->agent: open a terminal {cols, rows, session} */
  open: 2,
  /** both ways: terminal bytes */
  data: 3,
  /** host->agent: {cols, rows} */
  resize: 4,
  /** both ways: the terminal is gone {reason} */
  close: 5,
  /** agent->host: a report the guest's sender posted {body} */
  request: 6,
  /** host->agent: the answer to a request {status, body} */
  response: 7,
  /** host->agent: run a command {command, timeoutMs} */
  exec: 8,
  /** agent->host: {code, signal, stdout, stderr, timedOut} */
  execResult: 9,
  /** both ways: the payload comes back in a pong */
  ping: 10,
  pong: 11,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];
const TYPE_CODES = new Set<number>(Object.values(FrameType));

export interface Frame {
  type: FrameTypeCode;
  id: number;
  payload: Buffer;
}

/** One frame's bytes. */
export function encodeFrame(type: FrameTypeCode, id: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (body.length > MAX_PAYLOAD) throw new RangeError(`a frame holds at most ${MAX_PAYLOAD} bytes, not ${body.length}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = type;
  out.writeUInt32BE(id >>> 0, 3);
  out.writeUInt32BE(body.length, 7);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** A frame whose payload is JSON. */
export const jsonFrame = (type: FrameTypeCode, id: number, value: unknown): Buffer => encodeFrame(type, id, JSON.stringify(value));

/** Splits bytes into payloads of at most MAX_PAYLOAD, each its own data frame. */
export function dataFrames(id: number, bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += MAX_PAYLOAD) out.push(encodeFrame(FrameType.data, id, bytes.subarray(at, at + MAX_PAYLOAD)));
  return out;
}

/**
 * Turns a byte stream back into frames, across any chunking. Bytes that cannot start a frame are
 * skipped (and counted), so a reader that joins mid-stream resynchronises at the next magic.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** bytes dropped while looking for a frame */
  skipped = 0;

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    for (;;) {
      const start = this.findMagic(at);
      this.skipped += start - at;
      at = start;
      if (this.buf.length - at < HEADER_BYTES) break;
      const type = this.buf[at + 2] ?? 0;
      const len = this.buf.readUInt32BE(at + 7);
      if (!TYPE_CODES.has(type) || len > MAX_PAYLOAD) {
        // noise that happens to start with the magic: step over it and look again
        at += 1;
        this.skipped += 1;
        continue;
      }
      if (this.buf.length - at < HEADER_BYTES + len) break;
      frames.push({ type: type as FrameTypeCode, id: this.buf.readUInt32BE(at + 3), payload: Buffer.from(this.buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len)) });
      at += HEADER_BYTES + len;
    }
    this.buf = at >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(at));
    return frames;
  }

  /** Forgets a partial frame: the stream behind it was cut. */
  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  /** The first index at or after `from` where a frame could start (a lone trailing 'W' counts). */
  private findMagic(from: number): number {
    for (let i = from; i < this.buf.length; i++) {
      if (this.buf[i] !== MAGIC0) continue;
      if (i + 1 >= this.buf.length || this.buf[i + 1] === MAGIC1) return i;
    }
    return this.buf.length;
  }
}

// ---- payloads ----------------------------------------------------------------------------------

export interface HelloRequest {
  nonce: string;
}
export interface HelloReply {
  nonce: string;
  version: number;
  /** /proc/sys/kernel/random/boot_id: a new one means the guest rebooted */
  bootId: string;
  uptimeS: number;
}
export interface OpenTerminal {
  cols: number;
  rows: number;
  /** the tmux session to create or attach to */
  session: string;
}
export interface TerminalSize {
  cols: number;
  rows: number;
}
export interface CloseReason {
  reason: string;
}
export interface ReportRequest {
  kind: 'report';
  body: string;
}
export interface RequestAnswer {
  status: number;
  body: string;
}
export interface ExecRequest {
  /** a bash command line, run as a root login shell runs it */
  command: string;
  timeoutMs: number;
}
export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * The class membership the agent writes in the guest (WORKSHOP_HOME/classroom.json), so that
 * workshop reports from the first boot on, to the agent. The token only has the shape of one
 * (classroom/identity.ts: 32 base64url characters, or workshop takes the home as not joined): the
 * host knows which VM a report came from, and attributes it to the learner who holds that VM.
 */
export function guestMembership(token: string, joinedAt: string): { url: string; name: string; token: string; joinedAt: string } {
  return { url: `http://127.0.0.1:${REPORT_PORT}`, name: 'lab', token, joinedAt };
}
export const GUEST_TOKEN = /^[A-Za-z0-9_-]{32}$/;

/** Terminal sizes are bounded: a size from the network must not make tmux allocate gigabytes. */
export const MAX_COLS = 500;
export const MAX_ROWS = 200;

/** A size from outside, clamped to 1...MAX; undefined when it is not two integers. */
export function parseSize(v: unknown): TerminalSize | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { cols, rows } = v as { cols?: unknown; rows?: unknown };
  if (!Number.isInteger(cols) || !Number.isInteger(rows)) return undefined;
  return { cols: Math.min(MAX_COLS, Math.max(1, cols as number)), rows: Math.min(MAX_ROWS, Math.max(1, rows as number)) };
}

/** tmux session names: the agent passes them to tmux, so only a safe alphabet. */
export const SESSION_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** JSON of a payload, or undefined when it is not JSON. */
export function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
