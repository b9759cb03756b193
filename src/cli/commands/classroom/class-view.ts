// GET /api/class as the instructor's terminal reads it: the server may be any server the
// instructor pointed --url at, so its answer is checked field by field before anything is drawn
// from it, and every string is printed through visible().
import { envError } from '../../../errors.ts';
import type { ClassResponse } from '../../../classroom/contract.ts';

/** The class server's contract (classroom/contract.ts), once checked. */
export type ClassAnswer = ClassResponse;

type Check = (v: unknown, at: string) => void;

class Malformed extends Error {}

const fail = (at: string, what: string): never => {
  throw new Malformed(`${at} is not ${what}`);
};
const str: Check = (v, at) => void (typeof v === 'string' || fail(at, 'a string'));
const strOrNull: Check = (v, at) => void (v === null || typeof v === 'string' || fail(at, 'a string or null'));
const num: Check = (v, at) => void ((typeof v === 'number' && Number.isFinite(v)) || fail(at, 'a number'));
const bool: Check = (v, at) => void (typeof v === 'boolean' || fail(at, 'true or false'));
const arrayOf =
  (item: Check, max = 100_000): Check =>
  (v, at) => {
    if (!Array.isArray(v) || v.length > max) fail(at, `a list of at most ${max}`);
    (v as unknown[]).forEach((x, i) => item(x, `${at}[${i}]`));
  };
const object =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'an object');
    for (const [k, check] of Object.entries(fields)) check((v as Record<string, unknown>)[k], `${at}.${k}`);
  };
const optional =
  (check: Check): Check =>
  (v, at) => {
    if (v !== undefined) check(v, at);
  };

const row = object({ check: str, expected: str, actual: str, hint: str });
const learner = object({
  name: str,
  current: strOrNull,
  done: arrayOf(str),
  attempts: num,
  hints: num,
  stuck: bool,
  stuckReason: strOrNull,
  lastSeen: str,
  failing: arrayOf(row),
  // from servers that know identities (older ones have neither)
  id: optional(num),
  state: optional(str),
  access: optional(str),
});
const drillCell = object({ step: str, mutant: str, state: str, seconds: (v, at) => void (v === null || num(v, at)), attempts: num, hints: num, startedAt: str });
const drillRound = object({ id: num, chapter: str, drills: num, seed: num, since: str, learners: arrayOf(object({ name: str, drills: arrayOf(drillCell) })), fixedAll: num });
const answer = object({
  class: object({ name: str, joinCode: str }),
  steps: arrayOf(object({ id: str, title: str })),
  learners: arrayOf(learner),
  commonFailures: arrayOf(object({ step: str, check: str, expected: str, actual: str, count: num, learners: arrayOf(str) })),
  alerts: optional(arrayOf(object({ at: str, message: str }))),
  // from servers that know break-it rounds (issue 28)
  drillRound: optional((v, at) => {
    if (v !== null) drillRound(v, at);
  }),
});

/** The answer of GET /api/class, checked; an environment error (exit 3) when it is not one. */
export function decodeClassView(text: string, origin: string): ClassAnswer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw envError(`the server at ${origin} did not answer with JSON`, 'is --url the class server (`workshop classroom serve`)?');
  }
  try {
    answer(v, 'the answer');
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    throw envError(`the server at ${origin} did not answer with a class: ${err.message}`, 'is --url the class server, and the same version of workshop?');
  }
  const a = v as ClassAnswer;
  return { ...a, alerts: a.alerts ?? [], drillRound: a.drillRound ?? null };
}
