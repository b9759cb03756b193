// The JSON schemas of the class API. A report is untrusted input from the network: every field is
// typed, bounded and closed (no additional properties); fastify rejects anything else with a 400.

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
    kind: { enum: ['started', 'attempted', 'passed', 'hinted', 'solved', 'reset'] },
    step: { type: 'string', maxLength: 200, pattern: STEP_PATTERN },
    command: { enum: ['', 'next', 'check', 'watch', 'learner', 'solve'] },
    next: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 200, pattern: STEP_PATTERN }] },
    outcome: { enum: ['pass', 'fail', 'error', null] },
    rows: { type: 'array', maxItems: LIMITS.rows, items: rowSchema },
    attempts: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    hints: { type: 'integer', minimum: 0, maximum: 1_000 },
    at: { type: 'string', format: 'date-time', maxLength: 40 },
  },
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

export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { token: { type: 'string', maxLength: 200 } },
} as const;
