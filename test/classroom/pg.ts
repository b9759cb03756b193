// A throwaway PostgreSQL server for the classroom tests: Debian's postgresql 15 binaries, a
// cluster in a temporary folder, owned by the postgres user when we are root, listening on a
// free port of 127.0.0.1 only, with its unix socket inside that folder. Nothing of the machine's
// own clusters (/var/lib/postgresql) is read or touched.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Debian installs each major under /usr/lib/postgresql/N/bin; prefer 15 (bookworm's), then the newest. */
function findBinDir(root: string): string | undefined {
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => (a === 15 ? -1 : b === 15 ? 1 : b - a));
  for (const m of majors) {
    const bin = join(root, String(m), 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

export type PgSupport = { ok: true; bin: string } | { ok: false; reason: string };

/**
 * Whether the PostgreSQL tests can run here. On a learner's machine without PostgreSQL they are
 * skipped with this reason; on CI (CI=true) provision.sh installs it, so its absence is a failure.
 */
export function pgSupport(root = '/usr/lib/postgresql'): PgSupport {
  const bin = findBinDir(root);
  if (bin !== undefined) return { ok: true, bin };
  return {
    ok: false,
    reason:
      `PostgreSQL is not installed (no ${root}/*/bin/initdb): the PostgreSQL classroom tests are skipped. ` +
      'Install it with: sudo WORKSHOP_CLASSROOM_PG=1 bash vagrant/provision.sh',
  };
}

/** True when the PG suite must be skipped; on CI a missing PostgreSQL fails instead (see startPg). */
export function skipPg(s: PgSupport = pgSupport(), env: NodeJS.ProcessEnv = process.env): boolean {
  if (s.ok) return false;
  if (env['CI'] === 'true') return false; // startPg throws, and the suite fails loudly
  console.warn(`skip: ${s.reason}`);
  return true;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface ThrowawayPg {
  readonly port: number;
  readonly dir: string;
  /** A URL for a database of this server (default: postgres). */
  url(db?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server: `fast` disconnects clients cleanly, `immediate` is a crash (recovery on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops and starts again on the same port, the way an operator's restart (or a crash) looks to clients. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

export async function startPg(): Promise<ThrowawayPg> {
  const s = pgSupport();
  if (!s.ok) throw new Error(s.reason);
  const bin = s.bin;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'ws-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (asRoot) {
    // initdb refuses to run as root: the cluster belongs to the postgres user, like Debian's own.
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(sock, uid, gid);
  }
  const pgRun = async (tool: string, args: string[]): Promise<void> => {
    const file = join(bin, tool);
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      await run(cmd, argv, { cwd: dir, timeout: 60_000 });
    } catch (e) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${tool} ${args.join(' ')} failed: ${String(e)}\n${log}`);
    }
  };

  let destroyed = false;
  let port = 0;
  try {
    await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    port = await freePort();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // Loopback only; max_connections covers two instances' pools and listeners plus the tests.
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c max_connections=200`;
  const start = async (): Promise<void> => {
    await pgRun('pg_ctl', ['start', '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', opts]);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await pgRun('pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '60']);
  };
  const url = (db = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${db}`;
  try {
    await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    dir,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop,
    start,
    async restart(mode = 'fast') {
      await stop(mode);
      await start();
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        if (existsSync(join(data, 'postmaster.pid'))) await stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
