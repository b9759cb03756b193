// A Server-Sent Events client for the tests, as a browser's EventSource behaves: it parses
// id/event/data blocks and, when `reconnect` is on, reconnects after the stream ends or fails,
// sending the last id it saw as Last-Event-ID.
export interface SseEvent {
  id: number;
  type: string;
  data: unknown;
  /** performance.now() when the block arrived */
  at: number;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** how many times the stream was (re)opened */
  readonly connects: number;
  /** the ids of events seen twice (the server must not send one twice on a stream, nor on replay) */
  readonly duplicates: number[];
  onEvent(fn: (e: SseEvent) => void): void;
  close(): void;
}

export async function openSse(url: string, token: string, opts: { reconnect?: boolean; retryMs?: number } = {}): Promise<SseClient> {
  const events: SseEvent[] = [];
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const listeners: Array<(e: SseEvent) => void> = [];
  let closed = false;
  let connects = 0;
  let lastId: number | undefined;
  let abort = new AbortController();

  const once = async (): Promise<void> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = String(lastId);
    const res = await fetch(url, { headers, signal: abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
    connects++;
    return read(res.body);
  };

  let opened: (() => void) | undefined;
  const read = async (body: ReadableStream<Uint8Array>): Promise<void> => {
    opened?.();
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id: number | undefined;
        let type = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (id === undefined || data.length === 0) continue; // a comment (heartbeat) or retry:
        lastId = id;
        const e: SseEvent = { id, type, data: JSON.parse(data.join('\n')) as unknown, at: performance.now() };
        if (seen.has(id)) duplicates.push(id);
        seen.add(id);
        events.push(e);
        for (const l of listeners) l(e);
      }
    }
  };

  const first = new Promise<void>((resolve) => (opened = resolve));
  const loop = async (): Promise<void> => {
    for (;;) {
      try {
        await once();
      } catch (err) {
        if (closed) return;
        if (!opts.reconnect) throw err;
      }
      if (closed || !opts.reconnect) return;
      await new Promise((r) => setTimeout(r, opts.retryMs ?? 200));
      abort = new AbortController();
    }
  };
  const done = loop();
  // The first connection must succeed (or the test learns why at once).
  await Promise.race([first, done.then(() => { throw new Error(`SSE ${url} ended before it opened`); })]);
  done.catch(() => undefined);
  return {
    events,
    get connects() {
      return connects;
    },
    duplicates,
    onEvent: (fn) => listeners.push(fn),
    close() {
      closed = true;
      abort.abort();
    },
  };
}
