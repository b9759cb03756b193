// The JSON schemas of the class API. A report is untrusted input from the network: every field is
// typed, bounded and closed (no additional properties); fastify rejects anything else with a 400.

import { MESSAGE_CHARS, QUESTION_CHARS } from './contract.ts';
import { RAW_NAME_CHARS } from './identity.ts';

export const LIMITS = {
  bodyBytes: 64 * 1024,
  rows: 50,
  rowBytes: 2048,
} as const;
const STEP_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$';

const text = { type: 'string', maxLength: LIMITS.rowBytes } as const;

export const rowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['check', 'status', 'expected', 'actual', 'hint'],
  properties: { check: text, status: { enum: ['pass', 'fail', 'error'] }, expected: text, actual: text, hint: text },
} as const;

export const reportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'step', 'command', 'next', 'outcome', 'rows', 'attempts', 'hints', 'at'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    kind: { enum: ['started', 'attempted', 'passed', 'hinted', 'solved', 'reset', 'left', 'answered', 'asked', 'cleaned', 'drilled'] },
    // '' only for left: the reports route checks which kind may have which
    step: { type: 'string', maxLength: 200, pattern: `${STEP_PATTERN}|^$` },
    command: { enum: ['', 'next', 'check', 'watch', 'learner', 'solve'] },
    next: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 200, pattern: STEP_PATTERN }] },
    outcome: { enum: ['pass', 'fail', 'error', null] },
    rows: { type: 'array', maxItems: LIMITS.rows, items: rowSchema },
    attempts: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    hints: { type: 'integer', minimum: 0, maximum: 1_000 },
    at: { type: 'string', format: 'date-time', maxLength: 40 },
    question: { type: 'string', maxLength: QUESTION_CHARS },
    // drilled only (the reports route checks it): a mutant's name is an identifier of the lesson's
    drill: {
      type: 'object',
      additionalProperties: false,
      required: ['mutant', 'state', 'ms', 'round'],
      properties: {
        mutant: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' },
        state: { enum: ['started', 'fixed', 'gave-up', 'abandoned'] },
        ms: { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 * 1000 },
        round: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }] },
      },
    },
  },
} as const;

const STEP = { type: 'string', maxLength: 200, pattern: STEP_PATTERN } as const;

/** POST /api/messages (the instructor): to one learner by name, to all, or to a common failure's members. */
export const messageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'text'],
  properties: {
    text: { type: 'string', minLength: 1, maxLength: MESSAGE_CHARS },
    to: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['all'], properties: { all: { const: true } } },
        { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: RAW_NAME_CHARS } } },
        { type: 'object', additionalProperties: false, required: ['step', 'check'], properties: { step: STEP, check: { type: 'string', minLength: 1, maxLength: LIMITS.rowBytes } } },
      ],
    },
  },
} as const;

/** POST /api/hold (the instructor) */
export const holdSchema = { type: 'object', additionalProperties: false, required: ['step'], properties: { step: STEP } } as const;

/** The most drills a class round asks of each learner (a learner's own round has as many). */
export const ROUND_DRILLS = 5;

/** POST /api/drill-round (the instructor): a break-it round of the chapter for the whole room (issue 28) */
export const drillRoundSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['chapter'],
  properties: { chapter: { type: 'string', maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' }, drills: { type: 'integer', minimum: 1, maximum: ROUND_DRILLS } },
} as const;

/** The name is normalized and checked by learnerName (identity.ts): fullwidth letters fold into ASCII first. */
export const joinSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name'],
  properties: {
    code: { type: 'string', pattern: '^[A-Za-z0-9]{4,12}$' },
    name: { type: 'string', minLength: 1, maxLength: RAW_NAME_CHARS },
  },
} as const;

/** GET /api/pack.tgz?code=CODE: the served pack, for those who have the join code */
export const packQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code: joinSchema.properties.code },
} as const;

export const learnerParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,12}$' } },
} as const;

export const eventsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { lastEventId: { type: 'string', pattern: '^[0-9]{1,15}$' } },
} as const;

/** GET /api/class/at?t=ISO: the moment to replay the class at */
export const classAtQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['t'],
  properties: { t: { type: 'string', maxLength: 40, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' } },
} as const;

export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { token: { type: 'string', maxLength: 200 }, view: { enum: ['grid', 'projector'] } },
} as const;

// The answers. fastify serializes an object answer by its schema (fast-json-stringify), which
// drops any field the schema does not name: these follow contract.ts field by field, and
// test/unit/classroom-schemas.test.ts proves that a full class goes through unchanged.

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const num = { type: 'number' } as const;
const strings = { type: 'array', items: str } as const;
const activity = { type: 'string', enum: ['active', 'idle', 'stuck', 'finished', 'left'] } as const;

