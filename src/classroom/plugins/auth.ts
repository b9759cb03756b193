// Who is asking. The instructor holds the class's instructor token (a bearer header, or the
// HttpOnly cookie the instructor URL sets); a learner holds their own bearer token. The plugin
// decorates every request with `instructor` and `learner`, both null until a route's guard
// (app.instructorOnly, app.learnerOnly) has checked the token and set one; a route reads the
// identity from there, never from the headers again.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isToken } from '../identity.ts';
import type { Learner } from '../store.ts';
import { HttpError, type ClassContext } from './context.ts';

/** The instructor, and how the request proved it. */
export interface Instructor {
  via: 'bearer' | 'cookie';
}

/** A learner of this class, and the token that proved it. */
export interface LearnerIdentity {
  learner: Learner;
  token: string;
}

type Guard = (req: FastifyRequest) => Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    /** set by app.instructorOnly; null on every other request */
    instructor: Instructor | null;
    /** set by app.learnerOnly; null on every other request */
    learner: LearnerIdentity | null;
  }
  interface FastifyInstance {
    /** a preHandler: 401 unless the request carries the instructor token */
    instructorOnly: Guard;
    /** a preValidation (before the body is validated): 401 unless the request carries an active learner's token */
    learnerOnly: Guard;
  }
}

export const INSTRUCTOR_COOKIE = 'workshop_instructor';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** Constant-time comparison of two tokens of any length. */
export const sameToken = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** The instructor's bearer token: a token of any shape, up to 200 characters. */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer ([A-Za-z0-9_\-.~+/=]{1,200})$/.exec(h);
  return m?.[1];
}

/** The learner token a request carries, if it has the shape of one. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const t = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  return isToken(t) ? t : undefined;
}

/** The key the report rate limit counts by: the learner's (hashed) token, else the address. */
export function learnerKey(req: FastifyRequest): string {
  const t = bearer(req);
  return t ? `t:${digest(t).toString('hex')}` : `ip:${req.ip}`;
}

/** The learner a guarded route serves (set by app.learnerOnly). */
export function theLearner(req: FastifyRequest): LearnerIdentity {
  if (!req.learner) throw new HttpError(401, 'the learner token is missing or unknown: run `workshop classroom join URL CODE --name NAME` again');
  return req.learner;
}

/** The instructor a request proves itself to be, if it does. */
export function instructorOf(req: FastifyRequest, ctx: ClassContext): Instructor | null {
  const b = bearer(req);
  if (b !== undefined) return sameToken(b, ctx.info.instructorToken) ? { via: 'bearer' } : null;
  const c = req.cookies[INSTRUCTOR_COOKIE];
  return c !== undefined && sameToken(c, ctx.info.instructorToken) ? { via: 'cookie' } : null;
}

async function auth(app: FastifyInstance, ctx: ClassContext): Promise<void> {
  app.decorateRequest('instructor', null);
  app.decorateRequest('learner', null);
  const off = ctx.live.onEvent((e) => {
    if (e.type === 'removed' || e.type === 'freed') ctx.tokens.forgetLearner(e.learnerId);
  });
  app.addHook('onClose', async () => void off());

  app.decorate('instructorOnly', async (req: FastifyRequest) => {
    req.instructor = instructorOf(req, ctx);
    if (!req.instructor) throw new HttpError(401, 'the instructor token is missing or wrong: use the URL that `workshop classroom serve` printed, or Authorization: Bearer TOKEN');
  });
  app.decorate('learnerOnly', async (req: FastifyRequest) => {
    const token = bearerToken(req);
    let learner = token === undefined ? undefined : ctx.tokens.get(token);
    if (token !== undefined && !learner) {
      learner = await ctx.store.learnerByToken(token);
      if (learner) ctx.tokens.set(token, learner);
    }
    if (token === undefined || !learner || learner.classId !== ctx.info.id) throw new HttpError(401, 'the learner token is missing or unknown: run `workshop classroom join URL CODE --name NAME` again');
    req.learner = { learner, token };
  });
}

/** Not encapsulated: its decorations serve every plugin registered after it. */
export const authPlugin = fp(auth, { name: 'workshop-auth' });
