// The server's guards against floods, apart from the routes: which joins may go ahead (rates per
// address and per class), and which limits become an alert for the instructor (once each, so that
// a flood cannot turn its own refusals into a flood of alerts).
import { Buckets, type JoinLimits } from './limits.ts';
import type { Alert } from './store.ts';

export type JoinGateAnswer = { ok: true } | { ok: false; per: 'address' | 'class'; waitMs: number };

/** Joins per address, and new learners per class (one bucket: a server serves one class). */
export class JoinGate {
  readonly #perAddress: Buckets;
  readonly #perClass: Buckets;
  readonly #now: () => number;

  constructor(limits: JoinLimits, now: () => number = Date.now) {
    this.#perAddress = new Buckets(limits.perAddress);
    this.#perClass = new Buckets(limits.perClass, 1);
    this.#now = now;
  }

  /** Every join request, whatever it turns out to be, counts against its address. */
  address(ip: string): JoinGateAnswer {
    const r = this.#perAddress.take(ip, this.#now());
    return r.ok ? r : { ok: false, per: 'address', waitMs: r.waitMs };
  }

  /** A join that may add a learner takes one from the class; `refund` gives it back when it did not. */
  classSlot(): JoinGateAnswer {
    const r = this.#perClass.take('class', this.#now());
    return r.ok ? r : { ok: false, per: 'class', waitMs: r.waitMs };
  }

  refundClassSlot(): void {
    this.#perClass.refund('class', this.#now());
  }
}

/**
 * Which limits to tell the instructor about: a learner's storage once per learner, the class's
 * storage once, and refused joins at most once per `joinEveryMs` (with how many were refused).
 * Per server run: a restarted server tells again, once.
 */
export class AlertGate {
  readonly #told = new Set<string>();
  readonly #refused = { address: 0, class: 0 };
  readonly #lastJoinAlert = { address: -Infinity, class: -Infinity };
  readonly #joinEveryMs: number;
  readonly #now: () => number;

  constructor(joinEveryMs = 10 * 60_000, now: () => number = Date.now) {
    this.#joinEveryMs = joinEveryMs;
    this.#now = now;
  }

  /** `learnerId` null: the class's storage */
  storage(learnerId: number | null, bytes: number): { learnerId: number | null; alert: Alert } | undefined {
    const key = learnerId === null ? 'class' : `learner:${learnerId}`;
    if (this.#told.has(key)) return undefined;
    this.#told.add(key);
    return { learnerId, alert: learnerId === null ? { limit: 'class storage', bytes } : { limit: 'learner storage', bytes } };
  }

  joinRefused(per: 'address' | 'class'): { learnerId: null; alert: Alert } | undefined {
    this.#refused[per]++;
    const now = this.#now();
    if (now - this.#lastJoinAlert[per] < this.#joinEveryMs) return undefined;
    this.#lastJoinAlert[per] = now;
    const refused = this.#refused[per];
    this.#refused[per] = 0;
    return { learnerId: null, alert: { limit: 'joins', per, refused } };
  }
}
