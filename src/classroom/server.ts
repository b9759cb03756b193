// The class server: fastify 5, loaded only by `workshop classroom serve`. Learners post reports
// with their own bearer token; the instructor reads the dashboard, the API, the SSE stream and the
// exports with the instructor token (a header, or the cookie the instructor URL sets).
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyRequest } from 'fastify';
import { classCsv, classJson } from './export.ts';
import { applyEvent, classView, emptyModel, type Pack, type Thresholds } from './model.ts';
import { eventsQuerySchema, joinSchema, LIMITS, pageQuerySchema, reportSchema } from './schemas.ts';
import type { ClassEvent, ClassInfo, Learner, Report, Store } from './store.ts';

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

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_\-.~+/=]{1,200})$/.exec(h);
  return m?.[1];
}

class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const info = await o.store.openClass(o.className);
  const model = emptyModel(o.pack);
  // Subscribe before reading the snapshot, so that no event falls between the two.
  const early: ClassEvent[] = [];
  let ready = false;
  const streams = new Set<ServerResponse>();
  const unsubscribe = await o.store.subscribe(info.id, (e) => {
    if (!ready) early.push(e);
    else applyEvent(model, e);
  });
  for (const e of (await o.store.snapshot(info.id)).events) applyEvent(model, e);
  for (const e of early) applyEvent(model, e);
  ready = true;

  const stepIds = new Set(o.pack.steps.map((s) => s.id));
  const common = {
    logger: false,
    bodyLimit: LIMITS.bodyBytes,
    forceCloseConnections: true,
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
      process.stderr.write(`classroom: ${err.message}\n`);
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

  app.post<{ Body: { code: string; name: string } }>(
    '/api/join',
    { schema: { body: joinSchema }, config: { rateLimit: { max: 600, timeWindow: 60_000 } } },
    async (req, reply) => {
      const joined = await o.store.join(req.body.code.toUpperCase(), req.body.name);
      if (!joined) throw new HttpError(403, 'unknown join code: ask the instructor for the code that `workshop classroom serve` printed');
      return reply.code(201).send({ token: joined.token, name: joined.learner.name, class: info.name });
    },
  );

  const perSecond = o.reportsPerSecond ?? 20;
  const knownTokens = new Map<string, Learner>();
  app.post<{ Body: Report }>(
    '/api/reports',
    {
      schema: { body: reportSchema },
      config: {
        // Per learner: the key is the (hashed) bearer token, falling back to the address.
        rateLimit: { max: perSecond * 10, timeWindow: 10_000, keyGenerator: (req: FastifyRequest) => { const t = bearer(req); return t ? `t:${digest(t).toString('hex')}` : `ip:${req.ip}`; } },
      },
      preValidation: async (req: FastifyRequest) => {
        const t = bearer(req);
        // A token is never revoked, so the learner it names is looked up once per server.
        let learner = t === undefined ? undefined : knownTokens.get(t);
        if (t !== undefined && !learner) {
          learner = await o.store.learnerByToken(t);
          if (learner && knownTokens.size < 100_000) knownTokens.set(t, learner);
        }
        if (!learner || learner.classId !== info.id) throw new HttpError(401, 'the learner token is missing or unknown: run `workshop classroom join URL CODE --name NAME` again');
        (req as FastifyRequest & { learnerId?: number }).learnerId = learner.id;
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
      const learnerId = (req as FastifyRequest & { learnerId?: number }).learnerId;
      if (learnerId === undefined) throw new Error('preValidation did not set the learner');
      const out = await o.store.insertReport(learnerId, r);
      return reply.code(out.stored ? 201 : 200).send(out);
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
      streamEvents(req.raw, reply.raw, from);
    },
  );

  function streamEvents(req: IncomingMessage, res: ServerResponse, from: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    let sent = from;
    let replaying = true;
    const held: ClassEvent[] = [];
    const send = (e: ClassEvent): void => {
      if (e.id <= sent) return;
      sent = e.id;
      res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': ping\n\n'), o.heartbeatMs ?? 15_000);
    let off = (): void => {};
    let closed = false;
    const done = (): void => {
      closed = true;
      clearInterval(heartbeat);
      off();
      streams.delete(res);
    };
    req.on('close', done);
    // Live events are held while the database replays what the client missed, then flushed.
    void (async () => {
      off = await o.store.subscribe(info.id, (e) => (replaying ? held.push(e) : send(e)));
      // a client that left while we subscribed must not leave its subscription behind
      if (closed) return off();
      for (;;) {
        const page = await o.store.eventsAfter(info.id, sent, 1000);
        for (const e of page) send(e);
        if (page.length < 1000) break;
      }
      replaying = false;
      for (const e of held.splice(0)) send(e);
    })().catch(() => res.destroy());
  }

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
