// `workshop classroom join URL CODE --name NAME`, `leave`, and the internal `__send` that the
// reporter starts detached. Joining is the one learner command that talks to the server itself.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { envError, usageError, WorkshopError } from '../../../errors.ts';
import { answerMessage, request, retryAfterMs, type Answer } from '../../../classroom/http.ts';
import { isToken, learnerName, type LearnerName } from '../../../classroom/identity.ts';
import { enqueue, membershipPath, outboxDir, readMembership, senderStatePath, type Membership } from '../../../classroom/outbox.ts';
import { clearInbox } from '../../../classroom/inbox.ts';
import { leftReport } from '../../../classroom/reporter.ts';
import { visible } from '../../../classroom/safe-text.ts';
import { drain } from '../../../classroom/sender.ts';
import type { JoinHow } from '../../../classroom/store.ts';
import type { ServedPack } from '../../../classroom/model.ts';
import { packInUse, PACK_NAME, readRecord } from '../../../engine/packs.ts';
import { isRecord } from '../../../sys/lang.ts';
import { flagString, type Cli } from '../../cli.ts';
import { parseOrigin, writableHome } from './flags.ts';
import { defineCommand } from '../../command.ts';

/** classroom.json is far smaller: the room is taken on disk before the server hands out a token. */
const MEMBERSHIP_ROOM = 4096;

/**
 * classroom.json, written in two halves around the join: `reserve` takes its room on disk first
 * (a full disk fails here, before the server has registered the name), `commit` fills that room
 * (JSON allows the trailing spaces) and renames it into place, `abandon` removes it.
 */
function membershipFile(home: string): { commit(m: Membership): void; abandon(): void } {
  const path = membershipPath(home);
  const tmp = `${path}.new`;
  const fail = (err: unknown): WorkshopError => {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return envError(`cannot save the class membership in ${home} (${code})`, code === 'ENOSPC' ? 'the disk is full: make room (df -h), then join again' : 'the home must be writable: run as root');
  };
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o600);
  } catch (err) {
    throw fail(err);
  }
  try {
    writeSync(fd, ' '.repeat(MEMBERSHIP_ROOM));
  } catch (err) {
    closeSync(fd);
    throw fail(err);
  }
  return {
    commit(m) {
      try {
        const text = `${JSON.stringify(m)}\n`;
        writeSync(fd, text.padEnd(MEMBERSHIP_ROOM, ' '), 0);
        closeSync(fd);
        renameSync(tmp, path);
      } catch (err) {
        throw fail(err);
      }
    },
    abandon() {
      closeSync(fd);
      rmSync(tmp, { force: true });
    },
  };
}

const SAID: Record<JoinHow, (url: string, name: string) => string> = {
  new: (url, name) => `Joined the class at ${url} as ${name}. Your next, check, solve, hint and reset now report to it.\n\`workshop classroom leave\` stops that.`,
  rejoined: (url, name) => `Joined the class at ${url} again as ${name}, the same learner as before: your progress there is kept.`,
  claimed: (url, name) => `Joined the class at ${url} as ${name}, taking over the learner whose name the instructor freed: their progress is yours.`,
};

/** What the server's answer to a join means; the joined learner, or a WorkshopError that says why not. */
function joined(a: Answer, url: string, code: string, name: LearnerName): { token: string; name: string; how: JoinHow; pack: ServedPack | undefined } {
  if (a.status === 403) throw usageError(`the server does not know the join code ${code}`, 'ask the instructor for the code that `workshop classroom serve` printed');
  if (a.status === 409) throw usageError(answerMessage(a), 'pick another --name, or ask the instructor');
  if (a.status === 429) throw envError(`the class server is busy: ${answerMessage(a)}`, `try again in ${Math.round(retryAfterMs(a.headers.get('retry-after'), 1000) / 1000)} s`);
  if (a.status === 400) throw usageError(`the class server refused the join: ${answerMessage(a)}`);
  if (a.status !== 200 && a.status !== 201) throw envError(`the class server refused the join (${a.status}): ${answerMessage(a)}`, `is ${url} the class server?`);
  let body: { token?: unknown; name?: unknown; how?: unknown; pack?: unknown } = {};
  try {
    body = JSON.parse(a.text) as typeof body;
  } catch {
    // checked below
  }
  // The token is saved and sent with every report: only one of the server's own shape is taken.
  if (!isToken(body.token)) throw envError(`the server at ${url} did not answer with a learner token: nothing was saved`, `is ${url} the class server (\`workshop classroom serve\`)?`);
  const echoed = typeof body.name === 'string' ? learnerName(body.name) : undefined;
  const how: JoinHow = body.how === 'rejoined' || body.how === 'claimed' ? body.how : 'new';
  return { token: body.token, name: echoed?.key === name.key ? echoed.display : name.display, how, pack: servedPack(body.pack) };
}

