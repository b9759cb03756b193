// Probes of issue 19's classroom items, through the built binary and the class server's HTTP API:
// hostile requests to a real `classroom serve` (api), hostile servers answering the CLI's join,
// status, export, remove, free and the detached sender (hostile), bad flags and values (inputs),
// floods of joins and reports against the limits and budgets (floods), control characters on
// every path to a terminal or a CSV (control), and a full disk (disk). Every probe must end with
// an exit code in 0-4 or 130/137/143, print no stack trace and no "bug in workshop", let no raw
// control character through to stdout or stderr, never get a 5xx from the server, and leave
// nothing behind (files in a home, a sender or server process, a mount).
//
//   sudo flock /tmp/workshop-system.lock node_modules/.bin/node test/probes/trust-class.ts [FAMILY...]
//
// Families: api hostile inputs floods control disk (default: all). About 3 minutes.
// Exit 0 only when every probe held.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import { report } from '../classroom/harness.ts';
import { CLI, leftovers as leftoversIn, NODE, ProbeRecord, runCli, runFamilies, type Ran } from './record.ts';

/** What a terminal acts on: C0 but tab/CR/LF, DEL, C1, the bidi controls. */
const RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const PWNED = '\u001b]0;PWNED\u0007\u001b[2J';
const BASE = mkdtempSync('/tmp/ws-probe-class-');

let rawControls = 0;
let serverErrors = 0;
/** No run may let a raw control character through to stdout or stderr. */
const rec = new ProbeRecord((r) => {
  if (!RAW.test(r.stdout) && !RAW.test(r.stderr)) return [];
  rawControls++;
  return [`a raw control character: ${JSON.stringify((r.stdout + r.stderr).match(RAW)?.[0])}`];
});

/** Runs the CLI with WORKSHOP_HOME=home. Never throws. */
const run = (home: string, args: readonly string[], timeoutMs = 30_000): Promise<Ran> => runCli(args, { env: { WORKSHOP_HOME: home }, timeoutMs });
const sane = (r: Ran, limitMs?: number): string[] => rec.sane(r, limitMs);
const probe = (family: string, name: string, fn: () => Promise<string[]>): Promise<void> => rec.probe(family, name, fn);
const want = (r: Ran, codes: readonly number[]): string[] => (codes.includes(r.code) ? [] : [`exit ${r.code} (want ${codes.join(' or ')}): ${r.stderr.trim().split('\n')[0] ?? ''}`]);

const freshDir = (prefix = 'd-'): string => mkdtempSync(path.join(BASE, prefix));
/** Files a home may hold after a command; anything else (a .tmp, a .new, a journal) was left behind. */
const leftovers = (home: string, allowed: readonly string[] = []): string[] => leftoversIn(home, (n) => /\.(tmp|new)$|-journal$/.test(n) && !allowed.includes(n));

// ---- a real class server ---------------------------------------------------------------------

