// Live events between servers that share one PostgreSQL database. Every committed event sends a
// NOTIFY (inside its transaction, so it is delivered only if it commits); each server LISTENs on a
// dedicated connection.
//
// The table is the truth; a notification is a shortcut. PostgreSQL delivers notifications in
// commit order, and an event of a class commits in id order (the store's event lock), so while a
// class's pump is up to date, an event carried whole in its notification can be delivered as it
// comes. Whenever the pump may be behind (it was just created, the LISTEN connection dropped, a
// read failed, or a notification carried only the id because the event was too big), it reads
// the events after the last id it delivered from the table instead. So a reconnect after a
// PostgreSQL restart catches up with everything committed meanwhile, and a subscriber misses nothing.
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
  /** lastId may be behind the table: read before delivering a notification's event */
  stale: boolean;
}

/** What a notification says: an event of a class, carried whole or only by its id. */
export interface Notified {
  classId: number;
  id: number;
  event?: ClassEvent;
}

export interface FanoutOptions {
  url: string;
  eventsAfter: (classId: number, afterId: number, limit: number) => Promise<ClassEvent[]>;
  maxEventId: (classId: number) => Promise<number>;
  /** the payload of a NOTIFY on CHANNEL; undefined if it is not one of ours */
  decode: (payload: string) => Notified | undefined;
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
    const sub: Subscriber = { listener, from };
    if (!pump) {
      // A notification that came while no pump existed was dropped: read once from `from`.
      pump = { lastId: from, subs: new Set([sub]), running: false, again: false, stale: true };
      this.#pumps.set(classId, pump);
      this.poke(classId);
    } else pump.subs.add(sub);
    const p = pump;
    return () => {
      p.subs.delete(sub);
      if (p.subs.size === 0 && this.#pumps.get(classId) === p) this.#pumps.delete(classId);
    };
  }

  /** Something of this class committed: deliver it, or read what is new from the table. */
  poke(classId: number, eventId?: number, event?: ClassEvent): void {
    const pump = this.#pumps.get(classId);
    if (!pump || (eventId !== undefined && eventId <= pump.lastId)) return;
    if (event && !pump.running && !pump.stale) this.#deliver(pump, event);
    else void this.#drain(classId, pump);
  }

  #deliver(pump: Pump, e: ClassEvent): void {
    if (e.id <= pump.lastId) return;
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
          for (const e of events) this.#deliver(pump, e);
          if (events.length < BATCH || this.#closed) break;
        }
      } while (pump.again && !this.#closed);
      pump.stale = false;
    } catch {
      // The database is unreachable for now: try again soon; lastId still marks what was delivered.
      pump.stale = true;
      if (!this.#closed) setTimeout(() => this.poke(classId), 250).unref();
    } finally {
      pump.running = false;
    }
  }

  #pokeAll(): void {
    for (const [id, pump] of this.#pumps) {
      pump.stale = true;
      this.poke(id);
    }
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
      // Notifications are lost until we listen again: every pump reads before trusting one.
      for (const pump of this.#pumps.values()) pump.stale = true;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.removeAllListeners('error');
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      const m = n.channel === CHANNEL ? this.#opts.decode(n.payload ?? '') : undefined;
      if (m) this.poke(m.classId, m.id, m.event);
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
