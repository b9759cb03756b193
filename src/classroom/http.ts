// HTTP for the classroom's clients (join, the sender, status, export, remove, free). A class
// server is another machine, and possibly a hostile one: every request has a time limit, follows
// no redirect (one would carry the token elsewhere), and reads at most a bounded answer; every
// delay the server asks for is capped. Errors come back as values, with a reason that is safe to
// print.
import { shorten, visible } from './safe-text.ts';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** the answer was longer than the limit, and only its start was read */
  truncated: boolean;
}

export type Fetched = { ok: true; answer: Answer } | { ok: false; why: string };

export interface RequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** read at most this many bytes of the answer (default 64 KiB) */
  maxBytes?: number;
}

/** Why a fetch failed, from its cause (ECONNREFUSED, a TLS error…), as printable text. */
function failure(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.cause?.code === 'UND_ERR_ABORTED') return 'no answer in time';
  return visible(shorten(e.cause?.code ?? e.cause?.message ?? e.message ?? String(err), 200));
}

async function readBounded(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const all = Buffer.concat(chunks).subarray(0, maxBytes);
  return { text: new TextDecoder().decode(all), truncated };
}

export async function request(url: URL, o: RequestOptions = {}): Promise<Fetched> {
  const signal = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  try {
    const res = await fetch(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.body === undefined ? {} : { body: o.body }), redirect: 'manual', signal });
    const { text, truncated } = await readBounded(res, o.maxBytes ?? 64 * 1024);
    return { ok: true, answer: { status: res.status, headers: res.headers, text, truncated } };
  } catch (err) {
    return { ok: false, why: failure(err) };
  }
}

/** The `error` of a JSON answer, or its start as text; printable either way. */
export function answerMessage(a: Answer): string {
  let message = a.text;
  try {
    const v = JSON.parse(a.text) as { error?: unknown };
    if (typeof v.error === 'string') message = v.error;
  } catch {
    // not JSON: the text itself
  }
  return visible(shorten(message.trim(), 300)) || `HTTP ${a.status}`;
}

/** The longest a client waits because a server said so (Retry-After). */
export const MAX_SERVER_DELAY_MS = 60_000;

/**
 * A Retry-After header (seconds, or an HTTP date) in ms, between `minMs` and MAX_SERVER_DELAY_MS:
 * `Retry-After: 99999999999` once overflowed Node's timer to 1 ms, and the sender posted 937
 * times in 6 s. A missing or unreadable header is `minMs`.
 */
export function retryAfterMs(header: string | null, minMs: number, now: number = Date.now()): number {
  let ms = Number.NaN;
  const h = (header ?? '').trim();
  if (/^\d{1,12}$/.test(h)) ms = Number(h) * 1000;
  else if (h !== '') ms = Date.parse(h) - now;
  if (!Number.isFinite(ms)) ms = minMs;
  return Math.min(MAX_SERVER_DELAY_MS, Math.max(minMs, ms));
}

/** Exponential backoff with jitter: a delay between half and all of `base`, and the next base (doubled, capped). */
export function backoff(base: number, maxMs: number, random: () => number = Math.random): { delayMs: number; next: number } {
  const b = Math.min(base, maxMs);
  return { delayMs: Math.round(b / 2 + random() * (b / 2)), next: Math.min(maxMs, b * 2) };
}
