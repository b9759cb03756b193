import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, HEADER_BYTES, MAX_PAYLOAD, dataFrames, encodeFrame, jsonFrame, parseSize } from '../../src/labs/protocol.ts';

describe('lab frames', () => {
  it('decodes what it encodes, across any chunking', () => {
    const bytes = Buffer.concat([jsonFrame(FrameType.hello, 0, { nonce: 'n' }), encodeFrame(FrameType.data, 7, 'héllo'), encodeFrame(FrameType.ping, 9)]);
    for (const size of [1, 2, 5, 11, 64, bytes.length]) {
      const d = new FrameDecoder();
      const frames = [];
      for (let at = 0; at < bytes.length; at += size) frames.push(...d.push(bytes.subarray(at, at + size)));
      expect(frames.map((f) => [f.type, f.id, f.payload.toString()])).toEqual([
        [FrameType.hello, 0, '{"nonce":"n"}'],
        [FrameType.data, 7, 'héllo'],
        [FrameType.ping, 9, ''],
      ]);
      expect(d.skipped).toBe(0);
    }
  });

  it('finds the next frame after bytes from the middle of one (a reader that joins late)', () => {
    const cut = encodeFrame(FrameType.data, 1, 'the rest of a frame cut by a kill -9').subarray(5);
    const d = new FrameDecoder();
    const frames = d.push(Buffer.concat([Buffer.from('W noise WL'), cut, encodeFrame(FrameType.data, 2, 'whole')]));
    expect(frames.map((f) => [f.id, f.payload.toString()])).toEqual([[2, 'whole']]);
    expect(d.skipped).toBeGreaterThan(0);
  });

  it('takes a header with an unknown type or a length over the limit as noise', () => {
    const bad = Buffer.from(encodeFrame(FrameType.data, 1, 'x'));
    bad[2] = 99;
    const huge = Buffer.from(encodeFrame(FrameType.data, 1, 'x'));
    huge.writeUInt32BE(MAX_PAYLOAD + 1, 7);
    const d = new FrameDecoder();
    expect(d.push(Buffer.concat([bad, huge, encodeFrame(FrameType.pong, 3)])).map((f) => f.type)).toEqual([FrameType.pong]);
  });

  it('forgets a partial frame on reset', () => {
    const d = new FrameDecoder();
    expect(d.push(encodeFrame(FrameType.data, 1, 'abcdef').subarray(0, HEADER_BYTES + 2))).toEqual([]);
    d.reset();
    expect(d.push(encodeFrame(FrameType.data, 2, 'ok')).map((f) => f.id)).toEqual([2]);
  });

  it('splits terminal output over the payload limit into several frames', () => {
    const frames = dataFrames(4, Buffer.alloc(MAX_PAYLOAD * 2 + 10, 0x61));
    expect(frames.map((f) => f.length - HEADER_BYTES)).toEqual([MAX_PAYLOAD, MAX_PAYLOAD, 10]);
    expect(() => encodeFrame(FrameType.data, 1, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(/at most/);
  });

  it.each([
    [{ cols: 100, rows: 30 }, { cols: 100, rows: 30 }],
    [{ cols: 100000, rows: 0 }, { cols: 500, rows: 1 }],
    [{ cols: 1.5, rows: 3 }, undefined],
    [{ cols: '80', rows: 24 }, undefined],
    [null, undefined],
  ])('bounds a terminal size from outside: %j', (v, want) => {
    expect(parseSize(v)).toEqual(want);
  });
});

describe('the membership the guest agent writes', () => {
  it('is one that workshop’s reporter takes as joined (the token has the server’s shape)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { randomBytes } = await import('node:crypto');
    const { readMembership } = await import('../../src/classroom/outbox.ts');
    const { GUEST_TOKEN, guestMembership, REPORT_PORT } = await import('../../src/labs/protocol.ts');
    const home = mkdtempSync(join(tmpdir(), 'ws-guest-home-'));
    try {
      const m = guestMembership(randomBytes(24).toString('base64url'), new Date(0).toISOString());
      expect(m.token).toMatch(GUEST_TOKEN);
      writeFileSync(join(home, 'classroom.json'), JSON.stringify(m));
      expect(readMembership(home)).toMatchObject({ url: `http://127.0.0.1:${REPORT_PORT}`, token: m.token });
      writeFileSync(join(home, 'classroom.json'), JSON.stringify({ ...m, token: 'lab-channel' }));
      expect(readMembership(home)).toBeUndefined();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
