// What every route of the class server has: errors as `{ error }` with a message that is safe to
// show (a 500 says only "internal error", and the instructor's terminal gets the rest), security
// headers, Server-Timing, cookies and the rate limiter that routes configure.
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LIMITS } from '../schemas.ts';
import type { ClassContext } from './context.ts';

const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

interface RouteError {
  statusCode?: number;
  validation?: unknown;
  message: string;
  code?: string;
}

async function base(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  app.setErrorHandler((err: RouteError, _req, reply) => {
    // An error that names its status (a 4xx here, the PostgreSQL store's 503) keeps its message.
    const status = err.statusCode ?? 500;
    let message = err.message;
    if (err.validation) message = `invalid request: ${err.message}`;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `the body is larger than ${LIMITS.bodyBytes / 1024} KiB`;
    else if (err.statusCode === undefined || status === 500) {
      ctx.log(`classroom: ${err.message}`);
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
}

/** Not encapsulated: the handlers, hooks, cookies and limiter serve every route. */
export const basePlugin = fp(base, { name: 'workshop-base' });
