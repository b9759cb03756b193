// The learners of a class over HTTP: POST /api/join (a learner), and the instructor's acts on a
// learner, POST /api/learners/:id/remove and /free. identity.ts says what a learner is.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isToken, learnerName } from './identity.ts';
import type { JoinGate } from './gates.ts';
import { formatSize, type StorageBudget } from './limits.ts';
import { joinSchema, learnerParamsSchema } from './schemas.ts';
import type { ClassInfo, JoinOutcome, Store } from './store.ts';

/** What these routes share with the server (server.ts). */
export interface ServerContext {
  store: Store;
  info: ClassInfo;
  budget: StorageBudget;
  joins: JoinGate;
  instructorOnly: (req: FastifyRequest) => Promise<void>;
  joinRefused(per: 'address' | 'class'): void;
  /** a storage budget was reached: a learner's (their id), or the class's (null) */
  storageFull(learnerId: number | null): void;
}

/** The 4xx of a refused request; the error handler sends its message. */
export class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** A 429 that says when to try again (whole seconds, at least 1). */
export function tooMany(reply: FastifyReply, waitMs: number, message: string): FastifyReply {
  return reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000)))).send({ error: message });
}

const JOIN_STATUS: Record<'new' | 'rejoined' | 'claimed', number> = { new: 201, claimed: 201, rejoined: 200 };

function nameTaken(display: string): string {
  return (
    `the name "${display}" is taken in this class. If it is yours, join from the home that joined first; ` +
    `if your VM was rebuilt, ask the instructor to free it (\`workshop classroom free "${display}"\`). Otherwise pick another --name.`
  );
}

export function registerLearnerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: { code: string; name: string } }>(
    '/api/join',
    {
      schema: { body: joinSchema },
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
          return reply.code(JOIN_STATUS[out.how]).send({ token: out.token, name: out.learner.name, class: ctx.info.name, how: out.how });
      }
    },
  );

  for (const act of ['remove', 'free'] as const) {
    app.post<{ Params: { id: string } }>(`/api/learners/:id/${act}`, { preHandler: ctx.instructorOnly, schema: { params: learnerParamsSchema } }, async (req) => {
      // The page sends JSON; a cross-site form cannot, without a preflight this server never allows.
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send Content-Type: application/json');
      const learner = await ctx.store.actOnLearner(ctx.info.id, Number(req.params.id), act);
      if (!learner) throw new HttpError(404, `no learner ${req.params.id} in this class (removed already?)`);
      return { learner: { id: learner.id, name: learner.name, state: learner.state } };
    });
  }
}

/** The learner token a request carries, if it has the shape of one. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const t = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  return isToken(t) ? t : undefined;
}
