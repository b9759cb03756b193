// A learner's identity in a class, in one place: the server, both stores, the CLI and (later) the
// hosted labs that bind a VM to a learner all use these definitions. Pure: no imports, so the
// reporter's hot path may load it.
//
// A learner is:
// - `id`: the store's number for them. Events, the dashboard's model and the instructor's actions
//   (remove, free) name a learner by id, never by name, so a name that is freed or reused never
//   inherits someone else's history.
// - a token: the bearer secret the learner's home holds (classroom.json, mode 0600). The server
//   issues it (newToken), the store keeps only its SHA-256, and whoever presents it *is* that
//   learner: it posts their reports and re-joins as them.
// - a display name: what the learner typed, NFKC-normalized, trimmed, inner spaces collapsed.
// - a name key: the display name in lower case. Two names with the same key are the same name,
//   and a class holds at most one learner per key (unless the instructor removed them).
//
// The learner's state: 'active'; 'freed' (the instructor freed the name: the next join under it
// takes over this learner and their progress, with a new token); 'removed' (gone from the class,
// their events deleted; the name is free for someone new).

export type LearnerState = 'active' | 'freed' | 'removed';

export interface LearnerName {
  /** as shown: NFKC, trimmed, one space between words */
  display: string;
  /** what makes two names the same: the display name in lower case */
  key: string;
}

export const NAME_CHARS = 64;
/** 1–64 letters, digits, spaces, dots, underscores and dashes, with at least one letter or digit. */
export const NAME_PATTERN = /^(?=.*[A-Za-z0-9])[A-Za-z0-9 ._-]{1,64}$/;
/** What a name may be before it is normalized: fullwidth and other compatibility forms fold into NAME_PATTERN. */
export const RAW_NAME_CHARS = 256;

/** Control characters (C0, DEL, C1) and Unicode format controls never make a name: refused, not folded. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * The display name and key of what a learner typed; undefined when it is not a name. "Ada
 * Lovelace", "ada  lovelace " and "Ａｄａ Ｌｏｖｅｌａｃｅ" (fullwidth) are one name.
 */
export function learnerName(raw: string): LearnerName | undefined {
  if (raw.length > RAW_NAME_CHARS || CONTROL.test(raw)) return undefined;
  const display = raw.normalize('NFKC').replace(/\s+/g, ' ').trim();
  if (!NAME_PATTERN.test(display)) return undefined;
  return { display, key: display.toLowerCase() };
}

export const TOKEN_BYTES = 24;
/** A token as the server issues it: 24 random bytes in base64url, 32 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export const isToken = (v: unknown): v is string => typeof v === 'string' && TOKEN_PATTERN.test(v);

/** A new secret token from `random` (crypto.randomBytes): 192 bits. */
export function newToken(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(TOKEN_BYTES)).toString('base64url');
}
