// A SQLite --db as a file: what it must be before SQLite opens it, and what SQLite's errors on
// it mean to the instructor. No node:sqlite here: serve.ts uses this for PostgreSQL too.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { envError, usageError, WorkshopError } from '../errors.ts';
import { visible } from './safe-text.ts';

const NEW_DB_HINT = 'pass the classroom.db of a class, or the name of a new file: `workshop classroom serve --db FILE` creates it';

/**
 * A SQLite --db must be a regular file, or a name a regular file can be created at. SQLite itself
 * opens whatever it is given: /dev/null (and leaves /dev/null-journal behind), a FIFO (and waits
 * for a writer for ever), a folder. Its WAL and journal files are checked too.
 */
export function checkSqlitePath(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    let st;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch (err) {
      throw fsProblem(file, err);
    }
    if (st === undefined || st.isFile()) continue;
    const what = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw usageError(`--db ${visible(file)}: ${path === file ? 'it' : visible(path)} is ${what}, not a regular file`, NEW_DB_HINT);
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw fsProblem(file, err);
  }
}

function fsProblem(file: string, err: unknown): WorkshopError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  // mkdir -p of a folder whose name a file has: EEXIST; a path through a file: ENOTDIR
  if (code === 'ENOTDIR' || code === 'EEXIST') return usageError(`--db ${visible(file)}: a part of that path is a file, not a folder`, NEW_DB_HINT);
  return envError(`--db ${visible(file)}: ${code}`, code === 'EACCES' || code === 'EPERM' ? 'run as root, or pick a folder you can write to' : code === 'ENOSPC' ? 'the disk is full: make room, or pick another disk' : 'check the path and its folder');
}

/** SQLite's primary result codes that a user can cause (sqlite3.h). */
const SQLITE = { perm: 3, busy: 5, locked: 6, readonly: 8, ioerr: 10, corrupt: 11, full: 13, cantopen: 14, notadb: 26 } as const;

/**
 * What went wrong opening or reading a SQLite --db, as a WorkshopError: a file that is not a class
 * database is a usage error (exit 2), one that cannot be read or written an environment one (3).
 * Anything else is returned as it was: a bug.
 */
export function sqliteProblem(file: string, err: unknown): unknown {
  if (err instanceof WorkshopError) return err;
  const e = err as { code?: unknown; errcode?: unknown; errstr?: unknown; message?: unknown };
  if (e.code === 'WS_NEWER_SCHEMA') return envError(`--db ${visible(file)}: ${String(e.message)}`, 'a newer workshop has migrated it: upgrade workshop here too');
  if (e.code !== 'ERR_SQLITE_ERROR') return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? fsProblem(file, err) : err;
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : -1;
  const why = typeof e.errstr === 'string' ? e.errstr : String(e.message);
  switch (primary) {
    case SQLITE.notadb:
      return usageError(`--db ${visible(file)}: not a SQLite database`, NEW_DB_HINT);
    case SQLITE.corrupt:
      return usageError(`--db ${visible(file)}: the database is damaged (${why})`, 'restore it from a copy, or start a new class with another --db (`sqlite3 FILE .recover` may save what is in it)');
    case SQLITE.cantopen:
      return envError(`--db ${visible(file)}: cannot open or create it (${why})`, 'its folder must exist and be writable, on a file system that holds ordinary files');
    case SQLITE.full:
      return envError(`--db ${visible(file)}: the disk is full`, 'make room, or pick another disk');
    case SQLITE.busy:
    case SQLITE.locked:
      return envError(`--db ${visible(file)}: another process holds it (${why})`, 'is another `workshop classroom serve` running on it?');
    case SQLITE.perm:
    case SQLITE.readonly:
    case SQLITE.ioerr:
      return envError(`--db ${visible(file)}: ${why}`, 'check the file and its folder: writable, and on a disk that works');
    default:
      return envError(`--db ${visible(file)}: ${why}`, 'check the file, or start a new class with another --db');
  }
}
