// `workshop classroom serve`: the class server for the lesson pack, until Ctrl-C. It prints the
// instructor URL (with the token) and the join code, and leaves them in
// WORKSHOP_HOME/classroom-server.json (mode 0600) for `classroom status` and `export`.
import { closeSync, lstatSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { envError, usageError, WorkshopError } from '../../../errors.ts';
import { DEFAULT_BUDGET, DEFAULT_JOIN_LIMITS, type JoinLimits, type StorageBudget } from '../../../classroom/limits.ts';
import { defaultDbPath, openStore, STORE_KINDS } from '../../../classroom/open-store.ts';
import { readPack } from '../../../classroom/pack.ts';
import type { ServedPack } from '../../../classroom/model.ts';
import { isLocalSource, packTarball } from '../../../engine/pack-install.ts';
import { installed, packDir } from '../../../engine/packs.ts';
import { shorten, visible } from '../../../classroom/safe-text.ts';
import { sqliteProblem } from '../../../classroom/sqlite-file.ts';
import { flagString, projectRoot, type Cli } from '../../cli.ts';
import { parseCount, parseDuration, parseHost, parseSizeFlag, writableHome } from './flags.ts';
import { LAB_FLAGS, labFlags, labsBanner, labsConfig } from './labs-flags.ts';
import { writeOut } from '../../output.ts';
import { defineCommand } from '../../command.ts';

export const serverInfoPath = (home: string): string => join(home, 'classroom-server.json');

/** Whether a path is there: false too when a part of it is a file (ENOTDIR) or cannot be read. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The addresses a learner's VM may use to reach this machine: every non-loopback IPv4. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

/** A PEM file: a regular file (a FIFO would block, /dev/zero never end) of at most 1 MiB. */
function readPem(flag: string, path: string): Buffer {
  let fd: number | undefined;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw usageError(`--${flag} ${visible(path)}: not a regular file`, 'pass the PEM file itself');
    if (st.size > 2 ** 20) throw usageError(`--${flag} ${visible(path)}: ${st.size} bytes is not a PEM certificate or key`, 'pass the PEM file itself');
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof WorkshopError) throw err;
    throw usageError(`--${flag} ${visible(path)}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The certificate and key must parse and belong together: https.createServer would throw deep in fastify. */
async function readTls(certPath: string, keyPath: string): Promise<{ cert: Buffer; key: Buffer }> {
  const cert = readPem('tls-cert', certPath);
  const key = readPem('tls-key', keyPath);
  const { createSecureContext } = await import('node:tls');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const why = visible(shorten(err instanceof Error ? err.message : String(err), 200));
    throw usageError(`--tls-cert ${visible(certPath)} --tls-key ${visible(keyPath)}: not a certificate and its private key in PEM (${why})`, 'make a pair with: openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj /CN=HOST');
  }
  return { cert, key };
}

function budgetFlags(cli: Cli): StorageBudget {
  const learner = flagString(cli.flags, 'learner-storage');
  const cls = flagString(cli.flags, 'class-storage');
  return {
    learnerBytes: learner === undefined ? DEFAULT_BUDGET.learnerBytes : parseSizeFlag('learner-storage', learner, 64 * 1024),
    classBytes: cls === undefined ? DEFAULT_BUDGET.classBytes : parseSizeFlag('class-storage', cls, 1024 * 1024),
  };
}

function joinLimitFlags(cli: Cli): JoinLimits {
  const perAddress = flagString(cli.flags, 'joins-per-address');
  const perClass = flagString(cli.flags, 'joins-per-class');
  return {
    perAddress: perAddress === undefined ? DEFAULT_JOIN_LIMITS.perAddress : { ...DEFAULT_JOIN_LIMITS.perAddress, capacity: parseCount('joins-per-address', perAddress, 1, 1_000_000) },
    perClass: perClass === undefined ? DEFAULT_JOIN_LIMITS.perClass : { ...DEFAULT_JOIN_LIMITS.perClass, capacity: parseCount('joins-per-class', perClass, 1, 1_000_000) },
  };
}

/** Why the server did not start, for the instructor: the address, or the database. */
function startProblem(err: unknown, host: string, port: number, db: string, sqlite: boolean): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return envError(`port ${port} on ${host} is in use`, 'pick another with --port, or stop the other server');
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') return envError(`cannot listen on ${host}:${port} (${code})`, 'check --host and --port: the address must be one of this machine (ip -br addr)');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') return usageError(`--host ${visible(host)}: no such address (${code})`, 'an address of this machine, like 0.0.0.0 (every interface), 127.0.0.1 or 192.168.56.1');
  return sqlite ? sqliteProblem(db, err) : err;
}

/**
 * `--pack NAME`: an installed pack, served by name, so that a learner who joins is told how to add
 * it: from where it was published, or, when that was a place on this machine, from this server.
 */
async function servedPack(cli: Cli): Promise<{ dir: string; pack: ServedPack; tarball?: Buffer } | undefined> {
  const name = flagString(cli.flags, 'pack');
  if (name === undefined) return undefined;
  if (flagString(cli.flags, 'lessons') !== undefined) throw usageError('--pack and --lessons both name the lessons to serve', 'give one of them');
  const record = installed(cli.home, name);
  const dir = packDir(cli.home, name);
  if (!isLocalSource(record)) return { dir, pack: { name, source: record.source } };
  return { dir, pack: { name, source: null }, tarball: await packTarball(cli.home, name) };
}

async function serve(cli: Cli): Promise<number> {
  if (cli.positionals.length > 0) throw usageError(`too many arguments: ${visible(cli.positionals.join(' '))}`, 'usage: workshop classroom serve [--host H] [--port P] ...');
  const host = parseHost(flagString(cli.flags, 'host') ?? '0.0.0.0');
  const port = parseCount('port', flagString(cli.flags, 'port') ?? '7878', 0, 65535);
  const db = flagString(cli.flags, 'db') ?? defaultDbPath(cli.home);
  const idleAfterMs = parseDuration('idle-after', flagString(cli.flags, 'idle-after') ?? '5m');
  const stuckAfterMs = parseDuration('stuck-after', flagString(cli.flags, 'stuck-after') ?? '3m');
  const stuckAttempts = parseCount('stuck-attempts', flagString(cli.flags, 'stuck-attempts') ?? '3', 1, 1000);
  const budget = budgetFlags(cli);
  const joinLimits = joinLimitFlags(cli);
  const certPath = flagString(cli.flags, 'tls-cert');
  const keyPath = flagString(cli.flags, 'tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw usageError('--tls-cert and --tls-key go together');
  const tls = certPath !== undefined && keyPath !== undefined ? await readTls(certPath, keyPath) : undefined;
  const served = await servedPack(cli);
  const pack = { ...readPack(served?.dir ?? cli.lessonsDir), ...(served ? { installed: served.pack } : {}) };
  writableHome(cli.home);
  const lab = labFlags(cli.flags);
  const labs = lab === undefined ? undefined : await labsConfig(cli, lab);

  const sqlite = STORE_KINDS.find((k) => k.matches(db))?.name === 'sqlite';
  // the database files this run creates are removed again if the server does not start
  const created = sqlite ? [db, `${db}-wal`, `${db}-shm`, `${db}-journal`].filter((f) => !exists(f)) : [];
  const forgetCreated = (): void => {
    for (const f of created) if (exists(f)) rmSync(f, { force: true });
  };
  let store;
  try {
    store = await openStore(db);
  } catch (err) {
    forgetCreated();
    throw err;
  }
  const { startServer } = await import('../../../classroom/server.ts');
  let server;
  try {
    server = await startServer({
      store,
      pack,
      className: 'default',
      host,
      port,
      thresholds: { idleAfterMs, stuckAfterMs, stuckAttempts },
      budget,
      joinLimits,
      pageDir: join(projectRoot(), 'src', 'classroom', 'page'),
      ...(tls ? { tls } : {}),
      ...(labs ? { labs } : {}),
      ...(served?.tarball ? { packTarball: served.tarball } : {}),
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    forgetCreated();
    throw startProblem(err, host, port, db, sqlite);
  }
  const scheme = tls ? 'https' : 'http';
  const wildcard = host === '0.0.0.0' || host === '::';
  const lan = wildcard ? lanAddresses() : [];
  const shownHost = wildcard ? (lan[0] ?? '127.0.0.1') : host.includes(':') ? `[${host}]` : host;
  const origin = `${scheme}://${shownHost}:${server.port}`;
  const url = `${origin}/?token=${server.info.instructorToken}`;
  try {
    writeFileSync(serverInfoPath(cli.home), `${JSON.stringify({ url, origin, localOrigin: wildcard ? `${scheme}://127.0.0.1:${server.port}` : origin, instructorToken: server.info.instructorToken, joinCode: server.info.joinCode, port: server.port, pid: process.pid })}\n`, { mode: 0o600 });
  } catch (err) {
    await server.close();
    await store.close();
    rmSync(serverInfoPath(cli.home), { force: true });
    throw envError(`cannot write ${serverInfoPath(cli.home)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'the home must be writable, on a disk with room');
  }

  if (cli.json) writeOut(`${JSON.stringify({ url, instructorToken: server.info.instructorToken, joinCode: server.info.joinCode, port: server.port })}\n`);
  else {
    cli.out(`Class server: ${pack.steps.length} steps of ${served ? `the pack ${served.pack.name}` : cli.lessonsDir}, database ${db.replace(/\/\/[^@/]*@/, '//…@')}`);
    cli.out('');
    cli.out('Instructor dashboard (it carries your token: keep it to yourself):');
    cli.out(`  ${url}`);
    cli.out('');
    cli.out(`Join code: ${server.info.joinCode}. Each learner runs, in their VM:`);
    cli.out(`  workshop classroom join ${origin} ${server.info.joinCode} --name "Your Name"`);
    if (lan.length > 1) cli.out(`  (this machine's other addresses: ${lan.slice(1).join(', ')}; a VirtualBox NAT guest reaches it at 10.0.2.2)`);
    cli.out('');
    if (labs) for (const l of labsBanner(labs, origin)) cli.out(l);
    cli.out('Ctrl-C stops the server; the class stays in the database, and a restart carries on.');
  }
  if (!tls) cli.err('warning: no TLS: the tokens and the reports cross the network in clear. On a network you do not trust, use --tls-cert FILE --tls-key FILE.');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  await store.close();
  rmSync(serverInfoPath(cli.home), { force: true });
  return 0;
}

export default defineCommand({
  meta: {
    name: 'classroom serve',
    summary: 'start the class server and its dashboard; prints the instructor URL and the join code',
    usage: 'classroom serve [--host H] [--port P] [--db FILE|URL] [--idle-after 5m] [--stuck-after 3m] [--stuck-attempts 3] [--tls-cert F --tls-key F] [--learner-storage 8MiB] [--class-storage 512MiB] [--joins-per-address 30] [--joins-per-class 300] [--json] [--labs N [--warm W] [--lab-memory 1024] [--lab-cpus 1] [--lab-image DIR] [--lab-accel auto|kvm|tcg] [--idle-stop 20m] [--expire]]',
    exit: '0 on Ctrl-C; 2 usage, 3 cannot listen or open the database',
  },
  // its own "too many arguments", with the arguments made visible
  maxArgs: Number.POSITIVE_INFINITY,
  flags: {
    pack: { type: 'string', value: 'NAME', describe: 'serve the installed pack NAME (workshop pack list); a learner who joins without it is told the `workshop pack add` that installs it' },
    host: { type: 'string', value: 'H', describe: 'the address to listen on (default 0.0.0.0, every interface)' },
    port: { type: 'string', value: 'P', describe: 'the port (default 7878; 0 picks a free one)' },
    db: { type: 'string', value: 'FILE|URL', describe: 'the database (default WORKSHOP_HOME/classroom.db; postgres://… for PostgreSQL)' },
    'idle-after': { type: 'string', value: 'TIME', describe: 'a learner with no command for this long is idle (default 5m)' },
    'stuck-after': { type: 'string', value: 'TIME', describe: 'a learner this long on one failing step, with --stuck-attempts attempts, is stuck (default 3m)' },
    'stuck-attempts': { type: 'string', value: 'N', describe: 'the failed attempts on one step that, with --stuck-after, make a learner stuck (default 3)' },
    'tls-cert': { type: 'string', value: 'FILE', describe: 'TLS certificate (PEM), with --tls-key' },
    'tls-key': { type: 'string', value: 'FILE', describe: 'TLS private key (PEM)' },
    'learner-storage': { type: 'string', value: 'SIZE', describe: "what one learner's reports may take in the database (default 8MiB)" },
    'class-storage': { type: 'string', value: 'SIZE', describe: 'what the whole class may take (default 512MiB)' },
    'joins-per-address': { type: 'string', value: 'N', describe: 'joins a minute from one address (default 30; raise it for a room behind one NAT)' },
    'joins-per-class': { type: 'string', value: 'N', describe: 'new learners at once, then N in 5 minutes (default 300)' },
    ...LAB_FLAGS,
  },
  run: serve,
});
