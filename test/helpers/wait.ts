// Waiting in tests: a pause, and a condition polled until it holds or a deadline passes.
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Polls `ok` every 10 ms (a delivery test measures with it) until it holds; fails, naming `what`, after `ms`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await ok()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}