interface Serve {
  origin: string;
  token: string;
  joinCode: string;
  home: string;
  db: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

async function serve(extra: readonly string[] = []): Promise<Serve> {
  const home = freshDir('serve-');
  const db = path.join(home, 'class.db');
  const env: NodeJS.ProcessEnv = { ...process.env, WORKSHOP_HOME: home };
  delete env['FORCE_COLOR'];
  const child = spawn(NODE, [CLI, 'classroom', 'serve', '--host', '127.0.0.1', '--port', '0', '--db', db, '--json', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(t);
        resolve(out.split('\n')[0] ?? '');
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  let info: { port: number; instructorToken: string; joinCode: string };
  try {
    info = JSON.parse(line) as typeof info;
  } catch {
    child.kill('SIGKILL');
    throw new Error(`serve printed no JSON line: ${line} ${err.trim().split('\n')[0] ?? ''}`);
  }
  return {
    origin: `http://127.0.0.1:${info.port}`,
    token: info.instructorToken,
    joinCode: info.joinCode,
    home,
    db,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

async function http(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Reply> {
  const res = await fetch(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.body === undefined ? {} : { body: o.body }), redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}


async function joinToken(s: Serve, name: string): Promise<string> {
  const r = await http(`${s.origin}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: s.joinCode, name }) });
  const t = (JSON.parse(r.text) as { token?: string }).token;
  if (!t) throw new Error(`join ${name}: ${r.status} ${r.text}`);
  return t;
}

/** A server answer is fine when it is not a 5xx and the server still answers the instructor. */
async function serverHeld(s: Serve, status: number, allowed: readonly number[]): Promise<string[]> {
  const p: string[] = [];
  if (status >= 500) {
    serverErrors++;
    p.push(`the server answered ${status}`);
  } else if (!allowed.includes(status)) p.push(`status ${status} (want ${allowed.join(' or ')})`);
  const alive = await http(`${s.origin}/api/class`, { headers: { authorization: `Bearer ${s.token}` } }).catch(() => undefined);
  if (alive?.status !== 200) p.push('the server stopped answering');
  if (STACK.test(s.stderr())) {
    rec.stacks++;
    p.push('a stack trace in the server log');
  }
  if (RAW.test(s.stderr())) {
    rawControls++;
    p.push('a raw control character in the server log');
  }
  return p;
}

// ---- a hostile server ------------------------------------------------------------------------

type Answer = { status: number; headers?: Record<string, string>; body?: string | Buffer } | 'hang' | 'destroy' | 'garbage';

async function hostile(answer: (req: IncomingMessage) => Answer): Promise<{ origin: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      const a = answer(req);
      if (a === 'hang') return;
      if (a === 'destroy') return void req.socket.destroy();
      if (a === 'garbage') {
        req.socket.end('HTTP/1.1 2OO WHAT\r\n\u001b[2J\r\n\r\n');
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  server.keepAliveTimeout = 50;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const joinedHome = (url: string, token = 'a'.repeat(32)): string => {
  const h = freshDir('learner-');
  writeFileSync(path.join(h, 'classroom.json'), JSON.stringify({ url, name: 'ada', token, joinedAt: '' }), { mode: 0o600 });
  return h;
};
const queue = (home: string, n: number): void => {
  mkdirSync(path.join(home, 'classroom-outbox'), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(path.join(home, 'classroom-outbox', `${String(Date.now()).padStart(15, '0')}-0000000001-${String(i).padStart(6, '0')}.json`), JSON.stringify(report()));
};

// ---- families --------------------------------------------------------------------------------

async function apiFamily(): Promise<void> {
  const s = await serve(['--joins-per-address', '100000', '--joins-per-class', '100000']);
  try {
    const ada = await joinToken(s, 'Ada Lovelace');
    const json = { 'content-type': 'application/json' };
    const joinBody = (name: unknown, code: unknown = s.joinCode) => JSON.stringify({ code, name });
    const names: Array<[unknown, number[]]> = [
      ['Ada Lovelace', [409]], ['ada lovelace', [409]], ['  ADA   LOVELACE  ', [409]], ['Ａｄａ　Ｌｏｖｅｌａｃｅ', [409]], ['ａｄａ lovelace', [409]],
      [`x${PWNED}`, [400]], ['a\nb', [400]], ['a\u0000b', [400]], ['a\u202eb', [400]], ['a\u200bb', [400]], ['\ufeffada', [400]], ['', [400]], ['   ', [400]], ['x'.repeat(65), [400]], ['x'.repeat(300), [400]],
      ['ünï', [400]], ['Аda', [400]], ['<img src=x onerror=alert(1)>', [400]], ['=cmd|calc', [400]], ['💥', [400]], [42, [400]], [null, [400]], [['ada'], [400]], [{ a: 1 }, [400]], [true, [400]],
      ['grace hopper', [201]], ['ﬁona', [201]], ['Ｂｏｂ', [201]], ['bob', [409]], ['x.y_z-1', [201]], ['a'.repeat(64), [201]],
    ];
    for (const [name, codes] of names) {
      await probe('api', `join name ${JSON.stringify(name)}`, async () => serverHeld(s, (await http(`${s.origin}/api/join`, { method: 'POST', headers: json, body: joinBody(name) })).status, codes));
    }
    for (const code of ['ZZZZZZ', '', 'abc', 'x'.repeat(13), `A${PWNED}`, 12345, null, s.joinCode.toLowerCase()]) {
      const wantCodes = code === s.joinCode.toLowerCase() ? [201] : typeof code === 'string' && /^[A-Za-z0-9]{4,12}$/.test(code) ? [403] : [400];
      await probe('api', `join code ${JSON.stringify(code)}`, async () => serverHeld(s, (await http(`${s.origin}/api/join`, { method: 'POST', headers: json, body: joinBody(`code probe ${String(code).length}`, code) })).status, wantCodes));
    }
    for (const [what, headers, body, codes] of [
      // fastify reads text/plain as a string: the schema refuses it (400); other types get 415
      ['no content type', {}, joinBody('ct'), [400, 415]],
      ['text/plain', { 'content-type': 'text/plain' }, joinBody('ct2'), [400]],
      ['application/xml', { 'content-type': 'application/xml' }, joinBody('ct3'), [415]],
      ['broken JSON', json, '{"code":', [400]],
      ['an extra field', json, JSON.stringify({ code: s.joinCode, name: 'extra', admin: true }), [400]],
      ['a body of 1 MB', json, JSON.stringify({ code: s.joinCode, name: 'x'.repeat(1e6) }), [413]],
      ["another learner's token", { ...json, authorization: `Bearer ${ada}` }, joinBody('Grace Hopper'), [409]],
      ['a bearer that is no token', { ...json, authorization: `Bearer ${'x'.repeat(500)}` }, joinBody('Ada Lovelace'), [409]],
      ['its own token', { ...json, authorization: `Bearer ${ada}` }, joinBody('ADA LOVELACE'), [200]],
    ] as const) {
      await probe('api', `join with ${what}`, async () => serverHeld(s, (await http(`${s.origin}/api/join`, { method: 'POST', headers: headers as Record<string, string>, body })).status, codes));
    }
    const post = (token: string | undefined, body: string, extra: Record<string, string> = {}) => http(`${s.origin}/api/reports`, { method: 'POST', headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra }, body });
    const reports: Array<[string, string | undefined, string, number[]]> = [
      ['a valid report', ada, JSON.stringify(report()), [201]],
      ['rows full of escape codes', ada, JSON.stringify(report({ rows: [{ check: PWNED, status: 'fail', expected: PWNED, actual: '\u009b31m\u202e', hint: PWNED }] })), [201]],
      ['no token', undefined, JSON.stringify(report()), [401]],
      ['a forged token', 'f'.repeat(32), JSON.stringify(report()), [401]],
      ['the instructor token', s.token, JSON.stringify(report()), [401]],
      ['a token with a Latin-1 character', `${ada.slice(0, 31)}é`, JSON.stringify(report()), [401]],
      ['an unknown step', ada, JSON.stringify(report({ step: 'evil/step' })), [422]],
      ['a step with escapes', ada, JSON.stringify(report({ step: `a${PWNED}` })), [400]],
      ['51 rows', ada, JSON.stringify(report({ rows: Array.from({ length: 51 }, () => ({ check: 'c', status: 'fail', expected: '', actual: '', hint: '' })) })), [400]],
      ['a row over 2 KiB', ada, JSON.stringify(report({ rows: [{ check: 'é'.repeat(700), status: 'fail', expected: 'é'.repeat(700), actual: '', hint: '' }] })), [413]],
      ['a 70 KiB body', ada, JSON.stringify(report({ rows: [{ check: 'c', status: 'fail', expected: '', actual: 'x'.repeat(70_000), hint: '' }] })), [413]],
      ['attempts of 1e12', ada, JSON.stringify(report({ attempts: 1e12 })), [400]],
      ['a date in the year 9999', ada, JSON.stringify(report({ at: '9999-12-31T23:59:59.999Z' })), [201]],
      ['a date that is no date', ada, JSON.stringify(report({ at: 'yesterday' })), [400]],
      ['an id that is no UUID', ada, JSON.stringify(report({ id: `x${PWNED}` })), [400]],
      ['a learner field', ada, JSON.stringify({ ...report(), learner: 'Grace Hopper' }), [400]],
      ['null', ada, 'null', [400]],
      ['an array', ada, '[]', [400]],
      ['NUL bytes', ada, '\u0000\u0000', [400]],
      ['deep nesting', ada, `${'['.repeat(5000)}${']'.repeat(5000)}`, [400]],
      ['a prototype key', ada, JSON.stringify({ ...report(), __proto__: { admin: true } }).replace('"id"', '"__proto__":{"x":1},"id"'), [400]],
    ];
    for (const [what, token, body, codes] of reports) await probe('api', `report with ${what}`, async () => serverHeld(s, (await post(token, body)).status, codes));
    for (const auth of ['Bearer', 'Bearer ', `Basic ${s.token}`, `bearer ${ada}`, `Bearer ${ada} ${ada}`, `Bearer ${'x'.repeat(10_000)}`]) {
      await probe('api', `report with Authorization ${JSON.stringify(auth.slice(0, 30))}`, async () => serverHeld(s, (await http(`${s.origin}/api/reports`, { method: 'POST', headers: { ...json, authorization: auth }, body: JSON.stringify(report()) })).status, [401]));
    }
    const instructor = { authorization: `Bearer ${s.token}` };
    for (const [what, p, headers, codes] of [
      ['remove learner 0', '/api/learners/0/remove', { ...instructor, ...json }, [400]],
      ['remove learner -1', '/api/learners/-1/remove', { ...instructor, ...json }, [400]],
      ['remove learner x', '/api/learners/x/remove', { ...instructor, ...json }, [400]],
      ['remove learner 99999999999999', '/api/learners/99999999999999/remove', { ...instructor, ...json }, [400]],
      ['remove learner 999999', '/api/learners/999999/remove', { ...instructor, ...json }, [404]],
      ['free learner 999999', '/api/learners/999999/free', { ...instructor, ...json }, [404]],
      ['remove without the instructor token', '/api/learners/1/remove', json, [401]],
      ["remove with a learner's token", '/api/learners/1/remove', { authorization: `Bearer ${ada}`, ...json }, [401]],
      ['remove as a form (CSRF)', '/api/learners/1/remove', { ...instructor, 'content-type': 'application/x-www-form-urlencoded' }, [415]],
      ['an unknown action', '/api/learners/1/promote', { ...instructor, ...json }, [404]],
    ] as const) {
      await probe('api', what, async () => serverHeld(s, (await http(`${s.origin}${p}`, { method: 'POST', headers: headers as Record<string, string>, body: p.includes('form') ? 'a=1' : '{}' })).status, codes));
    }
    for (const id of ['999999999', '0', '1', '-1', 'abc', '1e5', '9'.repeat(16), `1${PWNED}`, '']) {
      await probe('api', `events with Last-Event-ID ${JSON.stringify(id)}`, async () => {
        const ctl = new AbortController();
        const res = await fetch(`${s.origin}/api/events`, { headers: { ...instructor, 'last-event-id': id.replace(/[\u0000-\u001f]/g, '') }, signal: ctl.signal });
        const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        const t = setTimeout(() => ctl.abort(), 1500);
        try {
          while (reader && !/^id: /m.test(text)) text += (await reader.read()).value ?? '';
        } catch {
          // aborted: a stream that sent no event
        }
        clearTimeout(t);
        const p = await serverHeld(s, res.status, [200]);
        if (id === '999999999' && !text.includes('event: restarted')) p.push('no "restarted" before the replay');
        if (!/^id: /m.test(text)) p.push('no event replayed');
        return p;
      });
    }
    for (const q of ['?lastEventId=abc', '?lastEventId=1&x=2', `?lastEventId=${'9'.repeat(20)}`, '?lastEventId=999999999']) {
      await probe('api', `events ${q}`, async () => {
        const ctl = new AbortController();
        const res = await fetch(`${s.origin}/api/events${q}`, { headers: instructor, signal: ctl.signal });
        ctl.abort();
        return serverHeld(s, res.status, q.includes('abc') || q.includes('x=2') || q.length > 25 ? [400] : [200]);
      });
    }
    for (const p of ['/', '/?token=', `/?token=${'x'.repeat(300)}`, '/assets/../store.ts', '/assets/dashboard.js', '/api/export.csv', '/api/export.json', '/api/nothing', '/%00', `/${PWNED}`]) {
      await probe('api', `GET ${JSON.stringify(p)}`, async () => serverHeld(s, (await http(`${s.origin}${encodeURI(p).replace(/%25/g, '%')}`)).status, [200, 303, 400, 401, 404]));
    }
  } finally {
    await s.stop();
  }
}

async function hostileFamily(): Promise<void> {
  const joinAnswers: Array<[string, Answer, number[]]> = [
    ['a good token', { status: 201, body: JSON.stringify({ token: 'b'.repeat(32), name: 'ada', how: 'new' }) }, [0]],
    ['a token with CR/LF', { status: 201, body: JSON.stringify({ token: 'aaaa\r\nX-Evil: 1aaaaaaaaaaaaaaaaaaaa', name: 'ada' }) }, [3]],
    ['a 5 MB token', { status: 201, body: JSON.stringify({ token: 'a'.repeat(5 * 2 ** 20) }) }, [3]],
    ['a token of escape codes', { status: 201, body: JSON.stringify({ token: PWNED.padEnd(32, 'a') }) }, [3]],
    ['no token', { status: 201, body: '{}' }, [3]],
    ['a number', { status: 201, body: JSON.stringify({ token: 1 }) }, [3]],
    ['HTML', { status: 200, body: '<html>captive portal</html>' }, [3]],
    ['a name full of escape codes', { status: 201, body: JSON.stringify({ token: 'c'.repeat(32), name: PWNED }) }, [0]],
    ['409 with escape codes', { status: 409, body: JSON.stringify({ error: PWNED }) }, [2]],
    ['403', { status: 403, body: '{}' }, [2]],
    ['400 with escape codes', { status: 400, body: JSON.stringify({ error: PWNED }) }, [2]],
    ['429 Retry-After 99999999999', { status: 429, headers: { 'retry-after': '99999999999' }, body: '{}' }, [3]],
    ['500 with a 1 MB error', { status: 500, body: JSON.stringify({ error: `${PWNED}${'x'.repeat(2 ** 20)}` }) }, [3]],
    ['302 elsewhere', { status: 302, headers: { location: 'http://127.0.0.1:47/' }, body: '' }, [3]],
    ['204', { status: 204 }, [3]],
    ['a cut connection', 'destroy', [3]],
    ['garbage instead of HTTP', 'garbage', [3]],
  ];
  for (const [what, answer, codes] of joinAnswers) {
    await probe('hostile', `join answered with ${what}`, async () => {
      const h = await hostile(() => answer);
      try {
        const home = freshDir('join-');
        const r = await run(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'ada']);
        const p = [...sane(r), ...want(r, codes), ...leftovers(home)];
        if (r.code !== 0 && readdirSync(home).length > 0) p.push(`left ${readdirSync(home).join(', ')}`);
        return p;
      } finally {
        await h.close();
      }
    });
  }
  await probe('hostile', 'join answered never (a hang): exit 3 after the time limit', async () => {
    const h = await hostile(() => 'hang');
    try {
      const home = freshDir('join-');
      const r = await run(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'ada'], 30_000);
      return [...sane(r, 15_000), ...want(r, [3]), ...(readdirSync(home).length ? ['left a file'] : [])];
    } finally {
      await h.close();
    }
  });
  const evil = `x${PWNED}`;
  const goodView = { class: { name: evil, joinCode: evil }, steps: [{ id: evil, title: evil }], learners: [{ id: 1, name: evil, state: 'active', current: evil, done: [evil], attempts: 1, hints: 0, stuck: true, stuckReason: evil, lastSeen: evil, failing: [{ check: evil, expected: evil, actual: evil, hint: evil }] }], commonFailures: [{ step: evil, check: evil, expected: evil, actual: evil, count: 1, learners: [evil] }], alerts: [{ at: evil, message: evil }] };
  const views: Array<[string, Answer, number[]]> = [
    ['a view full of escape codes', { status: 200, body: JSON.stringify(goodView) }, [0]],
    ['an older view (no ids, no alerts)', { status: 200, body: JSON.stringify({ ...goodView, alerts: undefined, learners: goodView.learners.map(({ id: _id, state: _s, ...l }) => l) }) }, [0]],
    ['learners as a string', { status: 200, body: JSON.stringify({ ...goodView, learners: 'all' }) }, [3]],
    ['a learner without a name', { status: 200, body: JSON.stringify({ ...goodView, learners: [{ ...goodView.learners[0], name: 7 }] }) }, [3]],
    ['null', { status: 200, body: 'null' }, [3]],
    ['not JSON', { status: 200, body: `<h1>${PWNED}</h1>` }, [3]],
    ['a 70 MB answer', { status: 200, body: Buffer.alloc(70 * 2 ** 20, 0x20) }, [3]],
    ['401', { status: 401, body: JSON.stringify({ error: PWNED }) }, [2]],
    ['500 with escape codes', { status: 500, body: JSON.stringify({ error: PWNED }) }, [3]],
    ['a redirect', { status: 301, headers: { location: 'http://127.0.0.1:47/' }, body: '' }, [3]],
    ['a cut connection', 'destroy', [3]],
  ];
  for (const sub of [['status'], ['status', '--json'], ['export'], ['export', '--format', 'json'], ['remove', 'x'], ['free', 'x']]) {
    for (const [what, answer, codes] of views) {
      // export reads another path: a view answer is its body either way
      // export passes any answer of 200 through (made safe); a CSV export does not parse it
      const csvExport = sub[0] === 'export' && !sub.includes('json');
      const expect = csvExport && codes.includes(3) && !/401|500|redirect|cut|70 MB/.test(what) ? [0] : sub[0] === 'export' && what.includes('view') ? [0] : sub[0] === 'remove' || sub[0] === 'free' ? codes.map((c) => (c === 0 ? 2 : c)) : codes;
      if (sub[0] === 'export' && /learners as a string|without a name|null/.test(what)) continue;
      await probe('hostile', `${sub.join(' ')} answered with ${what}`, async () => {
        const h = await hostile(() => answer);
        try {
          const r = await run(freshDir('instructor-'), ['classroom', ...sub, '--url', `${h.origin}/?token=t0ken`]);
          return [...sane(r), ...want(r, expect)];
        } finally {
          await h.close();
        }
      });
    }
  }
  const senderAnswers: Array<[string, Answer, number]> = [
    ['429 Retry-After 99999999999', { status: 429, headers: { 'retry-after': '99999999999' }, body: '{}' }, 2],
    ['429 Retry-After -1', { status: 429, headers: { 'retry-after': '-1' }, body: '{}' }, 4],
    ['429 Retry-After 0', { status: 429, headers: { 'retry-after': '0' }, body: '{}' }, 4],
    ['429 Retry-After as a date in 2099', { status: 429, headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }, body: '{}' }, 2],
    ['429 Retry-After garbage', { status: 429, headers: { 'retry-after': PWNED.replace(/[\u0000-\u001f]/g, '') }, body: '{}' }, 4],
    ['503 every time', { status: 503, body: '{}' }, 8],
    ['500 with escape codes', { status: 500, body: JSON.stringify({ error: PWNED }) }, 8],
    ['a cut connection', 'destroy', 8],
    ['garbage instead of HTTP', 'garbage', 8],
    ['a redirect', { status: 307, headers: { location: 'http://127.0.0.1:47/' }, body: '' }, 1],
    ['401 with escape codes', { status: 401, body: JSON.stringify({ error: PWNED }) }, 1],
  ];
  for (const [what, answer, maxPosts] of senderAnswers) {
    await probe('hostile', `the sender answered with ${what}: at most ${maxPosts} posts in 4 s`, async () => {
      const h = await hostile(() => answer);
      const home = joinedHome(h.origin);
      queue(home, 2);
      const child = spawn(NODE, [CLI, 'classroom', '__send', '--home', home], { stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
      let err = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
      await new Promise((r) => setTimeout(r, 4000));
      const exited = child.exitCode !== null || child.signalCode !== null;
      child.kill('SIGKILL');
      await h.close();
      const p: string[] = [];
      if (h.hits() > maxPosts) p.push(`${h.hits()} posts`);
      if (STACK.test(err)) p.push('a stack trace');
      if (exited && child.exitCode !== 0) p.push(`__send exited ${child.exitCode}`);
      const state = existsSync(path.join(home, 'classroom-sender.json')) ? readFileSync(path.join(home, 'classroom-sender.json'), 'utf8') : '';
      if (RAW.test(JSON.parse(state || '{}').lastError ?? '')) p.push('a raw control character in the sender state');
      const st = await run(home, ['status']);
      // status starts a sender of its own while reports are queued: end it too
      await new Promise((r) => setTimeout(r, 200));
      killSenders(home);
      return [...p, ...sane(st), ...leftovers(home)];
    });
  }
}

async function inputsFamily(): Promise<void> {
  const dir = freshDir('inputs-');
  writeFileSync(path.join(dir, 'text.db'), 'hello\n');
  writeFileSync(path.join(dir, 'random.db'), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)));
  writeFileSync(path.join(dir, 'file'), '');
  spawnSync('mkfifo', [path.join(dir, 'fifo.db')]);
  spawnSync('mkfifo', [path.join(dir, 'fifo.pem')]);
  spawnSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
  writeFileSync(path.join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n');
  const serveArgs: Array<[string, string[], number[]]> = [
    ['--db a folder', ['--db', dir], [2]],
    ['--db a text file', ['--db', path.join(dir, 'text.db')], [2]],
    ['--db random bytes', ['--db', path.join(dir, 'random.db')], [2]],
    ['--db a FIFO', ['--db', path.join(dir, 'fifo.db')], [2]],
    ['--db a character device', ['--db', path.join(dir, 'null')], [2]],
    ['--db /dev/null', ['--db', '/dev/null'], [2]],
    ['--db /dev/zero', ['--db', '/dev/zero'], [2]],
    ['--db /dev/full', ['--db', '/dev/full'], [2]],
    ['--db a path under a file', ['--db', path.join(dir, 'file', 'x.db')], [2]],
    ['--db /proc/x.db', ['--db', '/proc/x.db'], [3]],
    ['--db /sys/x.db', ['--db', '/sys/x.db'], [3]],
    ['--db /proc/self/status', ['--db', '/proc/self/status'], [2, 3]],
    ['--db mysql://x', ['--db', 'mysql://x/y'], [2]],
    ['--db postgres://nowhere', ['--db', 'postgres://u:secret@127.0.0.1:1/x'], [3]],

    ['--host "not a host"', ['--host', 'not a host'], [2]],
    ['--host with escape codes', ['--host', PWNED], [2]],
    ['--host 999.1.1.1', ['--host', '999.1.1.1'], [2]],
    ['--host 203.0.113.7 (not ours)', ['--host', '203.0.113.7'], [3]],
    ['--host an unknown name', ['--host', 'no-such-host.invalid'], [2]],
    ['--port 70000', ['--port', '70000'], [2]],
    ['--port -1', ['--port', '-1'], [2]],
    ['--port 1 (taken by no one, but privileged)', ['--port', '1', '--host', '127.0.0.1'], [0, 3]],
    ['--stuck-after 10x', ['--stuck-after', '10x'], [2]],
    ['--stuck-attempts 0', ['--stuck-attempts', '0'], [2]],
    ['--learner-storage 1', ['--learner-storage', '1'], [2]],
    ['--learner-storage lots', ['--learner-storage', 'lots'], [2]],
    ['--class-storage 1e999', ['--class-storage', '1e999'], [2]],
    ['--class-storage 99999999999G', ['--class-storage', '99999999999G'], [2]],
    ['--joins-per-address 0', ['--joins-per-address', '0'], [2]],
    ['--joins-per-class x', ['--joins-per-class', 'x'], [2]],
    ['--tls-cert alone', ['--tls-cert', path.join(dir, 'bad.pem')], [2]],
    ['--tls-cert/--tls-key bad PEM', ['--tls-cert', path.join(dir, 'bad.pem'), '--tls-key', path.join(dir, 'bad.pem')], [2]],
    ['--tls-cert a FIFO', ['--tls-cert', path.join(dir, 'fifo.pem'), '--tls-key', path.join(dir, 'bad.pem')], [2]],
    ['--tls-key /dev/zero', ['--tls-cert', path.join(dir, 'bad.pem'), '--tls-key', '/dev/zero'], [2]],
    ['--tls-key a folder', ['--tls-cert', path.join(dir, 'bad.pem'), '--tls-key', dir], [2]],
    ['an extra argument', ['extra'], [2]],
  ];
  for (const [what, args, codes] of serveArgs) {
    await probe('inputs', `serve ${what}`, async () => {
      const before = readdirSync(dir).sort().join(',');
      const home = freshDir('serve-');
      // a server that does start (a port that works) is stopped by the time limit: SIGKILL is 137
      const r = await run(home, ['classroom', 'serve', '--port', '0', '--host', '127.0.0.1', '--db', path.join(home, 'c.db'), ...args], 8000);
      const p = [...sane(r), ...want(r, codes.includes(0) ? [...codes, 137] : codes)];
      if (readdirSync(dir).sort().join(',') !== before) p.push(`changed ${dir}`);
      if (existsSync('/dev/null-journal')) p.push('left /dev/null-journal');
      return [...p, ...leftovers(home)];
    });
  }
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = String((busy.address() as { port: number }).port);
  try {
    for (const [what, existing] of [['an empty file', ''], ['no file yet', undefined]] as const) {
      await probe('inputs', `serve --db ${what} on a port in use: exit 3, a database it made removed`, async () => {
        const home = freshDir('serve-');
        const db = path.join(home, 'c.db');
        if (existing !== undefined) writeFileSync(db, existing);
        const r = await run(home, ['classroom', 'serve', '--port', busyPort, '--host', '127.0.0.1', '--db', db]);
        const p = [...sane(r), ...want(r, [3])];
        if (existing === undefined && existsSync(db)) p.push('left the database it created');
        return [...p, ...leftovers(home)];
      });
    }
  } finally {
    busy.close();
  }
  const other: Array<[string, string[], number[]]> = [
    ['status --url "not a url"', ['status', '--url', 'not a url'], [2]],
    ['status --url ftp://x', ['status', '--url', 'ftp://x/?token=y'], [2]],
    ['status --url with escapes', ['status', '--url', `http://a${PWNED}/`], [2]],
    ['status --url http://[::1', ['status', '--url', 'http://[::1'], [2]],
    ['status --url :99999', ['status', '--url', 'http://127.0.0.1:99999/?token=x'], [2]],
    ['status --token with CR/LF', ['status', '--url', 'http://127.0.0.1:47/', '--token', 'a\r\nb'], [2]],
    ['status --token of 10000', ['status', '--url', 'http://127.0.0.1:47/', '--token', 'x'.repeat(10_000)], [2]],
    ['status, nothing running', ['status'], [2]],
    ['status, refused', ['status', '--url', 'http://127.0.0.1:47/?token=x'], [3]],
    ['export --format xml', ['export', '--format', 'xml', '--url', 'http://127.0.0.1:47/?token=x'], [2]],
    ['export --format with escapes', ['export', '--format', PWNED], [2]],
    ['remove, no name', ['remove'], [2]],
    ['remove, two names', ['remove', 'a', 'b'], [2]],
    ['remove an escape code', ['remove', PWNED, '--url', 'http://127.0.0.1:47/?token=x'], [2]],
    ['free, not running', ['free', 'ada', '--url', 'http://127.0.0.1:47/?token=x'], [3]],
    ['join, no name', ['join', 'http://127.0.0.1:47', 'ABCDEF'], [2]],
    ['join --name with escapes', ['join', 'http://127.0.0.1:47', 'ABCDEF', '--name', PWNED], [2]],
    ['join --name of 300', ['join', 'http://127.0.0.1:47', 'ABCDEF', '--name', 'x'.repeat(300)], [2]],
    ['join, a code with escapes', ['join', 'http://127.0.0.1:47', PWNED, '--name', 'ada'], [2]],
    ['join, a code of 1 character', ['join', 'http://127.0.0.1:47', 'A', '--name', 'ada'], [2]],
    ['join ftp://', ['join', 'ftp://x', 'ABCDEF', '--name', 'ada'], [2]],
    ['join "not a url"', ['join', 'not a url', 'ABCDEF', '--name', 'ada'], [2]],
    ['join, refused', ['join', 'http://127.0.0.1:47', 'ABCDEF', '--name', 'ada'], [3]],
    ['join, no such host', ['join', 'http://no-such-host.invalid:7878', 'ABCDEF', '--name', 'ada'], [3]],
    ['join, too many arguments', ['join', 'a', 'b', 'c', '--name', 'ada'], [2]],
    ['leave, not joined', ['leave'], [0]],
    ['an unknown subcommand', ['teach'], [2]],
    ['no subcommand', [], [2]],
    ['--help', ['--help'], [0]],
  ];
  for (const [what, args, codes] of other) {
    await probe('inputs', what, async () => {
      const home = freshDir('cli-');
      const r = await run(home, ['classroom', ...args]);
      return [...sane(r), ...want(r, codes), ...leftovers(home)];
    });
  }
  for (const membership of ['', '{', 'null', JSON.stringify({ url: 'http://127.0.0.1:47', name: 'a', token: 'short' }), JSON.stringify({ url: `http://x${PWNED}`, name: PWNED, token: 'a'.repeat(32) }), JSON.stringify({ url: 'http://127.0.0.1:47', name: 'a', token: `${'a'.repeat(30)}\r\n` })]) {
    await probe('inputs', `status with classroom.json ${JSON.stringify(membership).slice(0, 50)}`, async () => {
      const home = freshDir('member-');
      writeFileSync(path.join(home, 'classroom.json'), membership);
      const r = await run(home, ['status']);
      const leave = await run(home, ['classroom', 'leave']);
      killSenders(home);
      return [...sane(r), ...want(r, [0]), ...sane(leave), ...want(leave, [0])];
    });
  }
}

async function floodsFamily(): Promise<void> {
  const s = await serve(['--learner-storage', '256KiB', '--class-storage', '4MiB', '--joins-per-class', '40']);
  try {
    const json = { 'content-type': 'application/json' };
    const join = (name: string) => http(`${s.origin}/api/join`, { method: 'POST', headers: json, body: JSON.stringify({ code: s.joinCode, name }) });
    const codes: number[] = [];
    for (let i = 0; i < 35; i++) {
      const r = await join(`flood ${i}`);
      codes.push(r.status);
    }
    await probe('floods', '35 joins from one address: 30 pass, then 429', async () => [...(await serverHeld(s, 200, [200])), ...(codes.filter((c) => c === 201).length === 30 && codes.slice(30).every((c) => c === 429) ? [] : [`codes ${codes.join(',')}`])]);
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await http(`${s.origin}/api/join`, { method: 'POST', headers: { ...json, 'x-forwarded-for': `198.51.100.${i}` }, body: JSON.stringify({ code: s.joinCode, name: `spoofed ${i}` }) });
      await probe('floods', `a join that claims X-Forwarded-For 198.51.100.${i} from loopback`, async () => serverHeld(s, r.status, [201, 429]));
      const t = (JSON.parse(r.text) as { token?: string }).token;
      if (t) tokens.push(t);
    }
    const fat = () => JSON.stringify(report({ rows: Array.from({ length: 30 }, (_, i) => ({ check: `c${i}`, status: 'fail', expected: 'e', actual: 'x'.repeat(1900), hint: '' })) }));
    const before = statSync(s.db).size + (statSync(`${s.db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    for (const [i, t] of tokens.entries()) {
      const seen: number[] = [];
      for (let k = 0; k < 12; k++) seen.push((await http(`${s.origin}/api/reports`, { method: 'POST', headers: { ...json, authorization: `Bearer ${t}` }, body: fat() })).status);
      await probe('floods', `learner ${i} posts 12 reports of 58 KiB against a 256 KiB budget`, async () => {
        const p = await serverHeld(s, Math.max(...seen.filter((c) => c < 500), 0), [201, 413, 429]);
        if (seen.some((c) => c >= 500)) p.push(`a 5xx among ${seen.join(',')}`);
        if (seen.filter((c) => c === 201).length > 5) p.push(`${seen.filter((c) => c === 201).length} stored`);
        return p;
      });
    }
    const after = statSync(s.db).size + (statSync(`${s.db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    await probe('floods', 'the database grew by less than the class budget and a margin', async () => (after - before < 6 * 2 ** 20 ? [] : [`grew ${after - before} bytes`]));
    const view = JSON.parse((await http(`${s.origin}/api/class`, { headers: { authorization: `Bearer ${s.token}` } })).text) as { alerts: Array<{ limit: string; message: string }> };
    for (const limit of ['joins', 'learner storage']) await probe('floods', `the instructor's view has a "${limit}" line`, async () => (view.alerts.some((a) => a.limit === limit) ? [] : [`alerts: ${view.alerts.map((a) => a.limit).join(', ')}`]));
    await probe('floods', 'the alerts are few: one per learner and limit', async () => (view.alerts.length <= tokens.length + 3 ? [] : [`${view.alerts.length} alerts`]));
    await probe('floods', '`classroom status` prints the alert lines', async () => {
      const r = await run(s.home, ['classroom', 'status']);
      return [...sane(r), ...want(r, [0]), ...(/^! /m.test(r.stdout) ? [] : ['no "!" line'])];
    });
    const rate: number[] = [];
    const t0 = tokens[0] ?? '';
    await Promise.all(Array.from({ length: 300 }, async () => rate.push((await http(`${s.origin}/api/reports`, { method: 'POST', headers: { ...json, authorization: `Bearer ${t0}` }, body: JSON.stringify(report()) })).status)));
    await probe('floods', '300 reports at once from one token: refused with 413/429, never 5xx', async () => [...(await serverHeld(s, 200, [200])), ...(rate.some((c) => c >= 500) ? ['a 5xx'] : [])]);
    const sse: AbortController[] = [];
    await probe('floods', '200 event streams open at once, then dropped: the server still answers', async () => {
      const res = await Promise.all(Array.from({ length: 200 }, async () => {
        const ctl = new AbortController();
        sse.push(ctl);
        return (await fetch(`${s.origin}/api/events`, { headers: { authorization: `Bearer ${s.token}` }, signal: ctl.signal })).status;
      }));
      for (const c of sse) c.abort();
      return serverHeld(s, Math.max(...res), [200]);
    });
    await probe('floods', 'a slow body (1 byte a second) does not hold the server', async () => {
      const sock = await new Promise<Socket>((resolve) => {
        const c = new Socket();
        c.connect(Number(new URL(s.origin).port), '127.0.0.1', () => resolve(c));
      });
      sock.write('POST /api/join HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
      const p = await serverHeld(s, 200, [200]);
      sock.destroy();
      return p;
    });
  } finally {
    await s.stop();
  }
}

async function controlFamily(): Promise<void> {
  const s = await serve();
  try {
    const t = await joinToken(s, 'eve');
    const chars = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f', '\u0085', '\u009b', '\u009d', '\u200b', '\u200e', '\u202e', '\u2066', '\u2028', '\ufeff'];
    for (const c of chars) {
      const text = `a${c}b${PWNED}`;
      const r = await http(`${s.origin}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body: JSON.stringify(report({ rows: [{ check: text, status: 'fail', expected: `=${text}`, actual: `@${text}`, hint: text }] })) });
      await probe('control', `U+${c.charCodeAt(0).toString(16).padStart(4, '0')} in a row: stored`, async () => serverHeld(s, r.status, [201]));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const args of [['status'], ['status', '--json'], ['export'], ['export', '--format', 'csv'], ['export', '--format', 'json']]) {
      await probe('control', `classroom ${args.join(' ')} shows them as escapes`, async () => {
        const r = await run(s.home, ['classroom', ...args]);
        const p = [...sane(r), ...want(r, [0])];
        if (args.includes('--json') || args.includes('json')) {
          try {
            JSON.parse(r.stdout);
          } catch {
            p.push('not JSON');
          }
        }
        if (args[0] === 'export' && !args.includes('json') && /(^|,)"?[=+\-@]/m.test(r.stdout.replace(/'[=+\-@]/g, ''))) p.push('a formula cell');
        return p;
      });
    }
    const csv = await http(`${s.origin}/api/export.csv`, { headers: { authorization: `Bearer ${s.token}` } });
    await probe('control', 'GET /api/export.csv (the page\'s button) holds no control character', async () => (/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]/.test(csv.text) ? ['a raw control character'] : []));
  } finally {
    await s.stop();
  }
}

async function diskFamily(): Promise<void> {
  const mnt = freshDir('full-');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'ws-probe-full', mnt]);
  if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
  const fill = (): void => void spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, `fill-${Date.now()}`)}`, 'bs=4k'], { stdio: 'ignore' });
  const s = await serve();
  try {
    const home = path.join(mnt, 'home');
    mkdirSync(home);
    mkdirSync(path.join(mnt, 'other'));
    fill();
    await probe('disk', 'join on a full disk: exit 3 before the server hears of it', async () => {
      const r = await run(home, ['classroom', 'join', s.origin, s.joinCode, '--name', 'ada']);
      const view = JSON.parse((await http(`${s.origin}/api/class`, { headers: { authorization: `Bearer ${s.token}` } })).text) as { learners: unknown[] };
      return [...sane(r), ...want(r, [3]), ...(readdirSync(home).length ? [`left ${readdirSync(home).join(',')}`] : []), ...(view.learners.length ? ['the server registered the name'] : [])];
    });
    await probe('disk', 'serve --db on a full disk: exit 3', async () => {
      const r = await run(freshDir('serve-'), ['classroom', 'serve', '--port', '0', '--host', '127.0.0.1', '--db', path.join(mnt, 'other', 'c.db')], 8000);
      return [...sane(r), ...want(r, [3]), ...(readdirSync(path.join(mnt, 'other')).length ? [`left ${readdirSync(path.join(mnt, 'other')).join(',')}`] : [])];
    });
    await probe('disk', 'serve with its home on a full disk: exit 3', async () => {
      const r = await run(path.join(mnt, 'other'), ['classroom', 'serve', '--port', '0', '--host', '127.0.0.1', '--db', path.join(freshDir('db-'), 'c.db')], 8000);
      return [...sane(r), ...want(r, [3]), ...leftovers(path.join(mnt, 'other'))];
    });
    // a learner joined before the disk filled: the sender must not crash on the full disk
    for (const [what, status] of [['a refused report', 422], ['an accepted report', 201]] as const) {
      await probe('disk', `the sender with ${what} on a full disk ends cleanly`, async () => {
        const h = await hostile(() => ({ status, body: JSON.stringify({ error: 'no' }) }));
        try {
          spawnSync('sh', ['-c', `rm -f ${mnt}/fill-*`]);
          const l = path.join(mnt, `learner-${status}`);
          mkdirSync(l);
          writeFileSync(path.join(l, 'classroom.json'), JSON.stringify({ url: h.origin, name: 'ada', token: 'a'.repeat(32), joinedAt: '' }));
          queue(l, 3);
          fill();
          const r = await run(l, ['classroom', '__send'], 20_000);
          killSenders(l);
          return [...sane(r), ...want(r, [0])];
        } finally {
          await h.close();
        }
      });
    }
    await probe('disk', '`workshop status` of a joined home on a full disk', async () => {
      const r = await run(path.join(mnt, 'learner-422'), ['status']);
      killSenders(path.join(mnt, 'learner-422'));
      return [...sane(r), ...want(r, [0, 3])];
    });
  } finally {
    await s.stop();
    spawnSync('umount', [mnt]);
  }
}

/** The detached senders of a home: `classroom __send --home HOME`. */
function killSenders(home: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('__send') && (cmd.includes(home) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`WORKSHOP_HOME=${home}\0`))) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---- main ------------------------------------------------------------------------------------

const FAMILIES: Record<string, () => Promise<void>> = { api: apiFamily, hostile: hostileFamily, inputs: inputsFamily, floods: floodsFamily, control: controlFamily, disk: diskFamily };
const journalBefore = existsSync('/dev/null-journal');
const left = await runFamilies(rec, FAMILIES, BASE);
const journal = !journalBefore && existsSync('/dev/null-journal');
const held = rec.report();
console.log(`stack traces: ${rec.stacks}; exits outside 0-4, 130, 137, 143: ${rec.badExits}; raw control characters: ${rawControls}; server 5xx: ${serverErrors}; left behind: ${left.processes.length} processes, ${left.mounts.length} mounts${journal ? ', /dev/null-journal' : ''}; ${left.seconds} s`);
for (const x of [...left.processes, ...left.mounts]) console.log(`  left: ${x}`);
rec.failures();
process.exitCode = held && left.processes.length + left.mounts.length === 0 && !journal ? 0 : 1;
