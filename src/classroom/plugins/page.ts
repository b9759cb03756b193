// The dashboard page: GET / (with ?token= once, which becomes an HttpOnly cookie) and its assets
// under /assets/. The page itself reads GET /api/class and GET /api/events.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { pageQuerySchema, pageResponses } from '../schemas.ts';
import { INSTRUCTOR_COOKIE, instructorOf, sameToken } from './auth.ts';
import { HttpError, type ClassContext } from './context.ts';

export async function pagePlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  await app.register(fastifyStatic, { root: ctx.pageDir, prefix: '/assets/', index: false, allowedPath: (p) => /^\/?dashboard\.(html|js|css)$/.test(p) });

  app.get<{ Querystring: { token?: string; view?: 'grid' | 'projector' } }>('/', { schema: { querystring: pageQuerySchema, response: pageResponses } }, async (req, reply) => {
    const t = req.query.token;
    if (t !== undefined) {
      if (!sameToken(t, ctx.info.instructorToken)) throw new HttpError(401, 'this instructor token is wrong: use the URL that `workshop classroom serve` printed');
      // The token rides in the URL once; from here on it is an HttpOnly cookie, out of the history.
      void reply.setCookie(INSTRUCTOR_COOKIE, t, { httpOnly: true, sameSite: 'strict', path: '/', secure: ctx.tls });
      // the view asked for stays (?view=projector)
      return reply.redirect(req.query.view === 'projector' ? '/?view=projector' : '/', 303);
    }
    if (!instructorOf(req, ctx)) {
      return reply.code(401).type('text/plain; charset=utf-8').send('This is the class dashboard. Open the instructor URL that `workshop classroom serve` printed: it carries the token.\n');
    }
    return reply.sendFile('dashboard.html');
  });

  // Browsers ask for it; there is none, and a 404 would be noise in the console.
  app.get('/favicon.ico', { schema: { response: { 204: { type: 'null' } } } }, async (_req, reply) => reply.code(204).send());
}
