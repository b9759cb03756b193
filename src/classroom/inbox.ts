// The learner's inbox (issue 22): what the instructor said to them, the room's hold and its drill round (issue 28), as the
// sender last fetched it (GET /api/inbox) into WORKSHOP_HOME/classroom-inbox.json. Commands read
// it from disk, so no learner command waits on the network. Everything in it came from the
// network: checked and bounded on the way in, and printed through visible(). Only node:fs here.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inbox } from './contract.ts';
import { shorten, visible } from './safe-text.ts';

export const inboxPath = (home: string): string => join(home, 'classroom-inbox.json');

interface Stored extends Inbox {
  /** the newest message id a command has printed */
  shown: number;
  /** the newest drill round a command has announced, and the newest the learner started (`drill --class`) */
  roundShown: number;
  roundTaken: number;
}

type Round = NonNullable<Inbox['drill']>;

const MAX_MESSAGES = 50;
const MAX_TEXT = 1000;

/** A server's answer as an Inbox, or undefined when it is not one. */
export function asInbox(v: unknown): Inbox | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o['messages']) || !(o['hold'] === null || typeof o['hold'] === 'string') || typeof o['hand'] !== 'boolean') return undefined;
  const messages: Inbox['messages'] = [];
  for (const m of o['messages'].slice(-MAX_MESSAGES) as unknown[]) {
    const x = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    if (typeof x['id'] !== 'number' || !Number.isSafeInteger(x['id']) || typeof x['text'] !== 'string' || typeof x['at'] !== 'string') return undefined;
    messages.push({ id: x['id'], at: x['at'].slice(0, 40), text: x['text'].slice(0, MAX_TEXT) });
  }
  const drill = asRound(o['drill']);
  if (drill === undefined) return undefined;
  return { messages, hold: o['hold'] === null ? null : o['hold'].slice(0, 200), hand: o['hand'], drill };
}

const whole = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** The round as the server sent it: null for none (or from a server before issue 28), undefined when malformed. */
function asRound(v: unknown): Round | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const chapter = o['chapter'];
  if (!whole(o['id'], 1, Number.MAX_SAFE_INTEGER) || typeof chapter !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(chapter) || !whole(o['drills'], 1, 5) || !whole(o['seed'], 0, 2 ** 32)) return undefined;
  return { id: o['id'], chapter, drills: o['drills'], seed: o['seed'] };
}

function read(home: string): Stored | undefined {
  try {
    const v = JSON.parse(readFileSync(inboxPath(home), 'utf8')) as Record<string, unknown>;
    const inbox = asInbox(v);
    const num = (k: string): number => (typeof v[k] === 'number' ? v[k] : 0);
    return inbox ? { ...inbox, shown: num('shown'), roundShown: num('roundShown'), roundTaken: num('roundTaken') } : undefined;
  } catch {
    return undefined;
  }
}

function write(home: string, s: Stored): void {
  const path = inboxPath(home);
  try {
    writeFileSync(`${path}.tmp`, JSON.stringify(s), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  } catch {
    // best effort: the next poll writes it again
  }
}

/** The sender saves what it fetched; what commands have printed already stays printed. */
export function saveInbox(home: string, inbox: Inbox): void {
  const before = read(home);
  write(home, { ...inbox, shown: before?.shown ?? 0, roundShown: before?.roundShown ?? 0, roundTaken: before?.roundTaken ?? 0 });
}

/** Forgets the inbox (`classroom leave`, a new join). */
export function clearInbox(home: string): void {
  rmSync(inboxPath(home), { force: true });
}

/** The step the instructor asked the class to wait at, as last fetched; null when none. */
export const heldAt = (home: string): string | null => read(home)?.hold ?? null;

export const waitLine = (step: string): string => visible(`the instructor asked the class to wait at ${step}`);

const messageLine = (m: Inbox['messages'][number]): string => visible(`message from the instructor (${m.at.slice(11, 16)}): ${shorten(m.text, MAX_TEXT)}`);

/** The room's drill round the learner has not started yet (`workshop drill --class`), if any. */
export function openRound(home: string): Round | undefined {
  const s = read(home);
  return s?.drill && s.drill.id > s.roundTaken ? s.drill : undefined;
}

/** `workshop drill --class` started the round: commands stop offering it. */
export function takeRound(home: string, id: number): void {
  const s = read(home);
  if (s) write(home, { ...s, roundTaken: Math.max(s.roundTaken, id), roundShown: Math.max(s.roundShown, id) });
}

const roundLine = (r: Round): string => `the instructor started a break-it round on ${r.chapter} (${r.drills} drill(s)): \`workshop drill --class\` starts it`;

/** The messages and the drill round no command has printed yet, as lines; they count as printed from now on. */
export function newMessages(home: string): string[] {
  const s = read(home);
  if (!s) return [];
  const fresh = s.messages.filter((m) => m.id > s.shown);
  const round = s.drill && s.drill.id > Math.max(s.roundShown, s.roundTaken) ? s.drill : undefined;
  if (fresh.length === 0 && !round) return [];
  write(home, { ...s, shown: Math.max(s.shown, ...fresh.map((m) => m.id)), roundShown: Math.max(s.roundShown, round?.id ?? 0) });
  return [...fresh.map(messageLine), ...(round ? [roundLine(round)] : [])];
}

/** For `workshop status` and `watch`: the hold, the hand, the open drill round, the newest messages (marked printed). */
export function inboxLines(home: string, newest = 3): string[] {
  const s = read(home);
  if (!s) return [];
  const round = s.drill && s.drill.id > s.roundTaken ? s.drill : undefined;
  const lines = [...(s.hold ? [`${waitLine(s.hold)}: you can still read and check`] : []), ...(s.hand ? ['your hand is up: the instructor sees your question'] : []), ...(round ? [roundLine(round)] : []), ...s.messages.slice(-newest).map(messageLine)];
  const top = Math.max(0, ...s.messages.map((m) => m.id));
  if (top > s.shown || (round && round.id > s.roundShown)) write(home, { ...s, shown: Math.max(top, s.shown), roundShown: Math.max(s.roundShown, round?.id ?? 0) });
  return lines;
}
