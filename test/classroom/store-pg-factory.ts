// The PostgreSQL entry of stores.ts: one throwaway server per test file (pg.ts), started on the
// first freshDb(), and one new database per freshDb().
import { openPgStore } from '../../src/classroom/store-pg.ts';
import { startPg, type ThrowawayPg } from './pg.ts';
import type { StoreFactory } from './stores.ts';

export function pgFactory(): StoreFactory {
  let server: Promise<ThrowawayPg> | undefined;
  let n = 0;
  return {
    name: 'postgres',
    freshDb: async () => {
      server ??= startPg();
      return (await server).createDatabase(`ws_test_${++n}`);
    },
    open: async (db) => openPgStore(db),
    cleanup: async () => {
      const s = server;
      server = undefined;
      if (s) await (await s).destroy();
    },
  };
}
