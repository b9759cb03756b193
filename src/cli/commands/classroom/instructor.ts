// `workshop classroom status`, `export`, `remove NAME` and `free NAME`: the class as the
// instructor's terminal sees it, and the instructor's acts on a learner. The server and token come
// from --url/--token, or from the classroom-server.json that serve wrote. Whatever the server
// answers is untrusted: checked, bounded, and printed through visible().
import { readFileSync } from 'node:fs';
import { envError, usageError } from '../../../errors.ts';
import { answerMessage, request, type Answer } from '../../../classroom/http.ts';
import { MESSAGE_CHARS } from '../../../classroom/contract.ts';
import { ROUND_DRILLS } from '../../../classroom/schemas.ts';
import { learnerName } from '../../../classroom/identity.ts';
import { jsonSafe, shorten, visible } from '../../../classroom/safe-text.ts';
import { flagString, type Cli } from '../../cli.ts';
import { decodeClassView, type ClassAnswer } from './class-view.ts';
import { parseOrigin } from './flags.ts';
import { serverInfoPath } from './serve.ts';
import { writeOut } from '../../output.ts';
import type { FlagTable } from '../../args.ts';
import { defineCommand, type CommandDef } from '../../command.ts';

/** An export of a big class: 300 learners with full failing tables fit many times over. */
const MAX_ANSWER = 64 * 2 ** 20;

/** The instructor token as a header value: printable ASCII, or fetch itself would refuse it. */
function checkToken(t: string, from: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(t)) throw usageError(`the instructor token from ${from} is not a token`, 'use the URL (with ?token=) that `workshop classroom serve` printed');
  return t;
}

/** --url, which may be the instructor URL itself (…/?token=…). */
function parseUrl(v: string): { origin: string; token: string | undefined } {
  const origin = parseOrigin(v);
  const t = new URL(/^[a-z]+:\/\//i.test(v) ? v : `http://${v}`).searchParams.get('token');
  return { origin, token: t === null || t === '' ? undefined : checkToken(t, '--url') };
}

function target(cli: Cli): { origin: string; token: string } {
  const urlFlag = flagString(cli.flags, 'url');
  const tokenFlag = flagString(cli.flags, 'token') ?? process.env['WORKSHOP_CLASS_TOKEN'];
  const token = tokenFlag === undefined ? undefined : checkToken(tokenFlag, '--token');
  const url = urlFlag === undefined ? undefined : parseUrl(urlFlag);
  if (url && (token ?? url.token)) return { origin: url.origin, token: token ?? url.token ?? '' };
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(cli.home), 'utf8')) as { localOrigin?: unknown; instructorToken?: unknown };
    if (typeof info.localOrigin === 'string' && typeof info.instructorToken === 'string') {
      return { origin: url?.origin ?? parseOrigin(info.localOrigin), token: token ?? checkToken(info.instructorToken, serverInfoPath(cli.home)) };
    }
  } catch {
    // no server started from this home
  }
  throw usageError('which class? no server runs from this home', 'pass the instructor URL: workshop classroom status --url "http://HOST:PORT/?token=…"');
}

