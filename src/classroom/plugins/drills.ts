// The class drill round (issue 28): POST /api/drill-round starts a break-it round of a chapter for
// the whole room. It is an act like a message or a hold (acts.ts): stored as an event, folded by
// the model, and fetched by each learner's sender with the inbox, so their next command offers it.
// The seed is drawn here, once: every learner meets the same near-misses, in the same order.
import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { drillRoundResponses, drillRoundSchema, ROUND_DRILLS } from '../schemas.ts';
import { jsonOnly } from './acts.ts';
import { HttpError, type ClassContext } from './context.ts';

export async function drillsPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  app.post<{ Body: { chapter: string; drills?: number } }>('/api/drill-round', { preHandler: app.instructorOnly, schema: { body: drillRoundSchema, response: drillRoundResponses } }, async (req, reply) => {
    jsonOnly(req);
    const { chapter } = req.body;
    if (!ctx.pack.chapters.has(chapter)) throw new HttpError(422, `unknown chapter "${chapter}": it is not in the pack this class serves`);
    const drills = req.body.drills ?? ROUND_DRILLS;
    const eventId = await ctx.store.recordAct(ctx.info.id, { act: 'drill', chapter, drills, seed: randomInt(1_000_000) });
    return reply.code(201).send({ eventId, chapter, drills });
  });
}
