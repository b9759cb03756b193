// Hosted labs on the class server (issue 23, part 2): a fastify plugin that server.ts registers
// only with `--labs N`. It opens the labs manager (src/labs/labs.ts) and puts on it:
//
//   GET  /lab                               the learner's page (labs.html): join, chapter text, terminal, checks
//   POST /lab/api/login                     Bearer <learner token> -> an HttpOnly SameSite=Strict cookie
//   GET  /lab/api/me                        the learner, their lab (claimed here), step text and latest checks
//   POST /lab/api/ticket                    a one-use ticket for the terminal's WebSocket (60 s)
//   WS   /lab/api/terminal?ticket&cols&rows the learner's terminal: binary both ways, JSON control frames
//   GET  /lab/instructor                    the instructor's labs page (watch, take over, replay, reset)
//   GET  /lab/api/labs                      every lab, and the take-over log
//   WS   /lab/api/watch/:learner?mode=      the instructor watches (read-only) or takes over
//   GET  /lab/api/labs/:learner/recording   the asciicast v2 file; /timeline its markers, checks linked to commands
//   POST /lab/api/labs/:learner/reset       a fresh VM ({to: 'base'}) or the learner's step rebuilt ({to: 'step'})
//
// A learner is their token (identity.ts): the cookie holds it, the store says which learner it
// names, and the labs manager is asked only with that learner's id, so nothing a learner sends
// can name another lab. A WebSocket is accepted only from this server's own origin, with the
// cookie, and (the learner's) with a ticket that the same learner fetched; keystrokes are bounded
// and rate-limited per connection.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { marked } from 'marked';
import { parseCast } from '../labs/asciicast.ts';
import type { LabDriver, VmSpec } from '../labs/driver.ts';
import { Labs, LabError } from '../labs/labs.ts';
import { parseSize, type RequestAnswer, type TerminalSize } from '../labs/protocol.ts';
import type { LabSession } from '../labs/session.ts';
import { readCatalog } from '../lessons/catalog.ts';
import { isToken } from './identity.ts';
import { commandLabel, LineTracker, timeline } from './labs-lines.ts';
import { HttpError } from './plugins/context.ts';
import type { Pack } from './model.ts';
import { labListResponses, labLoginResponses, labMeResponses, labResetResponses, labTicketResponses, labTimelineResponses } from './schemas.ts';
import type { ClassEvent, ClassInfo, Learner, Report, Store } from './store.ts';

/** What `--labs N [--warm W] [--lab-memory M] [--lab-cpus C]` make (serve.ts). */
export interface LabsConfig {
  driver: LabDriver;
  /** labs.json, recordings/ (and the qemu driver's vms/) */
  stateDir: string;
  capacity: number;
  warm: number;
  spec: VmSpec;
  idleStopMs: number;
  /** the pack's folder: the page shows the learner's step from its chapter.md */
  lessonsDir: string;
  /** on shutdown every lab is removed (`--expire`); otherwise the VMs run on for the next server */
  expireOnClose: boolean;
  bootTimeoutMs?: number;
  /** how often idle stop and the warm pool are looked at (default 60 s) */
  timersMs?: number;
}

export interface LabsPluginOptions {
  config: LabsConfig;
  store: Store;
  info: ClassInfo;
  pack: Pack;
  instructorOnly: (req: FastifyRequest) => Promise<void>;
  /** the server speaks TLS: the cookie is Secure, and the origin https */
  secure: boolean;
  /** the folder of labs.html and the other pages */
  pageDir: string;
  log: (line: string) => void;
  /** the grading export names each learner's recording through this (set here) */
  recordings?: { of: (learnerId: number) => string | null };
}

const COOKIE = 'workshop_lab';
/** xterm.js sets the terminal's styles in a <style> element of its own: inline styles, never scripts. */
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";
const TICKET_MS = 60_000;
/** terminal connections a learner may open in a minute (a reload is one) */
const TICKETS_PER_MINUTE = 30;
/** The rate limit's key: the learner's cookie (hashed), else the address. */
const perLearner = (req: FastifyRequest): string => {
  const t = req.cookies[COOKIE];
  return t ? `lab:${createHash('sha256').update(t).digest('hex')}` : `ip:${req.ip}`;
};
/** per connection: at most this many keystroke messages in a second (a paste is one) */
const KEYS_PER_SECOND = 200;
const KEYS_BYTES = 8 * 1024;
/** what a watcher gets first: the end of the recording, so that the screen is not blank */
const WATCH_BACKLOG = 256 * 1024;

