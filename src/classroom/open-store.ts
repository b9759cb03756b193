// Which Store a `--db` value means. A file path (the default WORKSHOP_HOME/classroom.db) is
// node:sqlite; a postgres:// URL is the PostgreSQL store. Each implementation is imported only
// when it is chosen, so sqlite users never load `pg`.
import { join } from 'node:path';
import { usageError } from '../errors.ts';
import { checkSqlitePath } from './sqlite-file.ts';
import type { Store } from './store.ts';

export const defaultDbPath = (home: string): string => join(home, 'classroom.db');

/** The kinds of --db, tried in order; the first whose `matches` accepts the value opens it. */
export const STORE_KINDS: ReadonlyArray<{ name: string; matches: (db: string) => boolean; open: (db: string) => Promise<Store> }> = [
  { name: 'postgres', matches: (d) => /^postgres(ql)?:\/\//i.test(d), open: async (d) => (await import('./store-pg.ts')).openPgStore(d) },
  {
    name: 'sqlite',
    matches: (d) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(d),
    open: async (d) => {
      checkSqlitePath(d);
      return new (await import('./store-sqlite.ts')).SqliteStore(d);
    },
  },
];

export async function openStore(db: string): Promise<Store> {
  const kind = STORE_KINDS.find((k) => k.matches(db));
  if (!kind) throw usageError(`--db ${db.replace(/\/\/[^@/]*@/, '//…@')}: no store for that kind of address`, `use a file path (SQLite)${STORE_KINDS.length > 1 ? ` or ${STORE_KINDS.filter((k) => k.name !== 'sqlite').map((k) => k.name).join(', ')}` : ''}`);
  return kind.open(db);
}

