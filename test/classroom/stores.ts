// The stores every classroom suite runs against. A second implementation adds one entry here
// (for example only when its database URL is set); no test file changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/classroom/store-sqlite.ts';
import type { Store } from '../../src/classroom/store.ts';
import { skipPg } from './pg.ts';
import { pgFactory } from './store-pg-factory.ts';

export interface StoreFactory {
  /** the "store" field of test-results/classroom-load.json */
  name: string;
  /** a fresh, empty database: the value of `workshop classroom serve --db` */
  freshDb(): Promise<string>;
  /** opens a store on such a value (a second open of the same value sees the same data) */
  open(db: string): Promise<Store>;
  /** drops every database freshDb made */
  cleanup(): Promise<void>;
}

function sqliteFactory(): StoreFactory {
  const dirs: string[] = [];
  return {
    name: 'sqlite',
    freshDb: async () => {
      const d = mkdtempSync(join(tmpdir(), 'ws-classdb-'));
      dirs.push(d);
      return join(d, 'classroom.db');
    },
    open: async (db) => new SqliteStore(db),
    cleanup: async () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

// PostgreSQL runs wherever it is installed, and always on CI, where its absence fails (pg.ts).
export const STORES: StoreFactory[] = [sqliteFactory(), ...(skipPg() ? [] : [pgFactory()])];
