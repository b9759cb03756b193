// GET /api/events: the class's events as Server-Sent Events. A client that reconnects with
// Last-Event-ID gets what it missed, replayed from the store, then the live ones; one whose id is
// beyond the newest event was following another database and gets the class from the start.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClassEvent, Store } from './store.ts';

export interface StreamContext {
  store: Store;
  classId: number;
  heartbeatMs: number;
  /** the open streams, ended when the server closes */
  streams: Set<ServerResponse>;
}

export function streamEvents(c: StreamContext, req: IncomingMessage, res: ServerResponse, from: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
  c.streams.add(res);
  let sent = from;
  let replaying = true;
  const held: ClassEvent[] = [];
  const send = (e: ClassEvent): void => {
    if (e.id <= sent) return;
    sent = e.id;
    res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const heartbeat = setInterval(() => res.write(': ping\n\n'), c.heartbeatMs);
  let off = (): void => {};
  let closed = false;
  const done = (): void => {
    closed = true;
    clearInterval(heartbeat);
    off();
    c.streams.delete(res);
  };
  req.on('close', done);
  // Live events are held while the database replays what the client missed, then flushed.
  void (async () => {
    off = await c.store.subscribe(c.classId, (e) => (replaying ? held.push(e) : send(e)));
    // a client that left while we subscribed must not leave its subscription behind
    if (closed) return off();
    sent = await replayFrom(from);
    for (;;) {
      const page = await c.store.eventsAfter(c.classId, sent, 1000);
      for (const e of page) send(e);
      if (page.length < 1000) break;
    }
    replaying = false;
    for (const e of held.splice(0)) send(e);
  })().catch(() => res.destroy());

  /**
   * Where the replay starts. A Last-Event-ID beyond the class's newest event was given by another
   * database (a server restarted on a fresh --db, or one restored from a copy): that client's
   * view is of another class, so it gets this one from the start, told why.
   */
  async function replayFrom(lastSeen: number): Promise<number> {
    if (lastSeen === 0) return 0;
    const newest = await c.store.maxEventId(c.classId);
    if (lastSeen <= newest) return lastSeen;
    res.write(`event: restarted\ndata: ${JSON.stringify({ lastEventId: lastSeen, newestEventId: newest })}\n\n`);
    return 0;
  }
}