interface Ticket {
  learner: number;
  expires: number;
}

/** The page's files and xterm.js's, served from memory: a fixed list, nothing by name from a request. */
function assets(pageDir: string): Map<string, { body: Buffer; type: string }> {
  const req = createRequire(import.meta.url);
  const xterm = dirname(dirname(req.resolve('@xterm/xterm')));
  const fit = dirname(req.resolve('@xterm/addon-fit'));
  const files: Record<string, [string, string]> = {
    'labs.js': [join(pageDir, 'labs.js'), 'text/javascript'],
    'labs.css': [join(pageDir, 'labs.css'), 'text/css'],
    'labs-instructor.js': [join(pageDir, 'labs-instructor.js'), 'text/javascript'],
    'xterm.mjs': [join(xterm, 'lib', 'xterm.mjs'), 'text/javascript'],
    'xterm.css': [join(xterm, 'css', 'xterm.css'), 'text/css'],
    'addon-fit.mjs': [join(fit, 'addon-fit.mjs'), 'text/javascript'],
    'labs-term.js': [join(pageDir, 'labs-term.js'), 'text/javascript'],
    'labs-reports.js': [join(pageDir, 'labs-reports.js'), 'text/javascript'],
  };
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [name, [path, type]] of Object.entries(files)) out.set(name, { body: readFileSync(path), type: `${type}; charset=utf-8` });
  return out;
}

/** The step a learner is on, from their reports: where the last one left them. */
export function currentStep(pack: Pack, reports: readonly Report[]): string | undefined {
  // a 'left' report (`classroom leave`) names no step: the learner is where the one before left them
  const last = reports.findLast((r) => r.kind !== 'left');
  if (!last) return pack.steps[0]?.id;
  if (last.kind === 'started' || last.kind === 'reset') return pack.chapters.get(last.step)?.[0];
  if (last.kind === 'passed' || last.kind === 'solved') return last.next ?? last.step;
  return last.step;
}

/** Each step's text as HTML, from the pack's chapter.md files (the instructor's own pack). */
function stepTexts(lessonsDir: string): Map<string, { title: string; html: string }> {
  const out = new Map<string, { title: string; html: string }>();
  for (const c of readCatalog(lessonsDir).chapters) {
    for (const s of c.text.steps) out.set(`${c.id}/${s.id}`, { title: s.title, html: marked.parse(s.body, { async: false }) });
  }
  return out;
}

const learnerKey = (l: Learner): string => String(l.id);

/** The state of the labs on this server, shared by its routes and sockets. */
class Hub {
  readonly o: LabsPluginOptions;
  readonly labs: Labs;
  /** learner id -> their token, learned when they present it: the guest's reports are posted with it */
  readonly tokens: Map<number, string>;
  readonly names = new Map<number, string>();
  readonly tickets = new Map<string, Ticket>();
  /** the learner's open terminal sockets: their checks and the take-over banner go there */
  readonly sockets = new Map<number, Set<WebSocket>>();
  readonly takeovers = new Map<number, number>();
  readonly feed: { at: string; learner: string; what: string }[] = [];
  private readonly trackers = new Map<number, LineTracker>();
  /** who typed the line being followed: the learner, or the instructor who took over */
  private readonly typist = new Map<number, 'learner' | 'instructor'>();

  constructor(o: LabsPluginOptions, labs: Labs, tokens: Map<number, string>) {
    this.o = o;
    this.labs = labs;
    this.tokens = tokens;
  }

  /** Keys typed into a learner's terminal: followed for the timeline's command lines. */
  typed(id: number, by: 'learner' | 'instructor', bytes: Buffer): void {
    this.typist.set(id, by);
    this.tracker(id).input(bytes.toString('utf8'));
  }

  shown(id: number, bytes: Buffer): void {
    this.tracker(id).output(bytes.toString('utf8'));
  }

