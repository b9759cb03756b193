import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CastRecorder, castEventLine, parseCast } from '../../src/labs/asciicast.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ws-cast-'));
  dirs.push(d);
  return d;
}

describe('asciicast v2 recording', () => {
  it('writes a header, output, resize and marker events with times since the header', () => {
    let now = 1_700_000_000_250;
    const path = join(tmp(), 'a.cast');
    const r = new CastRecorder(path, { cols: 100, rows: 30, title: 'ada', now: () => now });
    now += 1500;
    r.output(Buffer.from('$ ls\r\n'));
    now += 500;
    r.resize(120, 40);
    r.marker('preflight/vm passed');
    r.close();
    const { header, events } = parseCast(readFileSync(path, 'utf8'));
    expect(header).toMatchObject({ version: 2, width: 100, height: 30, timestamp: 1_700_000_000, title: 'ada' });
    expect(events).toEqual([
      [1.75, 'o', '$ ls\r\n'],
      [2.25, 'r', '120x40'],
      [2.25, 'm', 'preflight/vm passed'],
    ]);
  });

  it('joins a UTF-8 character cut between two chunks of output', () => {
    const path = join(tmp(), 'u.cast');
    const r = new CastRecorder(path, { cols: 80, rows: 24, now: () => 0 });
    const e = Buffer.from('é');
    r.output(e.subarray(0, 1));
    r.output(e.subarray(1));
    r.close();
    expect(parseCast(readFileSync(path, 'utf8')).events.map((x) => x[2])).toEqual(['é']);
  });

  it('appends to an existing cast, its time going on from the first header', () => {
    const path = join(tmp(), 'b.cast');
    let now = 10_000;
    const a = new CastRecorder(path, { cols: 80, rows: 24, now: () => now });
    a.output(Buffer.from('one'));
    a.close();
    now = 70_000;
    const b = new CastRecorder(path, { cols: 100, rows: 30, now: () => now });
    expect(b.created).toBe(false);
    b.output(Buffer.from('two'));
    b.close();
    const { header, events } = parseCast(readFileSync(path, 'utf8'));
    expect(header.timestamp).toBe(10);
    expect(events).toEqual([
      [0, 'o', 'one'],
      [60, 'o', 'two'],
    ]);
  });

  it('never goes back in time when the clock does', () => {
    const path = join(tmp(), 'c.cast');
    let now = 5000;
    const r = new CastRecorder(path, { cols: 80, rows: 24, now: () => now });
    r.output(Buffer.from('a'));
    now = 4000;
    r.output(Buffer.from('b'));
    r.close();
    expect(parseCast(readFileSync(path, 'utf8')).events.map((x) => x[0])).toEqual([0, 0]);
  });

  it('rejects what is not asciicast v2', () => {
    expect(() => parseCast('{"version":1}\n')).toThrow(/v2 header/);
    expect(() => parseCast('{"version":2,"width":1,"height":1,"timestamp":0}\n[1,"x","y"]\n')).toThrow(/line 2/);
    expect(castEventLine(1 / 3, 'o', 'x')).toBe('[0.333333,"o","x"]\n');
  });
});
