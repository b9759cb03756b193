// `workshop classroom serve`: the class server for the lesson pack, until Ctrl-C. It prints the
// instructor URL (with the token) and the join code, and leaves them in
// WORKSHOP_HOME/classroom-server.json (mode 0600) for `classroom status` and `export`.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { envError, usageError } from '../../../errors.ts';
import { defaultDbPath, openStore } from '../../../classroom/open-store.ts';
import { readPack } from '../../../classroom/pack.ts';
import { flagString, projectRoot, type Cli } from '../../cli.ts';
import { parseCount, parseDuration, writableHome } from './flags.ts';
import { writeOut } from '../../output.ts';

export const serverInfoPath = (home: string): string => join(home, 'classroom-server.json');

/** The addresses a learner's VM may use to reach this machine: every non-loopback IPv4. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

function readFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw usageError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read it'}`);
  }
}

export default async function serve(cli: Cli, args: string[]): Promise<number> {
  if (args.length > 1) throw usageError(`too many arguments: ${args.slice(1).join(' ')}`, 'usage: workshop classroom serve [--host H] [--port P] ...');
  const host = flagString(cli.flags, 'host') ?? '0.0.0.0';
  const port = parseCount('port', flagString(cli.flags, 'port') ?? '7878', 0, 65535);
  const db = flagString(cli.flags, 'db') ?? defaultDbPath(cli.home);
  const stuckAfterMs = parseDuration('stuck-after', flagString(cli.flags, 'stuck-after') ?? '10m');
  const stuckAttempts = parseCount('stuck-attempts', flagString(cli.flags, 'stuck-attempts') ?? '3', 1, 1000);
  const certPath = flagString(cli.flags, 'tls-cert');
  const keyPath = flagString(cli.flags, 'tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw usageError('--tls-cert and --tls-key go together');
  const tls = certPath !== undefined && keyPath !== undefined ? { cert: readFile('tls-cert', certPath), key: readFile('tls-key', keyPath) } : undefined;
  const pack = readPack(cli.lessonsDir);
  writableHome(cli.home);

  const store = await openStore(db);
  const { startServer } = await import('../../../classroom/server.ts');
  let server;
  try {
    server = await startServer({
      store,
      pack,
      className: 'default',
      host,
      port,
      thresholds: { stuckAfterMs, stuckAttempts },
      pageDir: join(projectRoot(), 'src', 'classroom', 'page'),
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    await store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw envError(`port ${port} on ${host} is in use`, 'pick another with --port, or stop the other server');
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw envError(`cannot listen on ${host}:${port} (${code})`, 'check --host and --port');
    throw err;
  }
  const scheme = tls ? 'https' : 'http';
  const wildcard = host === '0.0.0.0' || host === '::';
  const lan = wildcard ? lanAddresses() : [];
  const shownHost = wildcard ? (lan[0] ?? '127.0.0.1') : host.includes(':') ? `[${host}]` : host;
  const origin = `${scheme}://${shownHost}:${server.port}`;
  const url = `${origin}/?token=${server.info.instructorToken}`;
  writeFileSync(serverInfoPath(cli.home), `${JSON.stringify({ url, origin, localOrigin: wildcard ? `${scheme}://127.0.0.1:${server.port}` : origin, instructorToken: server.info.instructorToken, joinCode: server.info.joinCode, port: server.port, pid: process.pid })}\n`, { mode: 0o600 });

  if (cli.json) writeOut(`${JSON.stringify({ url, instructorToken: server.info.instructorToken, joinCode: server.info.joinCode, port: server.port })}\n`);
  else {
    cli.out(`Class server: ${pack.steps.length} steps of ${cli.lessonsDir}, database ${db.replace(/\/\/[^@/]*@/, '//…@')}`);
    cli.out('');
    cli.out('Instructor dashboard (it carries your token: keep it to yourself):');
    cli.out(`  ${url}`);
    cli.out('');
    cli.out(`Join code: ${server.info.joinCode}. Each learner runs, in their VM:`);
    cli.out(`  workshop classroom join ${origin} ${server.info.joinCode} --name "Your Name"`);
    if (lan.length > 1) cli.out(`  (this machine's other addresses: ${lan.slice(1).join(', ')}; a VirtualBox NAT guest reaches it at 10.0.2.2)`);
    cli.out('');
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