  private tracker(id: number): LineTracker {
    let t = this.trackers.get(id);
    if (!t) this.trackers.set(id, (t = new LineTracker((line) => this.labs.mark(String(id), commandLabel(line, this.typist.get(id) ?? 'learner')))));
    return t;
  }

  /** The learner is out of the class: their terminal closes and their VM goes. */
  async release(id: number): Promise<void> {
    for (const s of this.sockets.get(id) ?? []) s.close(1008, 'you were removed from the class');
    this.sockets.delete(id);
    this.tokens.delete(id);
    try {
      if (await this.labs.release(String(id))) this.logFeed(id, 'left the class: lab removed');
    } catch (err) {
      this.o.log(`labs: could not remove the lab of learner ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  toLearner(id: number, msg: unknown): void {
    for (const s of this.sockets.get(id) ?? []) s.send(JSON.stringify(msg));
  }

  logFeed(id: number, what: string): void {
    const learner = this.names.get(id) ?? `learner ${id}`;
    this.feed.push({ at: new Date().toISOString(), learner, what });
    if (this.feed.length > 1000) this.feed.shift();
    this.o.log(`labs: ${learner}: ${what}`);
  }

  async learnerOf(token: string | undefined): Promise<Learner | undefined> {
    if (!isToken(token)) return undefined;
    const l = await this.o.store.learnerByToken(token);
    if (!l || l.classId !== this.o.info.id) return undefined;
    this.tokens.set(l.id, token);
    this.names.set(l.id, l.name);
    return l;
  }

  async learnerReq(req: FastifyRequest): Promise<Learner> {
    const l = await this.learnerOf(req.cookies[COOKIE]);
    if (!l) throw new HttpError(401, 'you have not joined this class from this browser (or the instructor removed you): join again');
    return l;
  }

  /** A WebSocket from another site would carry the cookie: only this server's own pages may open one. */
  async sameOrigin(req: FastifyRequest): Promise<void> {
    const want = `${this.o.secure ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    if (req.headers.origin !== want) throw new HttpError(403, 'this WebSocket may be opened only by the class server\u2019s own pages');
  }

  learnerParam(req: FastifyRequest<{ Params: { learner: string } }>): number {
    const id = Number(req.params.learner);
    if (!this.labs.labOf(String(id))) throw new HttpError(404, `learner ${req.params.learner} holds no lab`);
    return id;
  }

  recording(id: number): string {
    const lab = this.labs.labOf(String(id));
    if (!lab) throw new HttpError(404, 'that learner holds no lab');
    try {
      return readFileSync(lab.recording, 'utf8');
    } catch {
      throw new HttpError(404, 'nothing is recorded for that lab yet');
    }
  }

  /** The learner's terminal on a WebSocket: binary both ways, JSON control frames. */
  terminal(socket: WebSocket, l: Learner, size: TerminalSize): void {
    const id = l.id;
    let set = this.sockets.get(id);
    if (!set) this.sockets.set(id, (set = new Set()));
    set.add(socket);
    let session: LabSession | undefined;
    let closed = false;
    const limit = rate();
    socket.on('close', () => {
      closed = true;
      this.sockets.get(id)?.delete(socket);
      session?.close();
    });
    socket.on('message', (data: RawData, binary: boolean) => {
      if (!limit()) return socket.close(1008, 'too many messages: slow down');
      const bytes = raw(data);
      if (binary) {
        if (!session || bytes.length > KEYS_BYTES) return;
        this.typed(id, 'learner', bytes);
        session.write(bytes);
        return;
      }
      const m = json(bytes);
      const s = m?.type === 'resize' ? parseSize(m) : undefined;
      if (s) session?.resize(s);
    });
    socket.send(JSON.stringify({ type: 'status', text: this.labs.labOf(learnerKey(l))?.phase === 'ready' ? 'attaching' : 'booting' }));
    this.labs.attach(learnerKey(l), size).then(
      (s) => {
        if (closed) return s.close();
        session = s;
        s.onData((d) => {
          this.shown(id, d);
          socket.send(d);
        });
        s.onClose(() => socket.close(1000, 'the terminal closed'));
        socket.send(JSON.stringify({ type: 'ready', restored: s.restored, instructor: this.takeovers.has(id) }));
      },
      (err: Error) => {
        socket.send(JSON.stringify({ type: 'error', message: err instanceof LabError ? err.message : 'your lab did not start; ask your instructor' }));
        if (!(err instanceof LabError)) this.o.log(`labs: attach for ${l.name}: ${err.message}`);
        socket.close(1011, 'no lab');
      },
    );
  }

  /** The instructor on a learner's terminal: what it shows (from the end of the recording on), and in a take-over their keys. */
  watch(socket: WebSocket, id: number, mode: 'watch' | 'takeover'): void {
    const key = String(id);
    try {
      let back = '';
      for (const [, code, data] of parseCast(this.recording(id)).events) if (code === 'o') back += data;
      socket.send(Buffer.from(back.slice(-WATCH_BACKLOG)));
    } catch {
      // nothing recorded yet
    }
    const off = this.labs.watch(key, (d) => socket.send(d));
    const limit = rate();
    if (mode === 'takeover') {
      this.takeovers.set(id, (this.takeovers.get(id) ?? 0) + 1);
      this.logFeed(id, 'the instructor took over the terminal');
      this.labs.mark(key, 'instructor took over');
      this.toLearner(id, { type: 'instructor', typing: true });
    }
    socket.on('message', (data: RawData, binary: boolean) => {
      if (!limit()) return socket.close(1008, 'too many messages: slow down');
      if (mode !== 'takeover' || !binary) return;
      const bytes = raw(data);
      const s = this.labs.sessionOf(key);
      if (!s) return socket.send(JSON.stringify({ type: 'error', message: 'the learner has no terminal open' }));
      if (bytes.length > KEYS_BYTES) return;
      this.typed(id, 'instructor', bytes);
      s.write(bytes);
    });
    socket.on('close', () => {
      off();
      if (mode === 'takeover') this.giveBack(id);
    });
  }

  private giveBack(id: number): void {
    const n = (this.takeovers.get(id) ?? 1) - 1;
    if (n > 0) this.takeovers.set(id, n);
    else this.takeovers.delete(id);
    this.logFeed(id, 'the instructor gave the terminal back');
    this.labs.mark(String(id), 'instructor gave back');
    if (n <= 0) this.toLearner(id, { type: 'instructor', typing: false });
  }
}

export default async function labsPlugin(app: FastifyInstance, o: LabsPluginOptions): Promise<void> {
  const c = o.config;
  const tokens = new Map<number, string>();
  const onReport = async (learner: string, body: string): Promise<RequestAnswer> => {
    const token = tokens.get(Number(learner));
    // The sender keeps a report it could not deliver and posts it again: after a restart of the
    // server, until the learner's page is back (it presents the token), this says "later".
    if (token === undefined) return { status: 503, body: '{"error":"the class server does not know this learner yet: the report is sent again"}' };
    const res = await app.inject({ method: 'POST', url: '/api/reports', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: body });
    return { status: res.statusCode, body: res.body };
  };
  const labs = await Labs.open({
    driver: c.driver,
    stateDir: c.stateDir,
    capacity: c.capacity,
    warm: c.warm,
    spec: c.spec,
    idleStopMs: c.idleStopMs,
    ...(c.bootTimeoutMs === undefined ? {} : { bootTimeoutMs: c.bootTimeoutMs }),
    onReport,
    log: (m) => o.log(`labs: ${m}`),
  });
  labs.startTimers(c.timersMs);
  void labs.fillWarm().catch((err: Error) => o.log(`labs: warm pool: ${err.message}`));
  const hub = new Hub(o, labs, tokens);
  if (o.recordings) o.recordings.of = (id) => labs.labOf(String(id))?.recording ?? null;

  // The learner's checks, live: every report the store keeps goes to that learner's page. A
  // learner the instructor removed (or whose name was freed) loses their lab: its place goes back.
  const unsubscribe = await o.store.subscribe(o.info.id, (e: ClassEvent) => {
    if (e.type === 'report') hub.toLearner(e.learnerId, { type: 'report', report: e.report });
    else if (e.type === 'removed' || e.type === 'freed') void hub.release(e.learnerId);
  });
  // ... and so does one removed while no server ran (the labs outlive a server)
  const gone = new Set((await o.store.snapshot(o.info.id)).learners.filter((l) => l.state === 'removed' || l.state === 'freed').map(learnerKey));
  for (const l of labs.list()) if (l.learner !== null && gone.has(l.learner)) await hub.release(Number(l.learner));
  app.addHook('onClose', async () => {
    unsubscribe();
    for (const set of hub.sockets.values()) for (const s of set) s.close(1001, 'the class server is stopping');
    if (c.expireOnClose) await labs.expire();
    else labs.close();
  });
  app.addHook('onSend', async (_req, reply) => void reply.header('content-security-policy', CSP));
  await app.register(fastifyWebsocket, { options: { maxPayload: KEYS_BYTES * 2 } });

  const files = assets(o.pageDir);
  app.get('/lab', async (_req, reply) => reply.type('text/html; charset=utf-8').send(readFileSync(join(o.pageDir, 'labs.html'))));
  app.get('/lab/instructor', async (req, reply) => {
    await o.instructorOnly(req);
    return reply.type('text/html; charset=utf-8').send(readFileSync(join(o.pageDir, 'labs-instructor.html')));
  });
  app.get<{ Params: { file: string } }>('/lab/assets/:file', async (req, reply) => {
    const f = files.get(req.params.file);
    if (!f) throw new HttpError(404, 'no such file');
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  learnerRoutes(app, hub, stepTexts(c.lessonsDir));
  instructorRoutes(app, hub);
}

const jsonBody = async (req: FastifyRequest): Promise<void> => {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send Content-Type: application/json');
};

function learnerRoutes(app: FastifyInstance, hub: Hub, texts: Map<string, { title: string; html: string }>): void {
  const { o, labs } = hub;
  app.post('/lab/api/login', { schema: { response: labLoginResponses }, preHandler: jsonBody, config: { rateLimit: { max: 30, timeWindow: 60_000 } } }, async (req, reply) => {
    const t = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const l = await hub.learnerOf(t);
    if (!l || t === undefined) throw new HttpError(401, 'that learner token is unknown here: join with the code and your name');
    void reply.setCookie(COOKIE, t, { httpOnly: true, sameSite: 'strict', path: '/lab', secure: o.secure, maxAge: 7 * 24 * 3600 });
    return { name: l.name };
  });

  app.get('/lab/api/me', { schema: { response: labMeResponses } }, async (req) => {
    // not joined from this browser (yet): the page shows the join form; not an error to log
    const l = await hub.learnerOf(req.cookies[COOKIE]);
    if (!l) return { learner: null };
    const claim = await labs.claim(learnerKey(l));
    const reports = (await o.store.snapshot(o.info.id)).events.flatMap((e) => (e.type === 'report' && e.learnerId === l.id ? [e.report] : []));
    const stepId = currentStep(o.pack, reports);
    const text = stepId === undefined ? undefined : texts.get(stepId);
    return {
      learner: { id: l.id, name: l.name },
      lab: claim.kind === 'full' ? { kind: 'full', message: claim.message } : { kind: 'claimed', phase: labs.labOf(learnerKey(l))?.phase ?? 'booting' },
      step: stepId === undefined ? null : { id: stepId, title: text?.title ?? stepId, html: text?.html ?? '' },
      report: [...reports].reverse().find((r) => r.rows.length > 0) ?? null,
      recorded: true,
    };
  });

  // Every terminal connection takes a ticket: this bounds a learner's (re)connections.
  app.post('/lab/api/ticket', { schema: { response: labTicketResponses }, preHandler: jsonBody, config: { rateLimit: { max: TICKETS_PER_MINUTE, timeWindow: 60_000, keyGenerator: perLearner } } }, async (req) => {
    const l = await hub.learnerReq(req);
    if (!labs.labOf(learnerKey(l))) throw new HttpError(409, 'you hold no lab: open /lab again');
    const now = Date.now();
    for (const [k, t] of hub.tickets) if (t.expires < now) hub.tickets.delete(k);
    const ticket = randomBytes(18).toString('base64url');
    hub.tickets.set(ticket, { learner: l.id, expires: now + TICKET_MS });
    return { ticket };
  });

  app.get<{ Querystring: { ticket?: string; cols?: string; rows?: string } }>(
    '/lab/api/terminal',
    {
      websocket: true,
      preValidation: async (req) => {
        await hub.sameOrigin(req);
        const l = await hub.learnerReq(req);
        const t = hub.tickets.get(req.query.ticket ?? '');
        // a ticket is used once, by the learner who fetched it
        if (!t || t.expires < Date.now() || t.learner !== l.id) throw new HttpError(403, 'this terminal ticket is unknown, used, or not yours: reload the page');
        hub.tickets.delete(req.query.ticket ?? '');
      },
    },
    (socket, req) => {
      const size = parseSize({ cols: Number(req.query.cols), rows: Number(req.query.rows) }) ?? { cols: 80, rows: 24 };
      void hub.learnerReq(req).then((l) => hub.terminal(socket, l, size), () => socket.close(1008, 'not joined'));
    },
  );
}

function instructorRoutes(app: FastifyInstance, hub: Hub): void {
  const { o, labs } = hub;
  app.get('/lab/api/labs', { schema: { response: labListResponses }, preHandler: o.instructorOnly }, async () => {
    const learners = new Map((await o.store.snapshot(o.info.id)).learners.map((l) => [String(l.id), l.name]));
    return {
      capacity: o.config.capacity,
      labs: labs.list().map((x) => ({ vm: x.vm, learner: x.learner, name: x.learner === null ? null : (learners.get(x.learner) ?? null), phase: x.phase, bootMs: x.bootMs, lastActive: x.lastActive, attached: x.learner !== null && labs.sessionOf(x.learner) !== undefined, takenOver: x.learner !== null && hub.takeovers.has(Number(x.learner)) })),
      log: hub.feed.slice(-100),
    };
  });

  app.get<{ Params: { learner: string } }>('/lab/api/labs/:learner/recording', { preHandler: o.instructorOnly }, async (req, reply) => {
    const id = hub.learnerParam(req);
    return reply.type('application/x-asciicast; charset=utf-8').header('content-disposition', `attachment; filename="lab-${id}.cast"`).send(hub.recording(id));
  });
  app.get<{ Params: { learner: string } }>('/lab/api/labs/:learner/timeline', { schema: { response: labTimelineResponses }, preHandler: o.instructorOnly }, async (req) => {
    const cast = parseCast(hub.recording(hub.learnerParam(req)));
    return { timeline: timeline(cast.events.flatMap(([t, code, data]) => (code === 'm' ? [{ t, label: data }] : []))) };
  });

  app.post<{ Params: { learner: string }; Body: { to?: unknown } }>('/lab/api/labs/:learner/reset', { schema: { response: labResetResponses }, preHandler: [o.instructorOnly, jsonBody] }, async (req) => {
    const id = hub.learnerParam(req);
    const to = req.body?.to;
    if (to === 'base') {
      await labs.reset(String(id));
      hub.logFeed(id, 'the instructor reset the lab to the base image');
      return { reset: 'base' };
    }
    if (to !== 'step') throw new HttpError(400, 'invalid request: body/to must be "base" or "step"');
    const st = await labs.exec(String(id), 'workshop status --json', 120_000);
    const step = /"current":"([A-Za-z0-9_-]+\/[A-Za-z0-9_-]+)"/.exec(st.stdout)?.[1];
    if (!step) throw new HttpError(409, 'the learner has started no chapter: nothing to restore');
    const r = await labs.exec(String(id), `workshop goto ${step} --restore --yes --json`, 600_000);
    hub.logFeed(id, `the instructor rebuilt ${step} (goto --restore: exit ${r.code})`);
    return { reset: 'step', step, code: r.code };
  });

  app.get<{ Params: { learner: string }; Querystring: { mode?: string } }>(
    '/lab/api/watch/:learner',
    {
      websocket: true,
      preValidation: async (req: FastifyRequest<{ Params: { learner: string } }>) => {
        await hub.sameOrigin(req);
        await o.instructorOnly(req);
        hub.learnerParam(req);
      },
    },
    (socket, req) => hub.watch(socket, Number(req.params.learner), req.query.mode === 'takeover' ? 'takeover' : 'watch'),
  );
}

/** A WebSocket message as one Buffer. */
function raw(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function json(b: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A per-connection limit of KEYS_PER_SECOND messages in any second; false once over it. */
function rate(): () => boolean {
  let window = 0;
  let count = 0;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== window) {
      window = now;
      count = 0;
    }
    return ++count <= KEYS_PER_SECOND;
  };
}
