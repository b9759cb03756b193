// POST /api/reports: a learner's report, from their sender. The learner is known before the body
// is even validated (app.learnerOnly), and the rate limit counts per learner token.
import type { FastifyInstance } from 'fastify';
import { formatSize } from '../limits.ts';
import { LIMITS, reportResponses, reportSchema } from '../schemas.ts';
import type { Report } from '../store.ts';
import { learnerKey, theLearner } from './auth.ts';
import { HttpError, tooMany, type ClassContext } from './context.ts';

/** A report that names a step or chapter the class does not serve is refused (422), as is an oversized row (413). */
function checkReport(r: Report, ctx: ClassContext, stepIds: ReadonlySet<string>): void {
  // `classroom leave` and `workshop clean` name no step
  const stepless = r.kind === 'left' || r.kind === 'cleaned';
  if (stepless !== (r.step === '')) throw new HttpError(422, stepless ? `a ${r.kind} report names no step (step "")` : 'the step is missing');
  if (stepless) return;
  if ((r.kind === 'asked') !== (r.question !== undefined)) throw new HttpError(422, r.kind === 'asked' ? 'an asked report carries a question (it may be "")' : 'only an asked report carries a question');
  if ((r.kind === 'drilled') !== (r.drill !== undefined)) throw new HttpError(422, r.kind === 'drilled' ? 'a drilled report carries its drill' : 'only a drilled report carries a drill');
  const chapterKind = r.kind === 'started' || r.kind === 'reset';
  if (chapterKind ? !ctx.pack.chapters.has(r.step) : !stepIds.has(r.step)) throw new HttpError(422, `unknown ${chapterKind ? 'chapter' : 'step'} "${r.step}": it is not in the pack this class serves`);
  if (r.next !== null && !stepIds.has(r.next)) throw new HttpError(422, `unknown next step "${r.next}": it is not in the pack this class serves`);
  r.rows.forEach((row, i) => {
    const bytes = Buffer.byteLength(row.check) + Buffer.byteLength(row.expected) + Buffer.byteLength(row.actual) + Buffer.byteLength(row.hint);
    if (bytes > LIMITS.rowBytes) throw new HttpError(413, `row ${i + 1} is ${bytes} bytes; a check row may hold at most ${LIMITS.rowBytes}`);
  });
}

export async function reportsPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  const stepIds = new Set(ctx.pack.steps.map((s) => s.id));
  app.post<{ Body: Report }>(
    '/api/reports',
    {
      schema: { body: reportSchema, response: reportResponses },
      config: { rateLimit: { max: ctx.reportsPerSecond * 10, timeWindow: 10_000, keyGenerator: learnerKey } },
      // Before the body is validated: a request without a learner token costs no more than this.
      preValidation: app.learnerOnly,
    },
    async (req, reply) => {
      checkReport(req.body, ctx, stepIds);
      const { token } = theLearner(req);
      const budget = ctx.budget;
      const out = await ctx.store.insertReport(token, req.body, budget);
      switch (out.kind) {
        case 'stored':
          return reply.code(201).send({ stored: true, eventId: out.eventId });
        case 'duplicate':
          return reply.code(200).send({ stored: false, eventId: out.eventId });
        case 'unknown token':
          ctx.tokens.forgetToken(token);
          throw new HttpError(401, 'this learner token was revoked (the instructor removed you, or freed your name): run `workshop classroom join URL CODE --name NAME` again');
        case 'over budget':
          ctx.storageFull(out.scope === 'learner' ? out.learner.id : null);
          if (out.scope === 'learner') throw new HttpError(413, `you have used up the storage a learner has in this class (${formatSize(budget.learnerBytes)}): this report is not stored; tell the instructor`);
          return tooMany(reply, 60_000, `the class has used up its storage (${formatSize(budget.classBytes)}): reports wait until the instructor makes room`);
      }
    },
  );
}
