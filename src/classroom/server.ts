// The class server: fastify 5, loaded only by `workshop classroom serve`. Learners join and post
// reports with their own bearer token; the instructor reads the dashboard, the API, the SSE stream
// and the exports, and removes or frees learners, with the instructor token (a header, or the
// cookie the instructor URL sets). Each of these is a plugin (plugins/), registered in PLUGINS with
// the ClassContext this file builds; base and auth come first, and are not encapsulated.
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyPluginAsync } from 'fastify';
import { AlertGate, JoinGate } from './gates.ts';
import { DEFAULT_BUDGET, DEFAULT_JOIN_LIMITS, type JoinLimits, type StorageBudget } from './limits.ts';
import { followClass } from './live.ts';
import type { Pack, Thresholds } from './model.ts';
import { actsPlugin } from './plugins/acts.ts';
import { authPlugin } from './plugins/auth.ts';
import { basePlugin } from './plugins/base.ts';
import type { ClassContext } from './plugins/context.ts';
import { drillsPlugin } from './plugins/drills.ts';
import { eventsPlugin } from './plugins/events.ts';
import { exportPlugin } from './plugins/export.ts';
import { learnersPlugin } from './plugins/learners.ts';
import { pagePlugin } from './plugins/page.ts';
import { reportsPlugin } from './plugins/reports.ts';
import { visible } from './safe-text.ts';
import { LIMITS } from './schemas.ts';
import type { Alert, ClassInfo, Store } from './store.ts';
import type { LabsConfig } from './labs-plugin.ts';
import { TokenCache } from './token-cache.ts';

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
  /** the served pack as a gzipped tar, handed to learners at GET /api/pack.tgz (serve --pack of a local source) */
  packTarball?: Buffer;
}

export interface RunningServer {
  info: ClassInfo;
  port: number;
  /** the origin, e.g. http://127.0.0.1:7878 */
  origin: string;
  close(): Promise<void>;
}

/**
 * The class's routes, in order; each gets the ClassContext as its options. A new part of the
 * class (hosted labs, say) is one more line here.
 */
const PLUGINS: ReadonlyArray<FastifyPluginAsync<ClassContext>> = [basePlugin, authPlugin, pagePlugin, learnersPlugin, reportsPlugin, eventsPlugin, exportPlugin, actsPlugin, drillsPlugin];

const FASTIFY_OPTIONS = {
  logger: false,
  bodyLimit: LIMITS.bodyBytes,
  forceCloseConnections: true,
  // A reverse proxy on this machine (nginx, docs/classroom-nginx.conf) passes the learner's
  // address in X-Forwarded-For; from anywhere else that header is not believed.
  trustProxy: 'loopback',
  // Strict schemas: reject unknown fields and wrong types instead of stripping or coercing them.
  ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
} as const;

/** The context of one class: its store, its live model, and the limits it is served with. */
async function classContext(o: ServerOptions): Promise<ClassContext> {
  const info = await o.store.openClass(o.className);
  const log = (line: string): void => (o.log ?? ((l) => process.stderr.write(`${l}\n`)))(visible(line));
  const budget = o.budget ?? DEFAULT_BUDGET;
  const alerts = new AlertGate();
  const record = (a: { learnerId: number | null; alert: Alert } | undefined): void => {
    if (a) o.store.recordAlert(info.id, a.learnerId, a.alert).catch((err: unknown) => log(`classroom: could not record an alert: ${err instanceof Error ? err.message : String(err)}`));
  };
  return {
    store: o.store,
    info,
    pack: o.pack,
    live: await followClass(o.store, info, o.pack, o.thresholds),
    tokens: new TokenCache(),
    budget,
    joins: new JoinGate(o.joinLimits ?? DEFAULT_JOIN_LIMITS),
    pageDir: o.pageDir,
    packTarball: o.packTarball,
    tls: o.tls !== undefined,
    labs: o.labs !== undefined,
    recordings: { of: () => null },
    reportsPerSecond: o.reportsPerSecond ?? 20,
    heartbeatMs: o.heartbeatMs ?? 15_000,
    streams: new Set<ServerResponse>(),
    log,
    joinRefused: (per) => record(alerts.joinRefused(per)),
    storageFull: (learnerId) => record(alerts.storage(learnerId, learnerId === null ? budget.classBytes : budget.learnerBytes)),
  };
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const ctx = await classContext(o);
  const tls = o.tls;
  // One server type either way: https.Server is an http.Server with TLS underneath.
  const app = Fastify({ ...FASTIFY_OPTIONS, serverFactory: (handler) => (tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler)) });
  for (const plugin of PLUGINS) await app.register(plugin, ctx);
  // Loaded only with --labs: it brings the labs manager and the WebSocket plugin.
  if (o.labs) await app.register((await import('./labs-plugin.ts')).default, { config: o.labs, store: ctx.store, info: ctx.info, pack: ctx.pack, instructorOnly: app.instructorOnly, secure: ctx.tls, pageDir: ctx.pageDir, log: ctx.log, recordings: ctx.recordings });
  app.addHook('onClose', async () => ctx.live.close());

  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return { info: ctx.info, port, origin: `${o.tls ? 'https' : 'http'}://${shown}:${port}`, close: () => app.close() };
}
