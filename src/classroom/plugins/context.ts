// What the server's plugins share: the class, its store and its live model, the limits it serves
// with, and the errors a route answers with. server.ts builds one ClassContext and hands it to each
// plugin as its options.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { JoinGate } from '../gates.ts';
import type { StorageBudget } from '../limits.ts';
import type { LiveClass } from '../live.ts';
import type { Pack } from '../model.ts';
import type { ClassInfo, Store } from '../store.ts';
import type { TokenCache } from '../token-cache.ts';

export interface ClassContext {
  store: Store;
  info: ClassInfo;
  pack: Pack;
  live: LiveClass;
  /** which learner a token names (plugins/auth.ts fills it, a revoked token leaves it) */
  tokens: TokenCache;
  budget: StorageBudget;
  joins: JoinGate;
  /** the folder of dashboard.html, dashboard.js and dashboard.css */
  pageDir: string;
  /** the served pack as a gzipped tar, when its source is on the instructor's machine (GET /api/pack.tgz) */
  packTarball: Buffer | undefined;
  /** the page's cookie is Secure */
  tls: boolean;
  /** the server runs hosted labs (`--labs N`, labs-plugin.ts) */
  labs: boolean;
  /** where a learner's lab recording is kept: labs-plugin.ts sets it; null without labs */
  readonly recordings: { of: (learnerId: number) => string | null };
  /** reports per learner per second, sustained */
  reportsPerSecond: number;
  heartbeatMs: number;
  /** the open SSE streams, ended when the server closes */
  streams: Set<ServerResponse>;
  /** a server-side problem, for the instructor's terminal (made visible() first) */
  log(line: string): void;
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
