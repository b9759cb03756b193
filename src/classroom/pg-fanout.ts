// Live events between servers that share one PostgreSQL database. Every committed event sends a
// NOTIFY (inside its transaction, so it is delivered only if it commits); each server LISTENs on a
// dedicated connection and then reads the events after the last id it delivered. The notification
// is only a wake-up: the events themselves always come from the table, in id order. So when the
// LISTEN connection drops (PostgreSQL restarts), a reconnect followed by one read catches up with
// everything committed meanwhile, and a subscriber misses nothing.
import pg from 'pg';
import type { ClassEvent } from './store.ts';

export const CHANNEL = 'workshop_classroom';
const BATCH = 500;

interface Subscriber {
  listener: (event: ClassEvent) => void;
  /** deliver only ids above this: the newest event when it subscribed */
  from: number;
}
interface Pump {
  lastId: number;
  subs: Set<Subscriber>;
  running: boolean;
  again: boolean;
}

export interface FanoutOptions {
  url: string;
  eventsAfter: (classId: number, afterId: number, limit: number) => Promise<ClassEvent[]>;
  maxEventId: (classId: number) => Promise<number>;
  /** a subscriber threw; the others still get the event */
  onListenerError?: (err: unknown) => void;
  /** also read every this many ms, as a safety net for a connection that died silently */
  pollMs?: number;
}

export class PgFanout {
  readonly #opts: FanoutOptions;
  readonly #pumps = new Map<number, Pump>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #backoff = 100;
  #closed = false;

  constructor(opts: FanoutOptions) {
    this.#opts = opts;
  }

  /** Whether the LISTEN connection is up (for a health check). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async subscribe(classId: number, listener: (event: ClassEvent) => void): Promise<() => void> {
    // LISTEN before reading the newest id: anything that commits after that read is notified.
    await this.#ensureListening();
    const from = await this.#opts.maxEventId(classId);
    let pump = this.#pumps.get(classId);
    if (!pump) {
      pump = { lastId: from, subs: new Set(), running: false, again: false };
      this.#pumps.set(classId, pump);
    }
    const sub: Subscriber = { listener, from };
    pump.subs.add(sub);
    const p = pump;
    return () => {
      p.subs.delete(sub);
      if (p.subs.size === 0 && this.#pumps.get(classId) === p) this.#pumps.delete(classId);
    };
  }

  /** Something of this class may have committed: read and deliver what is new. */
  poke(classId: number, eventId?: number): void {
    const pump = this.#pumps.get(classId);
    if (!pump || (eventId !== undefined && eventId <= pump.lastId)) return;
    void this.#drain(classId, pump);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#poll);
    this.#pumps.clear();
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }

  async #drain(classId: number, pump: Pump): Promise<void> {
    if (pump.running) {
      pump.again = true;
      return;
    }
    pump.running = true;
    try {
      do {
        pump.again = false;
        for (;;) {
          const events = await this.#opts.eventsAfter(classId, pump.lastId, BATCH);
          for (const e of events) {
            if (e.id <= pump.lastId) continue;
            pump.lastId = e.id;
            for (const s of pump.subs) {
              if (e.id <= s.from) continue;
              try {
                s.listener(e);
              } catch (err) {
                (this.#opts.onListenerError ?? ((x) => process.emitWarning(String(x))))(err);
              }
            }
          }
          if (events.length < BATCH || this.#closed) break;
        }
      } while (pump.again && !this.#closed);
    } catch {
      // The database is unreachable for now: try again soon; lastId still marks what was delivered.
      if (!this.#closed) setTimeout(() => this.poke(classId), 250).unref();
    } finally {
      pump.running = false;
    }
  }

  #pokeAll(): void {
    for (const id of this.#pumps.keys()) this.poke(id);
  }

  async #ensureListening(): Promise<void> {
    if (this.#client) return;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#opts.url, keepAlive: true, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined); // until connected, connect() and query() reject instead
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    let gone = false;
    const lost = (): void => {
      if (gone) return;
      gone = true;
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.removeAllListeners('error');
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      const [cls, id] = (n.payload ?? '').split(':').map(Number);
      if (cls !== undefined && Number.isInteger(cls)) this.poke(cls, id !== undefined && Number.isInteger(id) ? id : undefined);
    });
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#backoff = 100;
    this.#poll ??= setInterval(() => this.#pokeAll(), this.#opts.pollMs ?? 5000).unref();
    // Whatever committed while we were not listening is read now.
    this.#pokeAll();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#closed || this.#client) return;
      this.#ensureListening().catch(() => {
        this.#backoff = Math.min(this.#backoff * 2, 2000);
        this.#scheduleReconnect();
      });
    }, this.#backoff);
    this.#retry.unref();
  }
}
