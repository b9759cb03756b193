// Small language helpers that every layer needs, written once (the lowest layer holds them).

/** A plain object (not null, not an array): the shape of parsed JSON records. */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Milliseconds on a monotonic clock, for time limits and durations. The global `performance` is a
 * getter that loads perf_hooks and ten modules behind it (~1.4 ms of every `next` and `hint`).
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` at most once and shares its promise, for a probe that several checks of a step need. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/**
 * `n` random bytes from the kernel (getrandom's pool, through /dev/urandom). node:crypto gives the
 * same, but loading it costs ~67M instructions, about as much as all of `node -e 0`, and `next`
 * needs a few bytes for a report id or a nonce. Where /dev/urandom cannot be read, node:crypto.
 */
export function randomBytes(n: number): Buffer {
  const fs = process.getBuiltinModule('node:fs');
  const buf = Buffer.alloc(n);
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      let off = 0;
      while (off < n) {
        const got = fs.readSync(fd, buf, off, n - off, null);
        if (got <= 0) throw new Error('short read');
        off += got;
      }
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(n);
  }
}

/** A random (version 4, RFC 9562) UUID, as crypto.randomUUID() makes one. */
export function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
