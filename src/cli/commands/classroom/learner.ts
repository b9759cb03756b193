// `workshop classroom join URL CODE --name NAME`, `leave`, and the internal `__send` that the
// reporter starts detached. Joining is the one learner command that talks to the server itself.
import { rmSync, writeFileSync } from 'node:fs';
import { envError, usageError } from '../../../errors.ts';
import { membershipPath, outboxDir, queued, readMembership, senderStatePath } from '../../../classroom/outbox.ts';
import { drain } from '../../../classroom/sender.ts';
import { flagString, type Cli } from '../../cli.ts';
import { parseOrigin, writableHome } from './flags.ts';

const NAME = /^(?=.*[A-Za-z0-9])[A-Za-z0-9 ._-]{1,64}$/;

async function join(cli: Cli, args: string[]): Promise<number> {
  const [, urlArg, code, ...rest] = args;
  if (urlArg === undefined || code === undefined || rest.length) throw usageError('usage: workshop classroom join URL CODE --name NAME', 'the instructor gives you URL and CODE');
  const name = flagString(cli.flags, 'name');
  if (name === undefined) throw usageError('--name NAME is missing', 'workshop classroom join URL CODE --name "Your Name"');
  if (!NAME.test(name)) throw usageError(`--name ${JSON.stringify(name)}: use 1 to 64 letters, digits, spaces, dots, dashes or underscores`);
  const url = parseOrigin(urlArg);
  let res: Response;
  try {
    res = await fetch(new URL('/api/join', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, name }), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw envError(`cannot reach the class server at ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 'check the address with the instructor. From a VirtualBox VM the host is often http://10.0.2.2:PORT');
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: string };
  if (res.status === 403) throw usageError(`the server does not know the join code ${code}`, 'ask the instructor for the code that `workshop classroom serve` printed');
  if (!res.ok || typeof body.token !== 'string') throw envError(`the class server refused to join: ${body.error ?? res.status}`);
  writableHome(cli.home);
  // The token is this learner's identity in the class: only root (the learner) may read it.
  writeFileSync(membershipPath(cli.home), `${JSON.stringify({ url, name, token: body.token, joinedAt: new Date().toISOString() })}\n`, { mode: 0o600 });
  if (cli.json) cli.emit({ joined: url, name });
  else cli.out(`Joined the class at ${url} as ${name}. Your next, check, solve, hint and reset now report to it.\n\`workshop classroom leave\` stops that.`);
  return 0;
}

async function leave(cli: Cli): Promise<number> {
  const m = readMembership(cli.home);
  if (!m) {
    cli.out('You are not in a class.');
    return 0;
  }
  // Send what is still queued, briefly: the instructor should see the last steps.
  const left = queued(cli.home).length ? (await drain(cli.home, { idleMs: 0, giveUpMs: 3000, maxBackoffMs: 1000 })).left : 0;
  rmSync(membershipPath(cli.home), { force: true });
  rmSync(outboxDir(cli.home), { recursive: true, force: true });
  rmSync(senderStatePath(cli.home), { force: true });
  if (cli.json) cli.emit({ left: m.url, unsent: left });
  else cli.out(`Left the class at ${m.url}.${left ? ` ${left} reports could not be sent and were dropped.` : ''}`);
  return 0;
}

async function send(cli: Cli): Promise<number> {
  const r = await drain(cli.home);
  if (cli.json) cli.emit(r);
  return 0;
}

export default async function learner(cli: Cli, args: string[]): Promise<number> {
  const [sub] = args;
  if (sub === 'join') return join(cli, args);
  if (args.length > 1) throw usageError(`too many arguments: ${args.slice(1).join(' ')}`);
  return sub === 'leave' ? leave(cli) : send(cli);
}
