// The class server: fastify 5, loaded only by `workshop classroom serve`. Learners join and post
// reports with their own bearer token; the instructor reads the dashboard, the API, the SSE stream
// and the exports, and removes or frees learners, with the instructor token (a header, or the
// cookie the instructor URL sets).
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyRequest } from 'fastify';
import { streamEvents } from './event-stream.ts';
import { classCsv, classJson } from './export.ts';
import { AlertGate, JoinGate } from './gates.ts';
import { bearerToken, HttpError, registerLearnerRoutes, tooMany, type ServerContext } from './learners-api.ts';
import { DEFAULT_BUDGET, DEFAULT_JOIN_LIMITS, formatSize, type JoinLimits, type StorageBudget } from './limits.ts';
import { applyEvent, classView, emptyModel, type Pack, type Thresholds } from './model.ts';
import { visible } from './safe-text.ts';
import { eventsQuerySchema, LIMITS, pageQuerySchema, reportSchema } from './schemas.ts';
import type { Alert, ClassEvent, ClassInfo, Learner, Report, Store } from './store.ts';
import type { LabsConfig } from './labs-plugin.ts';

export interface ServerOptions {
  store: Store;
  pack: Pack;
  className: string;
  host: string;
  port: number;
  thresholds: Thresholds;
  /** the folder of dashboard.html, dashboard.js and dashboard.css */
  pageDir: string;
  tls?: { cert: Buffer; key: Buffer };
  /** reports per learner per second, sustained (default 20) */
  reportsPerSecond?: number;
  heartbeatMs?: number;
  /** default DEFAULT_BUDGET */
  budget?: StorageBudget;
  /** default DEFAULT_JOIN_LIMITS */
  joinLimits?: JoinLimits;
  /** where a server-side problem is logged (default stderr); the line is made visible() first */
  log?: (line: string) => void;
  /** hosted labs (`--labs N`): a VM per learner, a terminal in the page (labs-plugin.ts) */
  labs?: LabsConfig;
}

export interface RunningServer {
  info: ClassInfo;
  port: number;
  /** the origin, e.g. http://127.0.0.1:7878 */
  origin: string;
  close(): Promise<void>;
}

const COOKIE = 'workshop_instructor';
const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** Constant-time comparison of two tokens of any length. */
const sameToken = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** The instructor's bearer token: a token of any shape, up to 200 characters. */
function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_\-.~+/=]{1,200})$/.exec(h);
  return m?.[1];
}

/**
 * Remembers, per server, which active learner a token names: every report asks. A remove or a
 * free revokes tokens, so their events drop the learner's entries; and the insert checks the
 * token again in its own transaction, so a stale entry can never store a report.
 */
class TokenCache {
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

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const info = await o.store.openClass(o.className);
  const model = emptyModel(o.pack);
  const tokens = new TokenCache();
  const log = (line: string): void => (o.log ?? ((l) => process.stderr.write(`${l}\n`)))(visible(line));
  const onEvent = (e: ClassEvent): void => {
    applyEvent(model, e);
    if (e.type === 'removed' || e.type === 'freed') tokens.forgetLearner(e.learnerId);
  };
  // Subscribe before reading the snapshot, so that no event falls between the two.
  const early: ClassEvent[] = [];
  let ready = false;
  const streams = new Set<ServerResponse>();
  const unsubscribe = await o.store.subscribe(info.id, (e) => {
    if (!ready) early.push(e);
    else onEvent(e);
  });
  for (const e of (await o.store.snapshot(info.id)).events) onEvent(e);
  for (const e of early) onEvent(e);
  ready = true;

  const budget = o.budget ?? DEFAULT_BUDGET;
  const alerts = new AlertGate();
  const record = (a: { learnerId: number | null; alert: Alert } | undefined): void => {
    if (a) o.store.recordAlert(info.id, a.learnerId, a.alert).catch((err: unknown) => log(`classroom: could not record an alert: ${err instanceof Error ? err.message : String(err)}`));
  };

