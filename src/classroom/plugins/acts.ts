// The instructor acts on the room (issue 22): POST /api/messages (to one learner, to everyone, or
// to the members of a common failure), POST /api/hold and /api/release. And the learner's side of
// it, GET /api/inbox: what their sender fetches while it polls, since the learner's VM has no
// inbound port. Each act is an event ('act'), so the dashboard, the model and a restarted server
// all see it from the store.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClassView, Inbox } from '../contract.ts';
import { normalizeFailure } from '../failure-key.ts';
import { learnerName } from '../identity.ts';
import { holdResponses, holdSchema, inboxResponses, messageResponses, messageSchema } from '../schemas.ts';
import { learnerKey, theLearner } from './auth.ts';
import { HttpError, type ClassContext } from './context.ts';

type To = { all: true } | { name: string } | { step: string; check: string };

/** The learners a message goes to, fixed now, and the instructor's words for whom. */
export function recipients(view: ClassView, to: To): { ids: number[]; label: string } {
  const present = view.learners.filter((l) => l.state !== 'left' && l.access === 'active');
  if ('all' in to) return { ids: present.map((l) => l.id), label: 'everyone' };
  if ('name' in to) {
    const key = learnerName(to.name)?.key;
    const l = view.learners.find((x) => learnerName(x.name)?.key === key);
    if (key === undefined || !l) throw new HttpError(404, `no learner "${to.name}" in this class`);
    return { ids: [l.id], label: l.name };
  }
  // the check as the instructor typed it: the same words as a group's, or a part of them, once
  // nonces and paths are taken out (failure-key.ts), case aside
  const want = normalizeFailure(to.check).toLowerCase();
  const groups = view.commonFailures.filter((g) => g.step === to.step && normalizeFailure(g.check).toLowerCase().includes(want));
  const ids = [...new Set(groups.flatMap((g) => g.members.map((m) => m.id)))];
  if (ids.length === 0) throw new HttpError(404, `no learner is failing "${to.check}" at ${to.step} now`);
  return { ids, label: `failing ${to.step}: ${groups[0]?.check ?? to.check}` };
}

/** The page sends JSON; a cross-site form cannot, without a preflight this server never allows. */
export function jsonOnly(req: FastifyRequest): void {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send Content-Type: application/json');
}

export async function actsPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  const stepIds = new Set(ctx.pack.steps.map((s) => s.id));
  app.post<{ Body: { to: To; text: string } }>('/api/messages', { preHandler: app.instructorOnly, schema: { body: messageSchema, response: messageResponses } }, async (req, reply) => {
    jsonOnly(req);
    const view = ctx.live.view();
    const { ids, label } = recipients(view, req.body.to);
    const eventId = await ctx.store.recordAct(ctx.info.id, { act: 'message', text: req.body.text, to: ids, label });
    const names = ids.map((id) => view.learners.find((l) => l.id === id)?.name ?? '');
    return reply.code(201).send({ eventId, to: names });
  });
  app.post<{ Body: { step: string } }>('/api/hold', { preHandler: app.instructorOnly, schema: { body: holdSchema, response: holdResponses } }, async (req, reply) => {
    jsonOnly(req);
    if (!stepIds.has(req.body.step)) throw new HttpError(422, `unknown step "${req.body.step}": it is not in the pack this class serves`);
    const eventId = await ctx.store.recordAct(ctx.info.id, { act: 'hold', step: req.body.step });
    return reply.code(201).send({ eventId, hold: req.body.step });
  });
  app.post('/api/release', { preHandler: app.instructorOnly, schema: { response: holdResponses } }, async (req, reply) => {
    jsonOnly(req);
    const eventId = await ctx.store.recordAct(ctx.info.id, { act: 'hold', step: null });
    return reply.code(201).send({ eventId, hold: null });
  });
  app.get(
    '/api/inbox',
    {
      schema: { response: inboxResponses },
      // a sender polls every few seconds: far below this
      config: { rateLimit: { max: 120, timeWindow: 60_000, keyGenerator: learnerKey } },
      preValidation: app.learnerOnly,
    },
    async (req): Promise<Inbox> => ctx.live.inbox(theLearner(req).learner.id),
  );
}
