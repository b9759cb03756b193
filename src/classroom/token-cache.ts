// The server's memory of which learner a token names, so that a report costs no store look-up.
import type { Learner } from './store.ts';

/**
 * Remembers, per server, which active learner a token names: every report asks. A remove or a
 * free revokes tokens, so their events drop the learner's entries; and the insert checks the
 * token again in its own transaction, so a stale entry can never store a report.
 */
export class TokenCache {
  readonly #byToken = new Map<string, Learner>();
  get(token: string): Learner | undefined {
    return this.#byToken.get(token);
  }
  set(token: string, l: Learner): void {
    if (this.#byToken.size >= 100_000) this.#byToken.clear();
    this.#byToken.set(token, l);
  }
  forgetToken(token: string): void {
    this.#byToken.delete(token);
  }
  forgetLearner(id: number): void {
    for (const [t, l] of this.#byToken) if (l.id === id) this.#byToken.delete(t);
  }
}