async function call(cli: Cli, path: string, method: 'GET' | 'POST' = 'GET', body: unknown = {}): Promise<{ answer: Answer; origin: string }> {
  const t = target(cli);
  const got = await request(new URL(path, t.origin), {
    method,
    headers: { authorization: `Bearer ${t.token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
    maxBytes: MAX_ANSWER,
    timeoutMs: 30_000,
  });
  if (!got.ok) throw envError(`cannot reach the class server at ${t.origin}: ${got.why}`, 'is `workshop classroom serve` running?');
  const a = got.answer;
  if (a.status === 401) throw usageError('the class server refused the instructor token', 'use the URL (with ?token=) that `workshop classroom serve` printed');
  // an act on something the class does not have: a learner, a step, a chapter
  if ((a.status === 404 || a.status === 422) && method === 'POST') throw usageError(`the class server: ${answerMessage(a)}`);
  if (a.status < 200 || a.status > 299) throw envError(`the class server answered ${a.status} for ${path}: ${answerMessage(a)}`);
  if (a.truncated) throw envError(`the class server's answer for ${path} is over ${MAX_ANSWER / 2 ** 20} MiB`, 'is --url the class server?');
  return { answer: a, origin: t.origin };
}

async function classAnswer(cli: Cli): Promise<ClassAnswer> {
  const { answer, origin } = await call(cli, '/api/class');
  return decodeClassView(answer.text, origin);
}

const ago = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '?';
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

const DRILL_STATE: Record<string, string> = { on: 'on it', fixed: 'fixed', 'gave-up': 'gave up', abandoned: 'left it' };
const took = (s: number): string => (s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`);

/** The latest break-it round, as the dashboard's drill panel says it: who has fixed which drill. */
function drillRoundLines(r: ClassAnswer['drillRound'], now: number): string[] {
  if (!r) return [];
  const t = (s: string, max = 80): string => visible(shorten(s, max));
  const lines = ['', `Break-it round on ${t(r.chapter)} (${r.drills} drill(s)), started ${ago(r.since, now)}: ${r.learners.length} learner(s) on it, ${r.fixedAll} fixed every drill.`];
  for (const l of r.learners.slice(0, 200)) {
    const cells = l.drills.map((d) => `${t(d.step)} (${t(d.mutant, 60)}) ${DRILL_STATE[d.state] ?? t(d.state, 20)}${d.seconds === null ? '' : ` in ${took(d.seconds)}`}`);
    lines.push(`  ${t(l.name, 64)}: ${cells.join('; ') || 'no drill yet'}`);
  }
  return lines;
}

/** The class for a terminal. Every string in it came from the network: each goes through visible(). */
export function statusText(v: ClassAnswer, now: number): string {
  const t = (s: string, max = 200): string => visible(shorten(s, max));
  const lines = [`Class ${t(v.class.name)} (join code ${t(v.class.joinCode)}): ${v.learners.length} learners, ${v.learners.filter((l) => l.stuck).length} stuck, ${v.steps.length} steps`, ''];
  for (const a of v.alerts) lines.push(`! ${t(a.message, 400)}`);
  if (v.alerts.length) lines.push('');
  if (v.hold) lines.push(`The class waits at ${t(v.hold.step)} (\`workshop classroom release\` lets everyone on).`, '');
  for (const id of v.hands ?? []) {
    const l = v.learners.find((x) => x.id === id);
    if (l?.hand) lines.push(`✋ ${t(l.name, 64)} asks: ${t(l.hand.question || '(no question)', 500)}`);
  }
  if (v.hands?.length) lines.push('');
  const rows = v.learners.map((l) => [
    (l.hand ? '✋ ' : '') + l.state,
    t(l.name, 64) + (l.access === 'freed' ? ' (name freed)' : ''),
    t(l.current ?? 'finished', 80),
    `${l.done.length}/${v.steps.length}`,
    String(l.attempts),
    String(l.hints),
    ago(l.lastSeen, now),
    t(l.stuckReason ?? (l.failing.length ? `failing: ${l.failing.map((f) => f.check).join('; ')}` : ''), 300),
  ]);
  const head = ['state', 'learner', 'current', 'done', 'tries', 'hints', 'last seen', ''];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) lines.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
  lines.push(...drillRoundLines(v.drillRound, now));
  if (v.commonFailures.length) {
    lines.push('', 'Common failures:');
    for (const f of v.commonFailures.slice(0, 10)) lines.push(`  ${f.count} of ${v.learners.length}: ${t(f.check)} (expected ${t(f.expected)}, actual ${t(f.actual)}) in ${t(f.step)}: ${t(f.learners.join(', '), 400)}`);
  }
  return lines.join('\n');
}

async function exportClass(cli: Cli): Promise<number> {
  const format = flagString(cli.flags, 'format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw usageError(`--format ${visible(format)}: csv or json`);
  // --grades: a row per learner and step (by self or solve, first seen, passed at, attempts, hints)
  const { answer, origin } = await call(cli, `/api/${cli.flags['grades'] === true ? 'grades' : 'export'}.${format}`);
  if (format === 'json') {
    try {
      JSON.parse(answer.text);
    } catch {
      throw envError(`the server at ${origin} did not export JSON`, 'is --url the class server?');
    }
    // valid JSON stays valid: a control character inside a string becomes \uXXXX
    writeOut(`${jsonSafe(answer.text.trimEnd())}\n`);
  } else writeOut(answer.text.split('\r\n').map(visible).join('\r\n'));
  return 0;
}

/** `classroom remove NAME` and `classroom free NAME`: the learner is found by name key, then named by id. */
async function act(cli: Cli, what: 'remove' | 'free', rawName: string | undefined): Promise<number> {
  if (rawName === undefined) throw usageError(`usage: workshop classroom ${what} NAME`, 'the learner\'s name as `classroom status` shows it');
  const name = learnerName(rawName);
  if (!name) throw usageError(`${JSON.stringify(visible(rawName))} is not a learner's name`, 'the learner\'s name as `classroom status` shows it');
  const v = await classAnswer(cli);
  const l = v.learners.find((x) => learnerName(x.name)?.key === name.key);
  if (!l) {
    const names = v.learners.map((x) => visible(x.name)).slice(0, 20);
    throw usageError(`no learner "${name.display}" in the class`, names.length ? `the learners: ${names.join(', ')}${v.learners.length > 20 ? ', …' : ''}` : 'the class has no learners yet');
  }
  if (typeof l.id !== 'number') throw envError('this class server is too old to remove or free a learner', 'upgrade workshop on the server');
  await call(cli, `/api/learners/${l.id}/${what}`, 'POST');
  const shown = visible(l.name);
  if (cli.json) writeOut(`${jsonSafe(JSON.stringify({ [what === 'remove' ? 'removed' : 'freed']: l.name, id: l.id }, null, 2))}\n`);
  else if (what === 'remove') cli.out(`Removed ${shown} from the class: their reports are deleted, and the name is free for someone else.`);
  else cli.out(`Freed the name ${shown}: the next \`workshop classroom join … --name "${shown}"\` takes over this learner and their progress (their old token no longer works).`);
  return 0;
}

/** Whom `classroom message` names: --to NAME, --all, or --failing STEP:CHECK (one at a time). */
function messageTarget(cli: Cli): { all: true } | { name: string } | { step: string; check: string } {
  const to = flagString(cli.flags, 'to');
  const failing = flagString(cli.flags, 'failing');
  const all = cli.flags['all'] === true;
  if ([to !== undefined, failing !== undefined, all].filter(Boolean).length !== 1) throw usageError('whom to? give one of --to NAME, --all, --failing STEP:CHECK', 'workshop classroom message --all "Take a break: back at 11"');
  if (all) return { all: true };
  if (to !== undefined) return { name: to };
  const m = /^([^:\s]+):(.+)$/.exec(failing ?? '');
  if (!m?.[1] || !m[2]) throw usageError(`--failing ${visible(failing ?? '')}: STEP:CHECK, a step and (part of) a failing check's name`, 'as `classroom status` lists them under Common failures');
  return { step: m[1], check: m[2] };
}

/** `classroom message`, `hold STEP`, `release`: the instructor acts on the room (issue 22). */
async function roomAct(cli: Cli, sub: 'message' | 'hold' | 'release'): Promise<number> {
  const rest = cli.positionals;
  let said: string;
  if (sub === 'message') {
    const text = rest.join(' ').trim();
    if (!text) throw usageError('what to say? the message is missing', 'workshop classroom message --all "Look at the board"');
    if (text.length > MESSAGE_CHARS) throw usageError(`the message is ${text.length} characters; at most ${MESSAGE_CHARS}`);
    const { answer } = await call(cli, '/api/messages', 'POST', { to: messageTarget(cli), text });
    const to = (JSON.parse(answer.text) as { to?: unknown }).to;
    said = `Sent to ${Array.isArray(to) ? to.map((n) => visible(String(n))).join(', ') : '?'}.`;
  } else if (sub === 'hold') {
    if (rest.length !== 1 || !rest[0]) throw usageError('usage: workshop classroom hold STEP', 'the step as `classroom status` shows it, e.g. chroot/enter');
    await call(cli, '/api/hold', 'POST', { step: rest[0] });
    said = `The class waits at ${visible(rest[0])}: a learner who passes it stays there until \`workshop classroom release\`.`;
  } else {
    if (rest.length) throw usageError(`too many arguments: ${visible(rest.join(' '))}`);
    await call(cli, '/api/release', 'POST');
    said = 'Released: everyone moves on freely.';
  }
  cli.out(said);
  return 0;
}

/** `classroom drill CHAPTER [--drills N]`: a break-it round for the room (issue 28); each learner's next command offers it. */
async function drillRound(cli: Cli): Promise<number> {
  const rest = cli.positionals;
  if (rest.length !== 1 || !rest[0]) throw usageError('usage: workshop classroom drill CHAPTER [--drills N]', 'a chapter with drills, e.g. overlayfs (`workshop drill --list` counts them)');
  const countText = flagString(cli.flags, 'drills');
  const drills = countText === undefined ? undefined : Number(countText);
  if (drills !== undefined && !(Number.isSafeInteger(drills) && drills >= 1 && drills <= ROUND_DRILLS)) throw usageError(`--drills ${visible(countText ?? '')}: a whole number from 1 to ${ROUND_DRILLS}`);
  const { answer } = await call(cli, '/api/drill-round', 'POST', { chapter: rest[0], ...(drills === undefined ? {} : { drills }) });
  const got = JSON.parse(answer.text) as { drills?: unknown };
  cli.out(`Started a break-it round on ${visible(rest[0])} (${typeof got.drills === 'number' ? got.drills : '?'} drill(s), the same for everyone): each learner's next command offers it (\`workshop drill --class\`). The dashboard shows who has fixed which.`);
  return 0;
}

async function instructor(cli: Cli, sub: Sub): Promise<number> {
  const rest = cli.positionals;
  if (sub === 'drill') return drillRound(cli);
  if (sub === 'message' || sub === 'hold' || sub === 'release') return roomAct(cli, sub);
  if (sub === 'remove' || sub === 'free') {
    if (rest.length > 1) throw usageError(`too many arguments: ${visible(rest.slice(1).join(' '))}`, `usage: workshop classroom ${sub} NAME (quote a name with spaces)`);
    return act(cli, sub, rest[0]);
  }
  if (rest.length) throw usageError(`too many arguments: ${visible(rest.join(' '))}`);
  if (sub === 'export') return exportClass(cli);
  const v = await classAnswer(cli);
  if (cli.json) writeOut(`${jsonSafe(JSON.stringify(v, null, 2))}\n`);
  else cli.out(statusText(v, Date.now()));
  return 0;
}

const server: FlagTable = {
  url: { type: 'string', value: 'URL', describe: 'the instructor URL (default: the server started from this home)' },
  token: { type: 'string', value: 'T', describe: 'the instructor token, if --url does not carry it' },
};
type Sub = 'status' | 'export' | 'remove' | 'free' | 'message' | 'hold' | 'release' | 'drill';
// remove and free say "too many arguments" themselves, with the arguments made visible
const instructorCommand = (sub: Sub, summary: string, usage: string, flags: FlagTable = server): CommandDef =>
  defineCommand({ meta: { name: `classroom ${sub}`, summary, usage, exit: '0; 2 usage, 3 no server' }, maxArgs: Number.POSITIVE_INFINITY, flags, run: (cli) => instructor(cli, sub) });

export const status = instructorCommand('status', 'a terminal summary of the class: who is where, who is stuck, common failures', 'classroom status [--url URL --token T] [--json]');
export const remove = instructorCommand('remove', 'remove a learner from the class: their reports are deleted, the name is free', 'classroom remove NAME [--url URL --token T]');
export const free = instructorCommand('free', "free a learner's name: the next join under it takes the learner and their progress over (a rebuilt VM)", 'classroom free NAME [--url URL --token T]');
export const exportCommand = instructorCommand('export', 'the class as CSV or JSON on stdout; --grades: a row per learner and step, for grading', 'classroom export [--grades] [--format csv|json] [--url URL --token T]', {
  format: { type: 'string', value: 'csv|json', describe: 'the format (default csv)' },
  grades: { type: 'boolean', describe: 'per learner and step: by self or solve, first seen, passed at, attempts, hints; and a summary row' },
  ...server,
});
export const message = instructorCommand('message', 'message one learner, everyone, or everyone failing a check: they see it on their next command, in status and watch', 'classroom message --to NAME|--all|--failing STEP:CHECK "text"', {
  to: { type: 'string', value: 'NAME', describe: 'one learner' },
  all: { type: 'boolean', describe: 'everyone in the class' },
  failing: { type: 'string', value: 'STEP:CHECK', describe: "everyone failing this check (or part of its name) at STEP now" },
  ...server,
});
export const hold = instructorCommand('hold', 'ask the class to wait at a step: who passes it stays there, free to read and check', 'classroom hold STEP [--url URL --token T]');
export const drill = instructorCommand('drill', "start a break-it round for the class: each learner's next command offers the chapter's drills (the same for everyone); the dashboard shows who fixed which", 'classroom drill CHAPTER [--drills N] [--url URL --token T]', {
  drills: { type: 'string', value: 'N', describe: `how many drills each learner meets, 1 to ${ROUND_DRILLS} (default ${ROUND_DRILLS}, or all the chapter has)` },
  ...server,
});
export const release = instructorCommand('release', 'end the hold: everyone moves on freely', 'classroom release [--url URL --token T]');
