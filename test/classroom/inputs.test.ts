// Issue 19, items 8, 10 and 14: an ordinary mistake or a hostile answer is never "a bug in
// workshop" (exit 70). Every one of these gets exit 2 (usage) or 3 (environment) with a hint,
// leaves nothing behind (no -journal beside /dev/null, no half-written token), and never hangs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, workshop, type Ran } from '../helpers/workshop.ts';
import { hostileServer } from './hostile.ts';
import { joinAs, post, report, serveProcess, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const dirs: string[] = [];
const tmp = (prefix = 'ws-inputs-'): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
const servers: ServeProcess[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await sqlite?.cleanup();
});

/** A refusal as the issue asks for it: the exit code, `error:` and a `hint:`, no stack. */
function refused(r: Ran, code: 2 | 3, message: RegExp): void {
  expect(r.code, `${r.stderr}${r.stdout}`).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^hint: /m);
  expect(r.stderr).not.toMatch(/bug in workshop|\n\s+at .*:\d+:\d+/);
}

const serve = (home: string, extra: string[]) => workshop(home, ['classroom', 'serve', '--host', '127.0.0.1', '--port', '0', ...extra], { timeoutMs: 20_000 });

/** A SQLite class database of a real server, with a few hundred events, cut in half. */
async function truncatedDb(dir: string): Promise<string> {
  if (!sqlite) throw new Error('no sqlite');
  const db = await sqlite.freshDb();
  const s = await serveProcess(db, 0, ['--joins-per-address', '1000']);
  try {
    const t = await joinAs(s.origin, s.joinCode, 'ada');
    for (let i = 0; i < 200; i++) await post(s.origin, t, report({ attempts: i }));
  } finally {
    await s.stop();
  }
  const file = join(dir, 'truncated.db');
  copyFileSync(db, file);
  truncateSync(file, Math.floor(statSync(file).size / 2));
  return file;
}