/** An object whose fields are all required but those named in `optional`, which may be left out. */
const object = <P extends Record<string, unknown>>(properties: P, optional: ReadonlyArray<keyof P> = []) =>
  ({ type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties }) as const;

/** Every refusal: 4xx and 5xx alike. */
const errorSchema = object({ error: str });
const errors = { '4xx': errorSchema, '5xx': errorSchema } as const;

/** GET /api/pack.tgz: the bytes of a gzipped tar (a Buffer is sent as it is, not serialized), or a refusal */
export const packResponses = { 200: { type: 'string', contentEncoding: 'binary' }, ...errors } as const;

const reportRowSchema = object({ check: str, status: { type: 'string', enum: ['pass', 'fail', 'error'] }, expected: str, actual: str, hint: str });

const learnerViewSchema = object({
  id: num,
  name: str,
  state: activity,
  access: { type: 'string', enum: ['active', 'freed'] },
  current: strOrNull,
  done: strings,
  solved: strings,
  cells: { type: 'array', items: { type: 'string', enum: ['done', 'solved', 'current', 'failing', 'skipped', 'todo'] } },
  attempts: num,
  hints: num,
  hintsTotal: num,
  stuck: { type: 'boolean' },
  stuckReason: strOrNull,
  stuckFor: num,
  since: str,
  timeOnStepMs: num,
  lastSeen: str,
  failing: { type: 'array', items: object({ check: str, expected: str, actual: str, hint: str }) },
  table: { ...object({ step: str, at: str, rows: { type: 'array', items: reportRowSchema } }), type: ['object', 'null'] },
  hand: { ...object({ question: str, at: str }), type: ['object', 'null'] },
  cleaned: { ...object({ at: str, clean: { type: 'boolean' } }), type: ['object', 'null'] },
});

const drillCellFields = { step: str, mutant: str, state: { type: 'string', enum: ['on', 'fixed', 'gave-up', 'abandoned'] }, seconds: { type: ['number', 'null'] }, attempts: num, hints: num, startedAt: str } as const;
const drillCell = object(drillCellFields);

const classViewFields = {
  steps: { type: 'array', items: object({ id: str, title: str }) },
  learners: { type: 'array', items: learnerViewSchema },
  commonFailures: {
    type: 'array',
    items: object({
      step: str,
      check: str,
      expected: str,
      actual: str,
      count: num,
      learners: strings,
      members: { type: 'array', items: object({ id: num, name: str, actual: str, state: activity, onStepFor: num, attempts: num }) },
      learnerMinutes: num,
    }),
  },
  needsHelp: { type: 'array', items: num },
  passed: { type: 'array', items: num },
  alerts: { type: 'array', items: object({ at: str, learner: strOrNull, limit: str, message: str }) },
  questions: { type: 'array', items: object({ step: str, question: str, answered: num, firstTry: num, learners: { type: 'array', items: object({ name: str, firstTry: { type: 'boolean' } }) } }) },
  hold: { ...object({ step: str, since: str }), type: ['object', 'null'] },
  hands: { type: 'array', items: num },
  messages: { type: 'array', items: object({ id: num, at: str, text: str, label: str, to: strings }) },
  drillRound: { ...object({ id: num, chapter: str, drills: num, seed: num, since: str, learners: { type: 'array', items: object({ name: str, drills: { type: 'array', items: drillCell } }) }, fixedAll: num }), type: ['object', 'null'] },
  lastEventId: num,
  thresholds: object({ idleAfterMs: num, stuckAfterMs: num, stuckAttempts: num }),
  generatedAt: str,
} as const;

/** GET /api/class: a ClassResponse */
export const classResponses = { 200: object({ class: object({ name: str, joinCode: str, labs: { type: 'boolean' } }), ...classViewFields }), ...errors } as const;
/** GET /api/export.json: a ClassExport */
export const exportResponses = { 200: object({ class: str, ...classViewFields }), ...errors } as const;
/** GET /api/export.csv: text/csv, sent as it is */
export const csvResponses = { 200: str, ...errors } as const;
/** GET /api/events: text/event-stream, written by event-stream.ts */
export const eventsResponses = { 200: str, ...errors } as const;
/** GET /: the page (HTML), or a redirect that sets the cookie; a 401 without a token is plain text, sent as it is */
export const pageResponses = { 200: str, 303: { type: 'null' }, ...errors } as const;

