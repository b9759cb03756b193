// The random ids of reports and nonces come from /dev/urandom (sys/lang.ts), not node:crypto,
// which costs a `next` as much to load as Node itself takes to start.
import { describe, expect, it } from 'vitest';
import { randomBytes, randomUuid } from '../../src/sys/lang.ts';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('random ids', () => {
  it('makes version 4 UUIDs, as crypto.randomUUID does, and no two alike', () => {
    const ids = Array.from({ length: 2000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
    expect(crypto.randomUUID()).toMatch(V4); // the same shape as the standard one
  });

  it('gives as many bytes as asked, and they vary', () => {
    expect(randomBytes(6)).toHaveLength(6);
    expect(randomBytes(32).equals(randomBytes(32))).toBe(false);
    const seen = new Set(Array.from({ length: 256 }, () => randomBytes(1)[0]));
    expect(seen.size).toBeGreaterThan(100);
  });
});