describe.runIf(sqlite)('classroom serve refuses a --db that is not a class database', () => {
  it.each<[string, (dir: string) => string | Promise<string>, 2 | 3, RegExp]>([
    ['a folder', (d) => d, 2, /it is a folder, not a regular file/],
    ['a text file', (d) => (writeFileSync(join(d, 'notes.db'), 'hello\n'), join(d, 'notes.db')), 2, /not a SQLite database/],
    ['random bytes', (d) => (writeFileSync(join(d, 'random.db'), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251))), join(d, 'random.db')), 2, /not a SQLite database/],
    ['a truncated SQLite file', (d) => truncatedDb(d), 2, /the database is damaged/],
    ['a FIFO', (d) => (execFileSync('mkfifo', [join(d, 'fifo.db')]), join(d, 'fifo.db')), 2, /it is a FIFO, not a regular file/],
    ['a path under a file', (d) => (writeFileSync(join(d, 'file'), ''), join(d, 'file', 'x.db')), 2, /a part of that path is a file, not a folder/],
    ['/proc/x.db', () => '/proc/x.db', 3, /--db \/proc\/x\.db: cannot open or create it/],
    ['a FIFO beside it as its WAL', (d) => (execFileSync('mkfifo', [join(d, 'c.db-wal')]), join(d, 'c.db')), 2, /c\.db-wal is a FIFO, not a regular file/],
  ])('%s: exit %i, quickly, leaving nothing behind', async (_what, make, code, message) => {
    const dir = tmp();
    const db = await make(dir);
    const before = readdirSync(dir).sort();
    const home = tmp();
    const r = await serve(home, ['--db', db]);
    refused(r, code, message);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(home, 'classroom-server.json'))).toBe(false);
  });

  it.runIf(isRoot)('/dev/null and a character device of its own: exit 2, and no -journal appears beside them', async () => {
    const dir = tmp();
    execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
    refused(await serve(tmp(), ['--db', join(dir, 'null')]), 2, /it is a character device, not a regular file/);
    expect(readdirSync(dir)).toEqual(['null']);
    const journal = existsSync('/dev/null-journal');
    refused(await serve(tmp(), ['--db', '/dev/null']), 2, /--db \/dev\/null: it is a character device/);
    expect(existsSync('/dev/null-journal')).toBe(journal);
  });

  it('removes a database it created when the server cannot start', async () => {
    if (!sqlite) return;
    const s = await serveProcess(await sqlite.freshDb());
    servers.push(s);
    const dir = tmp();
    const r = await workshop(tmp(), ['classroom', 'serve', '--host', '127.0.0.1', '--port', String(s.port), '--db', join(dir, 'new.db')]);
    refused(r, 3, /is in use/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe.runIf(sqlite)('classroom serve refuses a bad --host and a bad certificate', () => {
  const pem = (dir: string, name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it.each<[string, string[], RegExp]>([
    ['--host "not a host"', ['--host', 'not a host'], /--host "not a host": not an address/],
    ['--host with a control character', ['--host', 'a\u001b[2Jb'], /--host "a\\e\[2Jb": not an address/],
    ['--host a name that does not resolve', ['--host', 'no-such-host.invalid'], /--host no-such-host\.invalid: no such address/],
  ])('%s: exit 2', async (_what, args, message) => {
    const r = await workshop(tmp(), ['classroom', 'serve', '--port', '0', '--db', join(tmp(), 'c.db'), ...args], { timeoutMs: 30_000 });
    refused(r, 2, message);
  });

  it('--tls-cert/--tls-key: garbage, a mismatched pair, a FIFO, a folder: exit 2 with how to make a pair', async () => {
    const d = tmp();
    const cert = join(d, 'cert.pem');
    const key = join(d, 'key.pem');
    const other = join(d, 'other.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    execFileSync('openssl', ['genrsa', '-out', other, '2048'], { stdio: 'ignore' });
    execFileSync('mkfifo', [join(d, 'fifo.pem')]);
    const garbage = pem(d, 'garbage.pem', '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    for (const [c, k, message] of [
      [garbage, key, /not a certificate and its private key in PEM/],
      [cert, garbage, /not a certificate and its private key in PEM/],
      [cert, other, /not a certificate and its private key in PEM/],
      [join(d, 'fifo.pem'), key, /--tls-cert .*fifo\.pem: not a regular file/],
      [cert, d, /--tls-key .*: not a regular file/],
      [join(d, 'missing.pem'), key, /--tls-cert .*missing\.pem: ENOENT/],
    ] as const) {
      const r = await workshop(tmp(), ['classroom', 'serve', '--port', '0', '--db', join(tmp(), 'c.db'), '--tls-cert', c, '--tls-key', k], { timeoutMs: 20_000 });
      expect(r.code, `${c} ${k}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/bug in workshop/);
    }
  });
});

describe('classroom status and export refuse a bad --url or --token', () => {
  it.each<[string[], 2 | 3, RegExp]>([
    [['classroom', 'status', '--url', 'not a url'], 2, /not a url: not a server address/],
    [['classroom', 'status', '--url', 'ftp://x/?token=y'], 2, /only http:\/\/ and https:\/\//],
    [['classroom', 'export', '--url', 'http://127.0.0.1:47/', '--token', 'a\r\nb'], 2, /the instructor token from --token is not a token/],
    [['classroom', 'status', '--url', 'http://127.0.0.1:47/?token=x'], 3, /cannot reach the class server at http:\/\/127\.0\.0\.1:47: ECONNREFUSED/],
    [['classroom', 'remove'], 2, /usage: workshop classroom remove NAME/],
    [['classroom', 'remove', '<script>', '--url', 'http://127.0.0.1:47/?token=x'], 2, /"<script>" is not a learner's name/],
  ])('%j: exit %i', async (args, code, message) => {
    const r = await workshop(tmp(), args);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/bug in workshop/);
  });
});

describe('classroom join checks the token the server returns, and saves it whole or not at all', () => {
  it.each<[string, () => { status: number; headers?: Record<string, string>; body: string }]>([
    ['a token with CR/LF', () => ({ status: 201, body: JSON.stringify({ token: 'aaaaaaaaaaaaaaaa\r\nX-Evil: 1aaaaaaaaaa', name: 'ada' }) })],
    ['a token of 5 MB', () => ({ status: 201, body: JSON.stringify({ token: 'a'.repeat(5 * 2 ** 20), name: 'ada' }) })],
    ['a token of 31 characters', () => ({ status: 201, body: JSON.stringify({ token: 'a'.repeat(31), name: 'ada' }) })],
    ['a number for a token', () => ({ status: 201, body: JSON.stringify({ token: 12345, name: 'ada' }) })],
    ['no JSON at all', () => ({ status: 200, body: '<html>welcome</html>' })],
    ['a redirect to another server', () => ({ status: 302, headers: { location: 'http://127.0.0.1:47/api/join' }, body: '' })],
    ['a 500 with escape codes', () => ({ status: 500, body: JSON.stringify({ error: '\u001b]0;PWNED\u0007' }) })],
  ])('%s: exit 3, nothing saved', async (_what, answer) => {
    const h = await hostileServer(answer);
    try {
      const home = tmp();
      const r = await workshop(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'ada']);
      refused(r, 3, /error: /);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      expect(readdirSync(home)).toEqual([]);
      expect(h.requests).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('keeps the token a home holds when a second join is refused', async () => {
    const h = await hostileServer(() => ({ status: 201, body: JSON.stringify({ token: 'b'.repeat(32), name: 'ada', how: 'new' }) }));
    try {
      const home = tmp();
      expect((await workshop(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'ada'])).code).toBe(0);
      const saved = readFileSync(join(home, 'classroom.json'), 'utf8');
      expect(JSON.parse(saved)).toMatchObject({ url: h.origin, token: 'b'.repeat(32) });
      expect(statSync(join(home, 'classroom.json')).mode & 0o777).toBe(0o600);
      await h.close();
      const r = await workshop(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'ada']);
      refused(r, 3, /cannot reach the class server/);
      expect(readFileSync(join(home, 'classroom.json'), 'utf8')).toBe(saved);
      expect(readdirSync(home)).toEqual(['classroom.json']);
    } finally {
      await h.close().catch(() => undefined);
    }
  });

  it("sends the home's own token when it joins the same server again", async () => {
    const h = await hostileServer(() => ({ status: 200, body: JSON.stringify({ token: 'c'.repeat(32), name: 'ada', how: 'rejoined' }) }));
    try {
      const home = tmp();
      writeFileSync(join(home, 'classroom.json'), JSON.stringify({ url: h.origin, name: 'ada', token: 'c'.repeat(32), joinedAt: '' }));
      const r = await workshop(home, ['classroom', 'join', h.origin, 'ABCDEF', '--name', 'Ada']);
      expect(r.code, r.stderr).toBe(0);
      expect(h.requests[0]?.authorization).toBe(`Bearer ${'c'.repeat(32)}`);
      expect(r.stdout).toMatch(/again as ada, the same learner as before/);
    } finally {
      await h.close();
    }
  });

  it('counts a classroom.json whose URL or token holds control characters as not joined', async () => {
    for (const m of [{ url: 'http://x\u001b]0;PWNED\u0007/', token: 'a'.repeat(32) }, { url: 'http://127.0.0.1:47', token: `${'a'.repeat(30)}\r\n` }]) {
      const home = tmp();
      writeFileSync(join(home, 'classroom.json'), JSON.stringify({ ...m, name: 'ada', joinedAt: '' }));
      const status = await workshop(home, ['status']);
      expect(status.stdout).not.toContain('class:');
      const leave = await workshop(home, ['classroom', 'leave']);
      expect(leave.stdout).toBe('You are not in a class.\n');
    }
  });

  it.runIf(isRoot)('on a full disk: exit 3 before the server hears of it, and no file left', async () => {
    if (!sqlite) return;
    const s = await serveProcess(await sqlite.freshDb());
    servers.push(s);
    const mnt = tmp('ws-fulldisk-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'ws-fulldisk', mnt]);
    try {
      const home = join(mnt, 'home');
      mkdirSync(home);
      // fill it to the last block
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
      } catch {
        // dd ends with ENOSPC: that is the point
      }
      const r = await workshop(home, ['classroom', 'join', s.origin, s.joinCode, '--name', 'ada']);
      refused(r, 3, /cannot save the class membership in .* \(ENOSPC\)/);
      expect(r.stderr).toMatch(/hint: the disk is full/);
      expect(readdirSync(home)).toEqual([]);
      const view = (await (await fetch(`${s.origin}/api/class`, { headers: { authorization: `Bearer ${s.token}` } })).json()) as { learners: unknown[] };
      expect(view.learners).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