export const joinResponses = { '2xx': object({ token: str, name: str, class: str, how: { type: 'string', enum: ['new', 'rejoined', 'claimed'] }, pack: object({ name: str, source: strOrNull }) }, ['pack']), ...errors } as const;
export const reportResponses = { '2xx': object({ stored: { type: 'boolean' }, eventId: num }), ...errors } as const;
export const actResponses = { 200: object({ learner: object({ id: num, name: str, state: { type: 'string', enum: ['active', 'freed', 'removed'] } }) }), ...errors } as const;

/** POST /api/messages: whom it went to */
export const messageResponses = { 201: object({ eventId: num, to: strings }), ...errors } as const;
/** POST /api/hold and /api/release */
export const holdResponses = { 201: object({ eventId: num, hold: strOrNull }), ...errors } as const;
/** GET /api/inbox: an Inbox */
export const inboxResponses = {
  200: object({ messages: { type: 'array', items: object({ id: num, at: str, text: str }) }, hold: strOrNull, hand: { type: 'boolean' }, drill: { ...object({ id: num, chapter: str, drills: num, seed: num }), type: ['object', 'null'] } }),
  ...errors,
} as const;
/** POST /api/drill-round: the round's id (its event) and what it asks */
export const drillRoundResponses = { 201: object({ eventId: num, chapter: str, drills: num }), ...errors } as const;
/** GET /api/grades.json: Grades */
const gradeRow = object({ step: str, by: { type: ['string', 'null'], enum: ['self', 'solve', null] }, firstSeen: strOrNull, passedAt: strOrNull, attempts: num, hints: num });
const gradeSummary = object({ learner: str, state: activity, bySelf: num, bySolve: num, total: num, attempts: num, hints: num, recording: strOrNull });
export const gradesResponses = { 200: object({ class: str, steps: strings, learners: { type: 'array', items: object({ summary: gradeSummary, steps: { type: 'array', items: gradeRow }, answers: { type: 'array', items: object({ step: str, question: str, firstTry: { type: 'boolean' } }) }, drills: { type: 'array', items: object({ ...drillCellFields, round: { type: ['number', 'null'] } }) } }) } }), ...errors } as const;
/** GET /api/history: a ClassHistory */
export const historyResponses = { 200: object({ from: strOrNull, to: str, passes: { type: 'array', items: object({ at: str, step: str }) } }), ...errors } as const;

// ---- the hosted labs' routes (labs-plugin.ts): what each answers, and nothing more ----------------

const labPhase = { type: 'string', enum: ['booting', 'ready', 'stopping', 'stopped'] } as const;
/** POST /lab/api/login */
export const labLoginResponses = { 200: object({ name: str }), ...errors } as const;
/** GET /lab/api/me: { learner: null } before a join from this browser; else the lab, the step and the last report with rows */
export const labMeResponses = {
  200: object(
    {
      learner: { ...object({ id: num, name: str }), type: ['object', 'null'] },
      lab: { anyOf: [object({ kind: { type: 'string', enum: ['full'] }, message: str }), object({ kind: { type: 'string', enum: ['claimed'] }, phase: labPhase })] },
      step: { ...object({ id: str, title: str, html: str }), type: ['object', 'null'] },
      report: { anyOf: [{ type: 'null' }, reportSchema] },
      recorded: { type: 'boolean' },
    },
    ['lab', 'step', 'report', 'recorded'],
  ),
  ...errors,
} as const;
/** POST /lab/api/ticket */
export const labTicketResponses = { 200: object({ ticket: str }), ...errors } as const;
/** GET /lab/api/labs (the instructor) */
export const labListResponses = {
  200: object({
    capacity: num,
    labs: { type: 'array', items: object({ vm: str, learner: strOrNull, name: strOrNull, phase: labPhase, bootMs: { type: ['number', 'null'] }, lastActive: num, attached: { type: 'boolean' }, takenOver: { type: 'boolean' } }) },
    log: { type: 'array', items: object({ at: str, learner: str, what: str }) },
  }),
  ...errors,
} as const;
/** GET /lab/api/labs/:learner/timeline */
export const labTimelineResponses = {
  200: object({ timeline: { type: 'array', items: object({ t: num, kind: { type: 'string', enum: ['command', 'check'] }, label: str, outcome: { type: 'string', enum: ['pass', 'fail', 'error'] }, commands: strings }, ['outcome', 'commands']) } }),
  ...errors,
} as const;
/** POST /lab/api/labs/:learner/reset */
export const labResetResponses = { 200: object({ reset: { type: 'string', enum: ['base', 'step'] }, step: str, code: { type: ['number', 'null'] } }, ['step', 'code']), ...errors } as const;
