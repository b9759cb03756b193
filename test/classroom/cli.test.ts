// `workshop classroom …` through the built CLI: help, usage errors, serve --json, join, status,
// export, leave, and TLS with a self-signed certificate.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workshop } from '../helpers/workshop.ts';
import type { ClassResponse } from '../../src/classroom/contract.ts';
import { getJson, serveProcess, until, type ServeProcess } from './harness.ts';
import { STORES } from './stores.ts';

const sqlite = STORES.find((s) => s.name === 'sqlite');
const dirs: string[] = [];
const servers: ServeProcess[] = [];
const tmp = (p: string): string => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

// a home that cannot be made: its parent is a file (/dev/null/class is refused sooner, as inside /dev)
const UNDER_A_FILE = join(tmp('ws-cli-file-'), 'file', 'class');
writeFileSync(dirname(UNDER_A_FILE), '');

describe.runIf(sqlite)('workshop classroom', () => {
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await sqlite?.cleanup();
  });

  it('--help names every subcommand and its options', async () => {
    const r = await workshop(tmp('ws-cli-'), ['classroom', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['classroom serve', 'classroom status', 'classroom export', 'classroom join URL CODE --name NAME', 'classroom leave', '--stuck-after', '--tls-cert', '--format']) expect(r.stdout).toContain(s);
    expect(r.stdout).not.toContain('__send');
  });

  it.each([
    [['classroom'], 2, /which classroom command\?/],
    [['classroom', 'teach'], 2, /unknown classroom command "teach"/],
    [['classroom', 'serve', '--stuck-after', '10x'], 2, /--stuck-after 10x: not a duration/],
    [['classroom', 'serve', '--port', '70000'], 2, /--port 70000: expected a whole number from 0 to 65535/],
    [['classroom', 'serve', '--tls-cert', 'a.pem'], 2, /--tls-cert and --tls-key go together/],
    [['classroom', 'join', 'http://127.0.0.1:47', 'ABCDEF'], 2, /--name NAME is missing/],
    [['classroom', 'join', 'http://127.0.0.1:47', 'ABCDEF', '--name', '<b>'], 2, /use 1 to 64 letters/],
    [['classroom', 'join', 'ftp://x', 'ABCDEF', '--name', 'ada'], 2, /only http:\/\/ and https:\/\//],
    [['classroom', 'join', 'http://127.0.0.1:47', 'ABCDEF', '--name', 'ada'], 3, /cannot reach the class server at http:\/\/127\.0\.0\.1:47/],
    [['classroom', 'status'], 2, /which class\? no server runs from this home/],
    [['classroom', 'serve', '--home', UNDER_A_FILE], 3, /cannot write to .*\/file\/class \(ENOTDIR\)/],
    [['classroom', 'join', 'http://127.0.0.1:47', 'ABCDEF', '--name', 'ada', '--home', UNDER_A_FILE], 3, /cannot write to .*\/file\/class \(ENOTDIR\)/],
  ])('%j exits %i with a clear message', async (args, code, message) => {
    const r = await workshop(tmp('ws-cli-'), args);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack
  });

  it('serve --json prints one line; join, status, export and leave work against it', async () => {
    if (!sqlite) return;
    const s = await serveProcess(await sqlite.freshDb());
    servers.push(s);
    const learner = tmp('ws-cli-learner-');
    const j = await workshop(learner, ['classroom', 'join', s.origin, s.joinCode.toLowerCase(), '--name', 'Ada L.']);
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout).toContain(`Joined the class at ${s.origin} as Ada L.`);
    expect(execFileSync('stat', ['-c', '%a', join(learner, 'classroom.json')], { encoding: 'utf8' }).trim()).toBe('600');

    const status = await workshop(s.home, ['classroom', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Class default \(join code [A-Z2-9]{6}\): 1 learners, 0 stuck/);
    expect(status.stdout).toMatch(/Ada L\.\s+preflight\/vm\s+0\/\d+/);
    const json = await workshop(tmp('ws-cli-'), ['classroom', 'status', '--json', '--url', `${s.origin}/?token=${s.token}`]);
    expect(JSON.parse(json.stdout)).toMatchObject({ class: { name: 'default' }, learners: [{ name: 'Ada L.', current: 'preflight/vm' }] });
    const bad = await workshop(tmp('ws-cli-'), ['classroom', 'status', '--url', s.origin, '--token', 'wrong']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/refused the instructor token/);

    const csv = await workshop(s.home, ['classroom', 'export']);
    expect(csv.stdout).toMatch(/^name,current,done,total/);
    expect(csv.stdout).toContain('\r\nAda L.,preflight/vm,0,');
    const exported = await workshop(s.home, ['classroom', 'export', '--format', 'json']);
    expect(JSON.parse(exported.stdout)).toMatchObject({ class: 'default', learners: [{ name: 'Ada L.' }] });

    const leave = await workshop(learner, ['classroom', 'leave']);
    expect(leave.stdout).toContain(`Left the class at ${s.origin}.`);
    // the server was told: the learner shows as left
    await until('Ada L. left', async () => (await getJson<ClassResponse>(s.origin, '/api/class', s.token)).learners.find((l) => l.name === 'Ada L.')?.state === 'left');
    expect(existsSync(join(learner, 'classroom.json'))).toBe(false);
    expect((await workshop(learner, ['status'])).stdout).not.toContain('class:');
  });

  it('serve --pack NAME of a folder: the server hands the pack out, and the `workshop pack add` a learner is told works as printed', async () => {
    if (!sqlite) return;
    const good = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/lessons/good');
    const s = await serveProcess(await sqlite.freshDb(), 0, ['--pack', 'greeting'], async (home) => {
      const added = await workshop(home, ['pack', 'add', good, '--name', 'greeting', '--no-test']);
      expect(added.code, added.stderr).toBe(0);
    });
    servers.push(s);
    const learner = tmp('ws-cli-learner-');
    const j = await workshop(learner, ['classroom', 'join', s.origin, s.joinCode, '--name', 'Grace']);
    expect(j.code, j.stderr).toBe(0);
    // the instructor's folder means nothing on the learner's machine: the server hands the pack out
    const url = `${s.origin}/api/pack.tgz?code=${s.joinCode}`;
    expect(j.stdout).toContain(`This class uses the lesson pack greeting, which is not installed here. Install it and use it:\n  sudo workshop pack add '${url}' --name greeting\n  sudo workshop pack use greeting`);
    expect(j.stdout).not.toContain(good);
    // the join code guards it
    const wrong = await fetch(`${s.origin}/api/pack.tgz?code=NOTIT1`);
    expect([wrong.status, ((await wrong.json()) as { error: string }).error]).toEqual([403, expect.stringContaining('unknown join code')]);
    // the command works as printed (lint and `workshop test` included), and then the learner is only told to use it
    const added = await workshop(learner, ['pack', 'add', url, '--name', 'greeting'], { env: { WORKSHOP_ALLOW_HOST: '1' }, timeoutMs: 120_000 });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('installed greeting (1 chapter(s), 2 step(s))');
    expect(JSON.parse(readFileSync(join(learner, 'packs/greeting/.workshop-pack.json'), 'utf8'))).toMatchObject({ kind: 'url', source: url, tested: 'passed' });
    const again = await workshop(learner, ['classroom', 'join', s.origin, s.joinCode, '--name', 'Grace', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ pack: { name: 'greeting', source: null }, advice: 'This class uses the lesson pack greeting: `sudo workshop pack use greeting` makes it yours.' });
    const unknown = await workshop(tmp('ws-cli-'), ['classroom', 'serve', '--pack', 'nothere']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no pack named "nothere" is installed')]);
  });

  it('says so when the port is taken', async () => {
    if (!sqlite) return;
    const s = await serveProcess(await sqlite.freshDb());
    servers.push(s);
    const r = await workshop(tmp('ws-cli-'), ['classroom', 'serve', '--host', '127.0.0.1', '--port', String(s.port)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`port ${s.port} on 127.0.0.1 is in use`);
  });

  it('serves https with --tls-cert/--tls-key, without the clear-text warning; a learner trusts it with NODE_EXTRA_CA_CERTS', async () => {
    if (!sqlite) return;
    const d = tmp('ws-tls-');
    const cert = join(d, 'cert.pem');
    const key = join(d, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const s = await serveProcess(await sqlite.freshDb(), 0, ['--tls-cert', cert, '--tls-key', key]);
    servers.push(s);
    const origin = `https://127.0.0.1:${s.port}`;
    const learner = tmp('ws-tls-learner-');
    const untrusted = await workshop(learner, ['classroom', 'join', origin, s.joinCode, '--name', 'ada']);
    expect(untrusted.code).toBe(3);
    const j = await workshop(learner, ['classroom', 'join', origin, s.joinCode, '--name', 'ada'], { env: { NODE_EXTRA_CA_CERTS: cert } });
    expect(j.code, j.stderr).toBe(0);
    expect(s.stderr()).not.toMatch(/no TLS/);
  });
});
