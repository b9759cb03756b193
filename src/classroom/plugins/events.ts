// GET /api/events: the class's events as Server-Sent Events, for the instructor (event-stream.ts).
import type { FastifyInstance } from 'fastify';
import { streamEvents } from '../event-stream.ts';
import { eventsQuerySchema, eventsResponses } from '../schemas.ts';
import type { ClassContext } from './context.ts';

export async function eventsPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  app.get<{ Querystring: { lastEventId?: string } }>(
    '/api/events',
    { preHandler: app.instructorOnly, schema: { querystring: eventsQuerySchema, response: eventsResponses } },
    async (req, reply) => {
      // The browser resends Last-Event-ID on a reconnect; the first connection names it in the query.
      const header = req.headers['last-event-id'];
      const from = typeof header === 'string' && /^[0-9]{1,15}$/.test(header) ? Number(header) : Number(req.query.lastEventId ?? 0);
      reply.hijack();
      streamEvents({ store: ctx.store, classId: ctx.info.id, heartbeatMs: ctx.heartbeatMs, streams: ctx.streams }, req.raw, reply.raw, from);
    },
  );
  app.addHook('onClose', async () => {
    for (const s of ctx.streams) s.end();
  });
}