/** The pack the class serves by name, taken only in a shape that is safe to print as a command. */
function servedPack(v: unknown): ServedPack | undefined {
  if (!isRecord(v) || typeof v['name'] !== 'string') return undefined;
  const { name, source } = v;
  if (!PACK_NAME.test(name)) return undefined;
  // null: the class server hands out the pack itself (it lives on the instructor's machine)
  if (source === null) return { name, source: null };
  return typeof source === 'string' && /^[\w@%+=:,./~#-]{1,300}$/.test(source) && !source.startsWith('-') ? { name, source } : undefined;
}

/**
 * What a learner must do for the class's pack: add it (the exact command), use it, or nothing.
 * `url` and `code` are the class's (already checked): a pack the server hands out is fetched from it.
 */
export function packAdvice(home: string, pack: ServedPack | undefined, url: string, code: string): string | undefined {
  if (pack === undefined) return undefined;
  const source = pack.source ?? `'${url}/api/pack.tgz?code=${code}'`;
  if (readRecord(home, pack.name) === undefined) return `This class uses the lesson pack ${pack.name}, which is not installed here. Install it and use it:\n  sudo workshop pack add ${source} --name ${pack.name}\n  sudo workshop pack use ${pack.name}`;
  if (packInUse(home) !== pack.name) return `This class uses the lesson pack ${pack.name}: \`sudo workshop pack use ${pack.name}\` makes it yours.`;
  return undefined;
}

async function join(cli: Cli): Promise<number> {
  const [urlArg, code, ...rest] = cli.positionals;
  if (urlArg === undefined || code === undefined || rest.length) throw usageError('usage: workshop classroom join URL CODE --name NAME', 'the instructor gives you URL and CODE');
  const raw = flagString(cli.flags, 'name');
  if (raw === undefined) throw usageError('--name NAME is missing', 'workshop classroom join URL CODE --name "Your Name"');
  const name = learnerName(raw);
  if (!name) throw usageError(`--name ${JSON.stringify(visible(raw))}: use 1 to 64 letters, digits, spaces, dots, dashes or underscores`);
  if (!/^[A-Za-z0-9]{4,12}$/.test(code)) throw usageError(`${JSON.stringify(visible(code))} is not a join code`, 'the code is the 6 letters and digits that `workshop classroom serve` printed');
  const url = parseOrigin(urlArg);
  writableHome(cli.home);
  // This home's token, if it joined this server before: it proves the name is ours.
  const before = readMembership(cli.home);
  const presented = before?.url === url ? before.token : undefined;
  const file = membershipFile(cli.home);
  let got;
  try {
    got = await request(new URL('/api/join', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(presented ? { authorization: `Bearer ${presented}` } : {}) },
      body: JSON.stringify({ code, name: name.display }),
      maxBytes: 16 * 1024,
    });
    if (!got.ok) throw envError(`cannot reach the class server at ${url}: ${got.why}`, 'check the address with the instructor. From a VirtualBox VM the host is often http://10.0.2.2:PORT');
  } catch (err) {
    file.abandon();
    throw err;
  }
  let j;
  try {
    j = joined(got.answer, url, code, name);
  } catch (err) {
    file.abandon();
    throw err;
  }
  file.commit({ url, name: j.name, token: j.token, joinedAt: new Date().toISOString() });
  if (before?.url !== url) clearInbox(cli.home);
  const advice = packAdvice(cli.home, j.pack, url, code);
  if (cli.json) cli.emit({ joined: url, name: j.name, how: j.how, pack: j.pack ?? null, ...(advice ? { advice } : {}) });
  else cli.out(`${SAID[j.how](url, j.name)}${advice ? `\n${advice}` : ''}`);
  return 0;
}

async function leave(cli: Cli): Promise<number> {
  const m = readMembership(cli.home);
  if (!m) {
    cli.out('You are not in a class.');
    return 0;
  }
  // Send what is still queued, and that the learner left, briefly: the instructor should see both.
  enqueue(cli.home, leftReport());
  const left = (await drain(cli.home, { idleMs: 0, giveUpMs: 3000, maxBackoffMs: 1000 })).left;
  rmSync(membershipPath(cli.home), { force: true });
  rmSync(outboxDir(cli.home), { recursive: true, force: true });
  rmSync(senderStatePath(cli.home), { force: true });
  clearInbox(cli.home);
  if (cli.json) cli.emit({ left: m.url, unsent: left });
  else cli.out(`Left the class at ${visible(m.url)}.${left ? ` ${left} reports could not be sent and were dropped.` : ''}`);
  return 0;
}

/** The sender's niceness: it may wait, the learner's commands and shell may not (issue 26). */
const SENDER_NICENESS = 10;

async function send(cli: Cli): Promise<number> {
  try {
    setPriority(SENDER_NICENESS);
  } catch {
    // a priority that cannot be lowered leaves the sender as it is
  }
  const r = await drain(cli.home);
  if (cli.json) cli.emit(r);
  return 0;
}

/** leave and __send take no arguments; they say so with the arguments made visible */
const noArguments = (run: (cli: Cli) => Promise<number>) => async (cli: Cli): Promise<number> => {
  if (cli.positionals.length > 0) throw usageError(`too many arguments: ${visible(cli.positionals.join(' '))}`);
  return run(cli);
};

export const joinCommand = defineCommand({
  meta: { name: 'classroom join', summary: 'join a class: every next, check, solve, hint and reset then reports to it', usage: 'classroom join URL CODE --name NAME', exit: '0; 2 usage, 3 no server' },
  maxArgs: Number.POSITIVE_INFINITY,
  flags: { name: { type: 'string', value: 'NAME', describe: 'your name on the dashboard (1-64 letters, digits, space . _ -)' } },
  run: join,
});
export const leaveCommand = defineCommand({
  meta: { name: 'classroom leave', summary: 'leave the class: stop reporting and forget the token', usage: 'classroom leave', exit: '0' },
  maxArgs: Number.POSITIVE_INFINITY,
  run: noArguments(leave),
});
export const sendCommand = defineCommand({
  meta: { name: 'classroom __send', summary: 'internal: the detached sender that drains the outbox', usage: 'classroom __send', exit: '0', hidden: true },
  maxArgs: Number.POSITIVE_INFINITY,
  run: noArguments(send),
});
