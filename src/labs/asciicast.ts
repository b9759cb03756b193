// A lab's terminal, recorded as an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/):
// one JSON header line, then one JSON array per event, [seconds since the header's timestamp,
// code, data]. Codes: "o" output, "r" resize ("COLSxROWS"), "m" marker (a check event's label).
// Keystrokes ("i") are not recorded: what the learner typed shows in the echo, and a password
// typed at a prompt that does not echo stays unrecorded.
//
// One file per lab: a re-attach appends to it (its time goes on from the first header), so the
// instructor replays one timeline per learner, gaps and all.
import { closeSync, existsSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** unix seconds of time 0 */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

export type CastCode = 'o' | 'r' | 'm' | 'i';
export type CastEvent = [number, CastCode, string];

/** The header line. */
export function castHeaderLine(h: CastHeader): string {
  return `${JSON.stringify(h)}\n`;
}

/** One event line; the time in seconds, to the microsecond. */
export function castEventLine(t: number, code: CastCode, data: string): string {
  return `${JSON.stringify([Math.round(t * 1e6) / 1e6, code, data])}\n`;
}

/** Reads a cast: its header and events. Throws on a file that is not asciicast v2. */
export function parseCast(text: string): { header: CastHeader; events: CastEvent[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0];
  if (first === undefined) throw new Error('an empty cast');
  const h = JSON.parse(first) as Partial<CastHeader>;
  if (h.version !== 2 || !Number.isInteger(h.width) || !Number.isInteger(h.height) || typeof h.timestamp !== 'number') throw new Error('not an asciicast v2 header');
  const header = h as CastHeader;
  const events: CastEvent[] = [];
  for (const [i, l] of lines.slice(1).entries()) {
    const e = JSON.parse(l) as unknown;
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'number' || !['o', 'r', 'm', 'i'].includes(String(e[1])) || typeof e[2] !== 'string') {
      throw new Error(`line ${i + 2}: not an asciicast v2 event`);
    }
    events.push(e as CastEvent);
  }
  return { header, events };
}

/** The header of an existing cast file, read from its first line; undefined if there is none. */
function readHeader(path: string): CastHeader | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0] ?? '';
    return parseCast(line).header;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export interface RecorderOptions {
  cols: number;
  rows: number;
  title?: string;
  now?: () => number;
}

/**
 * Appends a terminal's events to its cast file. Writes are synchronous and small, so a kill -9 of
 * the server loses at most the event being written, and a restarted server appends after it.
 */
export class CastRecorder {
  private readonly decoder = new StringDecoder('utf8');
  private readonly t0: number;
  private last = 0;
  private fd: number | null;
  private readonly now: () => number;
  /** false when the file was there already and this recorder appends to it */
  readonly created: boolean;

  readonly path: string;

  constructor(path: string, o: RecorderOptions) {
    this.path = path;
    this.now = o.now ?? Date.now;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const existing = readHeader(path);
    this.fd = openSync(path, 'a', 0o600);
    this.created = existing === undefined;
    if (existing) {
      // appending: time goes on from the first header; the caller records the terminal's size
      this.t0 = existing.timestamp * 1000;
      this.last = Math.max(0, (this.now() - this.t0) / 1000);
    } else {
      const timestamp = Math.floor(this.now() / 1000);
      this.t0 = timestamp * 1000;
      const header: CastHeader = { version: 2, width: o.cols, height: o.rows, timestamp, env: { TERM: 'xterm-256color', SHELL: '/bin/bash' } };
      if (o.title !== undefined) header.title = o.title;
      writeSync(this.fd, castHeaderLine(header));
    }
  }

  private t(): number {
    // never backwards, whatever the clock does: players expect times in order
    this.last = Math.max(this.last, (this.now() - this.t0) / 1000);
    return this.last;
  }

  private write(code: CastCode, data: string): void {
    if (this.fd === null || data === '') return;
    writeSync(this.fd, castEventLine(this.t(), code, data));
  }

  /** Terminal output; a UTF-8 sequence cut between chunks is joined first. */
  output(bytes: Buffer): void {
    this.write('o', this.decoder.write(bytes));
  }

  resize(cols: number, rows: number): void {
    this.write('r', `${cols}x${rows}`);
  }

  /** A marker on the timeline, e.g. "preflight/vm pass". */
  marker(label: string): void {
    this.write('m', label);
  }

  close(): void {
    if (this.fd === null) return;
    this.write('o', this.decoder.end());
    closeSync(this.fd);
    this.fd = null;
  }
}
