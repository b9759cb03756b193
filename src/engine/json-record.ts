// A small JSON record in the home, apart from state.json (issue 28): drills.json and answers.json.
// One way to read, parse and change them: a file that is not one is refused with the way out
// (it holds no progress, so removing it is safe), and a change runs under the workspace lock on
// a fresh read, then is written atomically. Free of heavy imports: `next`, `hint` and `status` read them.
import { existsSync, readFileSync } from 'node:fs';
import { withLock } from '../sys/lock.ts';
import { envError } from '../errors.ts';
import { writeJsonAtomic } from './progress.ts';
import { workspace } from './workspace.ts';

export interface RecordKind<B> {
  path: (home: string) => string;
  empty: () => B;
  /** the record in a parsed file, or undefined when the file is not one */
  accept: (v: unknown) => B | undefined;
  /** what the refusal names: `a drill record` */
  what: string;
  /** the way out: `it holds only drills, not your progress: remove it (rm PATH) and …`; PATH is replaced */
  wayOut: string;
  /** said when a write fails: `the drill was not recorded` */
  lost: string;
}

/** Pure: the record in a file's text; a file that is not one is refused with the way out. */
export function parseRecord<B>(kind: RecordKind<B>, text: string, path: string): B {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const book = kind.accept(v);
  if (book === undefined) throw envError(`${path} is not ${kind.what} workshop can read`, kind.wayOut.replaceAll('PATH', path));
  return book;
}

/** The record in the home, or an empty one when there is none yet. */
export function readRecord<B>(kind: RecordKind<B>, home: string): B {
  const path = kind.path(home);
  if (!existsSync(path)) return kind.empty();
  return parseRecord(kind, readFileSync(path, 'utf8'), path);
}

/** Changes the record under the workspace lock, on a fresh read, and writes it atomically. */
export function changeRecord<B, T>(kind: RecordKind<B>, home: string, command: string, fn: (book: B) => T): Promise<T> {
  return withLock(workspace(home).lockPath, command, () => {
    const book = readRecord(kind, home);
    const out = fn(book);
    writeJsonAtomic(kind.path(home), book, kind.lost);
    return Promise.resolve(out);
  });
}
