// The learners of a class over HTTP: POST /api/join (a learner), and the instructor's acts on a
// learner, POST /api/learners/:id/remove and /free. identity.ts says what a learner is.
import type { FastifyInstance } from 'fastify';
import { learnerName } from '../identity.ts';
import { formatSize } from '../limits.ts';
import { actResponses, joinResponses, joinSchema, learnerParamsSchema, packQuerySchema, packResponses } from '../schemas.ts';
import type { JoinOutcome } from '../store.ts';
import { bearerToken } from './auth.ts';
import { HttpError, tooMany, type ClassContext } from './context.ts';

const JOIN_STATUS: Record<'new' | 'rejoined' | 'claimed', number> = { new: 201, claimed: 201, rejoined: 200 };

function nameTaken(display: string): string {
  return (
    `the name "${display}" is taken in this class. If it is yours, join from the home that joined first; ` +
    `if your VM was rebuilt, ask the instructor to free it (\`workshop classroom free "${display}"\`). Otherwise pick another --name.`
  );
}

export async function learnersPlugin(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  app.post<{ Body: { code: string; name: string } }>(
    '/api/join',
    {
      schema: { body: joinSchema, response: joinResponses },
      // Every request counts against its address, before the body is even validated.
      preValidation: async (req, reply) => {
        const gate = ctx.joins.address(req.ip);
        if (!gate.ok) {
          ctx.joinRefused('address');
          return tooMany(reply, gate.waitMs, 'too many joins from this address: wait a moment and try again');
        }
        return undefined;
      },
    },
    async (req, reply) => {
      const name = learnerName(req.body.name);
      if (!name) throw new HttpError(400, 'invalid request: body/name must be 1 to 64 letters, digits, spaces, dots, underscores or dashes');
      const code = req.body.code.toUpperCase();
      if (code !== ctx.info.joinCode) throw new HttpError(403, 'unknown join code: ask the instructor for the code that `workshop classroom serve` printed');
      const presented = bearerToken(req);
      // A join that may add a learner takes a slot of the class, and a refusal gives it back. The
      // learner a token names, joining again under their name, adds no one: they need no slot.
      const holder = presented === undefined ? undefined : await ctx.store.learnerByToken(presented);
      const needsSlot = !(holder && holder.classId === ctx.info.id && holder.nameKey === name.key);
      if (needsSlot) {
        const slot = ctx.joins.classSlot();
        if (!slot.ok) {
          ctx.joinRefused('class');
          return tooMany(reply, slot.waitMs, 'too many new learners are joining this class right now: wait a minute and try again');
        }
      }
      let out: JoinOutcome;
      try {
        out = await ctx.store.join(code, name, presented, ctx.budget);
      } catch (err) {
        if (needsSlot) ctx.joins.refundClassSlot();
        throw err;
      }
      if (needsSlot && (out.kind !== 'joined' || out.how === 'rejoined')) ctx.joins.refundClassSlot();
      switch (out.kind) {
        case 'unknown code':
          throw new HttpError(403, 'unknown join code: ask the instructor for the code that `workshop classroom serve` printed');
        case 'name taken':
          throw new HttpError(409, nameTaken(out.learner.name));
        case 'over budget':
          ctx.storageFull(null);
          return tooMany(reply, 60_000, `the class has used up its storage (${formatSize(ctx.budget.classBytes)}): tell the instructor`);
        case 'joined':
          return reply.code(JOIN_STATUS[out.how]).send({ token: out.token, name: out.learner.name, class: ctx.info.name, how: out.how, ...(ctx.pack.installed ? { pack: ctx.pack.installed } : {}) });
      }
    },
  );

  // The served pack, when it lives only on the instructor's machine: `workshop pack add URL` of a
  // learner fetches it (learner.ts prints the command). The join code guards it, as it guards
  // joining, and each try counts against the address as a join does.
  app.get<{ Querystring: { code: string } }>('/api/pack.tgz', { schema: { querystring: packQuerySchema, response: packResponses } }, async (req, reply) => {
    const gate = ctx.joins.address(req.ip);
    if (!gate.ok) return tooMany(reply, gate.waitMs, 'too many requests from this address: wait a moment and try again');
    if (req.query.code.toUpperCase() !== ctx.info.joinCode) throw new HttpError(403, 'unknown join code: ask the instructor for the code that `workshop classroom serve` printed');
    if (ctx.packTarball === undefined || ctx.pack.installed === undefined) throw new HttpError(404, 'this class hands out no pack: its lessons are the built-in ones, or a pack its learners add from where it is published');
    return reply.type('application/gzip').header('content-disposition', `attachment; filename="${ctx.pack.installed.name}.tgz"`).send(ctx.packTarball);
  });

  for (const act of ['remove', 'free'] as const) {
    app.post<{ Params: { id: string } }>(`/api/learners/:id/${act}`, { preHandler: app.instructorOnly, schema: { params: learnerParamsSchema, response: actResponses } }, async (req) => {
      // The page sends JSON; a cross-site form cannot, without a preflight this server never allows.
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send Content-Type: application/json');
      const learner = await ctx.store.actOnLearner(ctx.info.id, Number(req.params.id), act);
      if (!learner) throw new HttpError(404, `no learner ${req.params.id} in this class (removed already?)`);
      return { learner: { id: learner.id, name: learner.name, state: learner.state } };
    });
  }
}
