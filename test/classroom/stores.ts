// The stores every classroom suite runs against. A second implementation adds one entry here
// (for example only when its database URL is set); no test file changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/classroom/store-sqlite.ts';
import { learnerName } from '../../src/classroom/identity.ts';
import type { StorageBudget } from '../../src/classroom/limits.ts';
import type { Learner, Report, Store } from '../../src/classroom/store.ts';
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

/** A budget no test reaches unless it means to. */
export const BIG_BUDGET: StorageBudget = { learnerBytes: 2 ** 40, classBytes: 2 ** 40 };

/** A new learner `name` in the class of `code`; throws if the store says otherwise. */
export async function joinNew(s: Store, code: string, name: string, budget: StorageBudget = BIG_BUDGET): Promise<{ learner: Learner; token: string }> {
  const n = learnerName(name);
  if (!n) throw new Error(`not a name: ${name}`);
  const out = await s.join(code, n, undefined, budget);
  if (out.kind !== 'joined' || out.how !== 'new') throw new Error(`join ${name}: ${out.kind}`);
  return { learner: out.learner, token: out.token };
}

/** insertReport for the tests that only store: stored or duplicate, anything else throws. */
export async function insert(s: Store, token: string, r: Report, budget: StorageBudget = BIG_BUDGET): Promise<{ stored: boolean; eventId: number }> {
  const out = await s.insertReport(token, r, budget);
  if (out.kind === 'stored') return { stored: true, eventId: out.eventId };
  if (out.kind === 'duplicate') return { stored: false, eventId: out.eventId };
  throw new Error(`report not stored: ${out.kind}`);
}
