// The learner's inbox (issue 22): what the instructor said to them and the room's hold, as the
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
}

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
  return { messages, hold: o['hold'] === null ? null : o['hold'].slice(0, 200), hand: o['hand'] };
}

function read(home: string): Stored | undefined {
  try {
    const v = JSON.parse(readFileSync(inboxPath(home), 'utf8')) as Record<string, unknown>;
    const inbox = asInbox(v);
    return inbox ? { ...inbox, shown: typeof v['shown'] === 'number' ? v['shown'] : 0 } : undefined;
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
  write(home, { ...inbox, shown: read(home)?.shown ?? 0 });
}

/** Forgets the inbox (`classroom leave`, a new join). */
export function clearInbox(home: string): void {
  rmSync(inboxPath(home), { force: true });
}

/** The step the instructor asked the class to wait at, as last fetched; null when none. */
export const heldAt = (home: string): string | null => read(home)?.hold ?? null;

export const waitLine = (step: string): string => visible(`the instructor asked the class to wait at ${step}`);

const messageLine = (m: Inbox['messages'][number]): string => visible(`message from the instructor (${m.at.slice(11, 16)}): ${shorten(m.text, MAX_TEXT)}`);

/** The messages no command has printed yet, as lines; they count as printed from now on. */
export function newMessages(home: string): string[] {
  const s = read(home);
  if (!s) return [];
  const fresh = s.messages.filter((m) => m.id > s.shown);
  if (fresh.length === 0) return [];
  write(home, { ...s, shown: Math.max(...fresh.map((m) => m.id)) });
  return fresh.map(messageLine);
}

/** For `workshop status` and `watch`: the hold, the hand, the newest messages (marked printed). */
export function inboxLines(home: string, newest = 3): string[] {
  const s = read(home);
  if (!s) return [];
  const lines = [...(s.hold ? [`${waitLine(s.hold)}: you can still read and check`] : []), ...(s.hand ? ['your hand is up: the instructor sees your question'] : []), ...s.messages.slice(-newest).map(messageLine)];
  const top = Math.max(0, ...s.messages.map((m) => m.id));
  if (top > s.shown) write(home, { ...s, shown: top });
  return lines;
}
