// What bounds a class against floods: join rates (per address and per class) and storage budgets
// (per learner and per class). Pure apart from the clock passed in.

/** A token bucket: `capacity` at once, refilled at `capacity` per `windowMs`. */
export interface Rate {
  capacity: number;
  windowMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets by key (an address), at most `maxKeys` of them: a flood of addresses cannot grow memory. */
export class Buckets {
  readonly #rate: Rate;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: Rate, maxKeys = 10_000) {
    this.#rate = rate;
    this.#maxKeys = maxKeys;
  }

  #refilled(key: string, now: number): Bucket {
    const b = this.#buckets.get(key);
    if (!b) return { tokens: this.#rate.capacity, at: now };
    const gained = ((now - b.at) * this.#rate.capacity) / this.#rate.windowMs;
    return { tokens: Math.min(this.#rate.capacity, b.tokens + Math.max(0, gained)), at: now };
  }

  /** Takes one token; `waitMs` > 0 when there was none (nothing is taken then). */
  take(key: string, now: number): { ok: true } | { ok: false; waitMs: number } {
    const b = this.#refilled(key, now);
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      return { ok: false, waitMs: Math.ceil(((1 - b.tokens) * this.#rate.windowMs) / this.#rate.capacity) };
    }
    b.tokens -= 1;
    this.#buckets.delete(key); // re-insert: the map's order is the order of last use
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    return { ok: true };
  }

  /** Gives back a token taken for something that turned out not to count. */
  refund(key: string, now: number): void {
    const b = this.#refilled(key, now);
    this.#buckets.set(key, { tokens: Math.min(this.#rate.capacity, b.tokens + 1), at: now });
  }
}

export interface JoinLimits {
  /** joins from one address */
  perAddress: Rate;
  /** new learners of the class (a re-join with one's own token does not count) */
  perClass: Rate;
}

/**
 * 30 joins a minute from one address; a class takes 300 new learners at once, then 60 a minute.
 * A room behind one NAT joins in a minute or two (raise --joins-per-address for more); a flood adds
 * 60 learners a minute, not 600, and each of them is bounded by the storage budget.
 */
export const DEFAULT_JOIN_LIMITS: JoinLimits = {
  perAddress: { capacity: 30, windowMs: 60_000 },
  perClass: { capacity: 300, windowMs: 5 * 60_000 },
};

/** Bytes a learner's events, and a whole class's, may take in the store. */
export interface StorageBudget {
  learnerBytes: number;
  classBytes: number;
}

/**
 * A learner's whole workshop is about 68 steps x a few reports of 1-2 KiB: well under 1 MiB, and
 * `watch` reports only changes. 8 MiB per learner leaves room for that many times over; 512 MiB
 * for a class of 300 holds the class's snapshot in the server's memory at start.
 */
export const DEFAULT_BUDGET: StorageBudget = { learnerBytes: 8 * 2 ** 20, classBytes: 512 * 2 ** 20 };

/** What an event costs against a budget: its body, and a fixed share for its row and indexes. */
export const EVENT_OVERHEAD_BYTES = 256;
export const eventCost = (body: string | null): number => EVENT_OVERHEAD_BYTES + (body === null ? 0 : Buffer.byteLength(body));
/** A new learner joins only while the class has room for their join and a first few reports. */
export const JOIN_ROOM_BYTES = 4096;

/** `8MiB`, `512M`, `1G`, `300k`, a bare number of bytes: binary units either way. undefined if it is none. */
export function parseSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)$/i.exec(v.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1;
  const n = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** 8388608 -> "8 MiB" */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10} ${unit}`;
  }
  return `${bytes} bytes`;
}