  const stepIds = new Set(o.pack.steps.map((s) => s.id));
  const common = {
    logger: false,
    bodyLimit: LIMITS.bodyBytes,
    forceCloseConnections: true,
    // A reverse proxy on this machine (nginx, docs/classroom-nginx.conf) passes the learner's
    // address in X-Forwarded-For; from anywhere else that header is not believed.
    trustProxy: 'loopback',
    // Strict schemas: reject unknown fields and wrong types instead of stripping or coercing them.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  } as const;
  const tls = o.tls;
  // One server type either way: https.Server is an http.Server with TLS underneath.
  const app = Fastify({ ...common, serverFactory: (handler) => (tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler)) });

  app.setErrorHandler((err: { statusCode?: number; validation?: unknown; validationContext?: string; message: string; code?: string }, _req, reply) => {
    // An error that names its status (a 4xx here, the PostgreSQL store's 503) keeps its message.
    const status = err.statusCode ?? 500;
    let message = err.message;
    if (err.validation) message = `invalid request: ${err.message}`;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `the body is larger than ${LIMITS.bodyBytes / 1024} KiB`;
    else if (err.statusCode === undefined || status === 500) {
      log(`classroom: ${err.message}`);
      message = 'internal error';
    }
    void reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ error: 'no such page' }));
  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => void started.set(req, performance.now()));
  app.addHook('onSend', async (req, reply) => {
    // Server-Timing: how long the server itself took, apart from the network and the client
    void reply.header('server-timing', `app;dur=${(performance.now() - (started.get(req) ?? performance.now())).toFixed(2)}`);
    void reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
  });

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyStatic, { root: o.pageDir, prefix: '/assets/', index: false, allowedPath: (p) => /^\/?dashboard\.(html|js|css)$/.test(p) });

  const isInstructor = (req: FastifyRequest): boolean => {
    const t = bearer(req) ?? req.cookies[COOKIE];
    return t !== undefined && sameToken(t, info.instructorToken);
  };
  const instructorOnly = async (req: FastifyRequest): Promise<void> => {
    if (!isInstructor(req)) throw new HttpError(401, 'the instructor token is missing or wrong: use the URL that `workshop classroom serve` printed, or Authorization: Bearer TOKEN');
  };
  const ctx: ServerContext = {
    store: o.store,
    info,
    budget,
    joins: new JoinGate(o.joinLimits ?? DEFAULT_JOIN_LIMITS),
    instructorOnly,
    joinRefused: (per) => record(alerts.joinRefused(per)),
    storageFull: (learnerId) => record(alerts.storage(learnerId, learnerId === null ? budget.classBytes : budget.learnerBytes)),
  };

  app.get<{ Querystring: { token?: string } }>('/', { schema: { querystring: pageQuerySchema } }, async (req, reply) => {
    const t = req.query.token;
    if (t !== undefined) {
      if (!sameToken(t, info.instructorToken)) throw new HttpError(401, 'this instructor token is wrong: use the URL that `workshop classroom serve` printed');
      // The token rides in the URL once; from here on it is an HttpOnly cookie, out of the history.
      void reply.setCookie(COOKIE, t, { httpOnly: true, sameSite: 'strict', path: '/', secure: o.tls !== undefined });
      return reply.redirect('/', 303);
    }
    if (!isInstructor(req)) {
      return reply.code(401).type('text/plain; charset=utf-8').send('This is the class dashboard. Open the instructor URL that `workshop classroom serve` printed: it carries the token.\n');
    }
    return reply.sendFile('dashboard.html');
  });

  // Browsers ask for it; there is none, and a 404 would be noise in the console.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());

  registerLearnerRoutes(app, ctx);

  const perSecond = o.reportsPerSecond ?? 20;
  app.post<{ Body: Report }>(
    '/api/reports',
    {
      schema: { body: reportSchema },
      config: {
        // Per learner: the key is the (hashed) bearer token, falling back to the address.
        rateLimit: { max: perSecond * 10, timeWindow: 10_000, keyGenerator: (req: FastifyRequest) => { const t = bearer(req); return t ? `t:${digest(t).toString('hex')}` : `ip:${req.ip}`; } },
      },
      // Before the body is validated: a request without a learner token costs no more than this.
      preValidation: async (req: FastifyRequest) => {
        const t = bearerToken(req);
        let learner = t === undefined ? undefined : tokens.get(t);
        if (t !== undefined && !learner) {
          learner = await o.store.learnerByToken(t);
          if (learner) tokens.set(t, learner);
        }
        if (!learner || learner.classId !== info.id) throw new HttpError(401, 'the learner token is missing or unknown: run `workshop classroom join URL CODE --name NAME` again');
      },
    },
    async (req, reply) => {
      const r = req.body;
      const chapterKind = r.kind === 'started' || r.kind === 'reset';
      if (chapterKind ? !o.pack.chapters.has(r.step) : !stepIds.has(r.step)) throw new HttpError(422, `unknown ${chapterKind ? 'chapter' : 'step'} "${r.step}": it is not in the pack this class serves`);
      if (r.next !== null && !stepIds.has(r.next)) throw new HttpError(422, `unknown next step "${r.next}": it is not in the pack this class serves`);
      r.rows.forEach((row, i) => {
        const bytes = Buffer.byteLength(row.check) + Buffer.byteLength(row.expected) + Buffer.byteLength(row.actual) + Buffer.byteLength(row.hint);
        if (bytes > LIMITS.rowBytes) throw new HttpError(413, `row ${i + 1} is ${bytes} bytes; a check row may hold at most ${LIMITS.rowBytes}`);
      });
      const token = bearerToken(req) ?? '';
      const out = await o.store.insertReport(token, r, budget);
      switch (out.kind) {
        case 'stored':
          return reply.code(201).send({ stored: true, eventId: out.eventId });
        case 'duplicate':
          return reply.code(200).send({ stored: false, eventId: out.eventId });
        case 'unknown token':
          tokens.forgetToken(token);
          throw new HttpError(401, 'this learner token was revoked (the instructor removed you, or freed your name): run `workshop classroom join URL CODE --name NAME` again');
        case 'over budget':
          ctx.storageFull(out.scope === 'learner' ? out.learner.id : null);
          if (out.scope === 'learner') throw new HttpError(413, `you have used up the storage a learner has in this class (${formatSize(budget.learnerBytes)}): this report is not stored; tell the instructor`);
          return tooMany(reply, 60_000, `the class has used up its storage (${formatSize(budget.classBytes)}): reports wait until the instructor makes room`);
      }
    },
  );

  const view = () => classView(model, o.thresholds, Date.now());
  app.get('/api/class', { preHandler: instructorOnly }, async () => ({ class: { name: info.name, joinCode: info.joinCode }, ...view() }));
  app.get('/api/export.json', { preHandler: instructorOnly }, async (_req, reply) => {
    void reply.header('content-disposition', `attachment; filename="class-${info.name}.json"`);
    return classJson(view(), info.name);
  });
  app.get('/api/export.csv', { preHandler: instructorOnly }, async (_req, reply) => {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="class-${info.name}.csv"`).send(classCsv(view()));
  });

  app.get<{ Querystring: { lastEventId?: string } }>(
    '/api/events',
    { preHandler: instructorOnly, schema: { querystring: eventsQuerySchema } },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      const from = typeof header === 'string' && /^[0-9]{1,15}$/.test(header) ? Number(header) : Number(req.query.lastEventId ?? 0);
      reply.hijack();
      streamEvents({ store: o.store, classId: info.id, heartbeatMs: o.heartbeatMs ?? 15_000, streams }, req.raw, reply.raw, from);
    },
  );

  if (o.labs) await app.register((await import('./labs-plugin.ts')).default, { config: o.labs, store: o.store, info, pack: o.pack, instructorOnly, secure: tls !== undefined, pageDir: o.pageDir, log });

  app.addHook('onClose', async () => {
    unsubscribe();
    for (const s of streams) s.end();
  });

  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return { info, port, origin: `${o.tls ? 'https' : 'http'}://${shown}:${port}`, close: () => app.close() };
}
