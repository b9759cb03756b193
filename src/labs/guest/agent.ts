// The guest agent of a hosted lab: the one way into the VM. It runs as root under systemd
// (workshop-lab-agent.service), straight from the checkout with Node's type stripping, and speaks
// the frames of ../protocol.ts on a virtio-serial port. The guest has no network: terminals,
// commands from the host and the learner's workshop reports all take this port.
//
// - Terminals: each is `tmux new-session -A` (one server on its own socket) in a pseudo-terminal
//   made by util-linux `script`, so that a second open of the same session finds the same shell.
//   Resizing sets the pty's size with stty; the kernel then tells tmux (SIGWINCH).
// - Reports: workshop's sender posts to http://127.0.0.1:7979/api/reports (the membership this
//   agent writes at start); each post becomes a request frame, and the host's answer its reply.
// - When the host goes away (a read gives 0 bytes), terminals close (tmux keeps the shells),
//   waiting requests are answered 503 (the sender keeps the report and retries), and nothing is
//   queued for the host: a write to a port without a host would block.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, read, readdirSync, readFileSync, readlinkSync, renameSync, write, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  FrameDecoder,
  FrameType,
  GUEST_TOKEN,
  PORT_NAME,
  PROTOCOL_VERSION,
  REPORT_PORT,
  SESSION_NAME,
  dataFrames,
  encodeFrame,
  guestMembership,
  jsonFrame,
  parseJson,
  parseSize,
  type ExecResult,
  type Frame,
  type RequestAnswer,
  type TerminalSize,
} from '../protocol.ts';

const TMUX_CONF = '/etc/workshop-lab/tmux.conf';
const TMUX_SOCKET = 'workshop-lab';
const HOME = process.env['WORKSHOP_HOME'] ?? '/var/lib/workshop';
/** The report body limit of the class server is 64 KiB; a little more is left for it to refuse. */
const MAX_REPORT_BYTES = 256 * 1024;
const MAX_EXEC_OUTPUT = 1 << 20;
/** Terminal output waiting for the port beyond this pauses the terminals until it drains. */
const HIGH_WATER = 512 * 1024;

/** The environment of `sudo -i`: a root login shell (the unit's own has no /sbin on Debian 13). */
const ROOT_ENV: NodeJS.ProcessEnv = {
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  SHELL: '/bin/bash',
  TERM: 'xterm-256color',
  LANG: 'C.UTF-8',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

const log = (msg: string): void => console.error(`workshop-lab-agent: ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the port ----------------------------------------------------------------------------------

/** /dev/virtio-ports/<name> (udev's link), else the vport whose sysfs name matches. */
function findPort(): string | undefined {
  const link = `/dev/virtio-ports/${PORT_NAME}`;
  if (existsSync(link)) return link;
  try {
    for (const v of readdirSync('/sys/class/virtio-ports')) {
      if (readFileSync(`/sys/class/virtio-ports/${v}/name`, 'utf8').trim() === PORT_NAME) return `/dev/${v}`;
    }
  } catch {
    // no virtio-serial device (yet)
  }
  return undefined;
}

let fd = -1;
let hostHere = false;
const outQueue: Buffer[] = [];
let outBytes = 0;
let writing = false;

function send(frame: Buffer): void {
  if (!hostHere) return;
  outQueue.push(frame);
  outBytes += frame.length;
  if (outBytes > HIGH_WATER) for (const t of terminals.values()) t.child.stdout?.pause();
  if (!writing) void pump();
}

async function pump(): Promise<void> {
  writing = true;
  while (outQueue.length > 0) {
    const buf = outQueue[0] ?? Buffer.alloc(0);
    let at = 0;
    while (at < buf.length) {
      // one write at a time: the port takes at most 32 KiB per write, and blocks while the host is away
      const n = await new Promise<number>((resolve) => write(fd, buf, at, buf.length - at, null, (err, written) => resolve(err ? -1 : written)));
      if (n <= 0) break;
      at += n;
    }
    outQueue.shift();
    outBytes -= buf.length;
    if (outBytes <= HIGH_WATER / 2) for (const t of terminals.values()) t.child.stdout?.resume();
  }
  writing = false;
}

function hostGone(): void {
  if (!hostHere) return;
  hostHere = false;
  log('the host went away: terminals closed, tmux keeps the shells');
  outQueue.length = 0;
  outBytes = 0;
  helloWaiting = null;
  for (const [id, t] of terminals) closeTerminal(id, t, 'host gone');
  for (const [id, r] of requests) {
    clearTimeout(r.timer);
    requests.delete(id);
    r.resolve({ status: 503, body: '{"error":"the lab host is not connected"}' });
  }
}

async function readLoop(): Promise<never> {
  const decoder = new FrameDecoder();
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    const n = await new Promise<number>((resolve) => read(fd, buf, 0, buf.length, null, (err, got) => resolve(err ? -1 : got)));
    if (n <= 0) {
      // 0: no host on the other end (the kernel answers at once, so poll); -1: a passing error
      decoder.reset();
      hostGone();
      await sleep(n === 0 ? 100 : 500);
      continue;
    }
    hostHere = true;
    for (const f of decoder.push(Buffer.from(buf.subarray(0, n)))) {
      try {
        onFrame(f);
      } catch (err) {
        log(`frame ${f.type} failed: ${(err as Error).message}`);
      }
    }
  }
}

// ---- frames from the host ----------------------------------------------------------------------

/**
 * The agent answers the host's hello only once the boot is over (systemd's jobs done): a lab is
 * "ready" when a learner's first command runs at full speed, not while the guest is still busy.
 */
let booted = false;
let helloWaiting: Frame | null = null;

function waitForBoot(): void {
  const done = (): void => {
    if (booted) return;
    booted = true;
    if (helloWaiting) answerHello(helloWaiting);
    helloWaiting = null;
  };
  const c = spawn('systemctl', ['is-system-running', '--wait'], { stdio: 'ignore' });
  c.on('close', done);
  c.on('error', done);
  // a unit that never finishes starting must not keep the learner out
  setTimeout(done, 240_000).unref();
}

function answerHello(f: Frame): void {
  const v = parseJson(f.payload) as { nonce?: unknown } | undefined;
  let bootId = '';
  let uptimeS = 0;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    // not Linux? then the host sees empty values
  }
  send(jsonFrame(FrameType.hello, f.id, { nonce: String(v?.nonce ?? ''), version: PROTOCOL_VERSION, bootId, uptimeS }));
}

function onFrame(f: Frame): void {
  switch (f.type) {
    case FrameType.hello:
      // the host says hello every second until answered: the last one waiting is enough
      if (booted) answerHello(f);
      else helloWaiting = f;
      return;
    case FrameType.ping:
      send(encodeFrame(FrameType.pong, f.id, f.payload));
      return;
    case FrameType.open:
      openTerminal(f.id, parseJson(f.payload));
      return;
    case FrameType.data:
      terminals.get(f.id)?.child.stdin?.write(f.payload);
      return;
    case FrameType.resize: {
      const t = terminals.get(f.id);
      const size = parseSize(parseJson(f.payload));
      if (t && size) resize(t, size.cols, size.rows);
      return;
    }
    case FrameType.close: {
      const t = terminals.get(f.id);
      if (t) closeTerminal(f.id, t, 'closed by the host');
      return;
    }
    case FrameType.response: {
      const r = requests.get(f.id);
      if (!r) return;
      requests.delete(f.id);
      clearTimeout(r.timer);
      const v = parseJson(f.payload) as Partial<RequestAnswer> | undefined;
      r.resolve({ status: Number.isInteger(v?.status) ? Number(v?.status) : 502, body: typeof v?.body === 'string' ? v.body : '' });
      return;
    }
    case FrameType.exec:
      runExec(f.id, parseJson(f.payload));
      return;
    default:
      return; // frames only the agent sends
  }
}

// ---- terminals ---------------------------------------------------------------------------------

interface Terminal {
  child: ChildProcess;
  /** the pty the tmux client runs on, once looked up */
  pts: string | null;
  size: TerminalSize;
  /** where its output goes; null for the spare, whose output is dropped */
  sink: ((chunk: Buffer) => void) | null;
  /** a spare's first bytes, up to its first cursor-home: the modes tmux sets on a new terminal */
  init: Buffer | null;
  onExit: ((why: string) => void) | null;
}
const terminals = new Map<number, Terminal>();

/**
 * A tmux client waiting, attached to the session `main` at the last size: an open takes it, so
 * that a warm lab's first prompt costs no process start (each is 0.3-0.6 s under TCG), only a
 * redraw. Its output until then is dropped but for the modes it set at its start.
 */
let spare: Terminal | null = null;
let lastSize: TerminalSize = { cols: 80, rows: 24 };
/** tmux.conf binds this key (user-keys[0]) to refresh-client: a full redraw, no process started */
const REDRAW_KEY = '\x1b[29999~';
const HOME_CURSOR = Buffer.from('\x1b[H');

function spawnClient(size: TerminalSize, session: string): Terminal {
  // The size is set before tmux starts (no race with a resize); -A attaches when the session
  // exists, so a re-open finds the shell. script runs it with $SHELL: dash starts faster than bash
  // under emulation, and the learner's shell is tmux's default-shell (tmux.conf), not this one.
  const inner = `stty rows ${size.rows} cols ${size.cols}; exec tmux -L ${TMUX_SOCKET} -f ${TMUX_CONF} new-session -A -s ${session}`;
  const child = spawn('script', ['-q', '-e', '-c', inner, '/dev/null'], { cwd: '/root', env: { ...ROOT_ENV, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const t: Terminal = { child, pts: null, size, sink: null, init: Buffer.alloc(0), onExit: null };
  let capturing = true;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (t.sink) {
      t.sink(chunk);
      return;
    }
    if (!capturing || !t.init) return;
    const all = Buffer.concat([t.init, chunk]);
    const home = all.indexOf(HOME_CURSOR);
    if (home >= 0 || all.length > 8192) {
      capturing = false;
      t.init = home >= 0 ? all.subarray(0, home) : Buffer.alloc(0);
    } else t.init = all;
  });
  child.stderr?.on('data', (chunk: Buffer) => log(`terminal: ${chunk.toString().trim()}`));
  child.stdin?.on('error', () => {
    // the terminal ended while keys were on their way
  });
  child.on('error', (err) => log(`terminal: ${err.message}`));
  child.on('close', (code, signal) => {
    if (spare === t) spare = null;
    t.onExit?.(signal ? `ended by ${signal}` : `exited ${code ?? ''}`);
  });
  return t;
}

function makeSpare(): void {
  if (spare || !booted) return;
  spare = spawnClient(lastSize, 'main');
}

function openTerminal(id: number, v: unknown): void {
  const size = parseSize(v);
  const session = (v as { session?: unknown } | undefined)?.session;
  if (!size || typeof session !== 'string' || !SESSION_NAME.test(session)) {
    send(jsonFrame(FrameType.close, id, { reason: 'bad open request' }));
    return;
  }
  const old = terminals.get(id);
  if (old) closeTerminal(id, old, 'replaced');
  const s = spare;
  const t = session === 'main' && s && s.child.exitCode === null && s.child.signalCode === null ? s : spawnClient(size, session);
  if (t === s) spare = null;
  terminals.set(id, t);
  t.sink = (chunk) => {
    for (const frame of dataFrames(id, chunk)) send(frame);
  };
  t.onExit = (why) => {
    if (terminals.get(id) !== t) return;
    terminals.delete(id);
    send(jsonFrame(FrameType.close, id, { reason: why }));
  };
  if (t === s) {
    // the modes a new tmux client sets, then a full redraw at the asked size
    if (t.init && t.init.length > 0) t.sink(t.init);
    if (t.size.cols === size.cols && t.size.rows === size.rows) t.child.stdin?.write(REDRAW_KEY);
    else resize(t, size.cols, size.rows);
  }
  lastSize = size;
  setTimeout(makeSpare, 2000).unref();
}

/** The pty of script's child (the shell that became the tmux client): its stdin. */
function ptsOf(t: Terminal): string | null {
  if (t.pts) return t.pts;
  const pid = t.child.pid;
  if (pid === undefined) return null;
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
      const tty = readlinkSync(`/proc/${c}/fd/0`);
      if (/^\/dev\/pts\/\d+$/.test(tty)) return (t.pts = tty);
    }
  } catch {
    // not started yet: its first size is the one it was opened with
  }
  return null;
}

/** Sets the pty's size; the kernel sends SIGWINCH to the tmux client, which redraws. */
function resize(t: Terminal, cols: number, rows: number): void {
  const tty = ptsOf(t);
  if (!tty) return;
  t.size = { cols, rows };
  spawn('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore' }).on('error', () => {});
}

function closeTerminal(id: number, t: Terminal, why: string): void {
  terminals.delete(id);
  // The tmux client dies with its pty; the session and its shell stay for the next open.
  t.child.kill('SIGTERM');
  log(`terminal ${id} closed: ${why}`);
}


// ---- commands from the host --------------------------------------------------------------------

function runExec(id: number, v: unknown): void {
  const req = v as { command?: unknown; timeoutMs?: unknown } | undefined;
  if (typeof req?.command !== 'string') {
    send(jsonFrame(FrameType.execResult, id, { code: null, signal: null, stdout: '', stderr: 'bad exec request', timedOut: false } satisfies ExecResult));
    return;
  }
  const timeoutMs = Number.isInteger(req.timeoutMs) ? Number(req.timeoutMs) : 60_000;
  // not a login shell: ROOT_ENV has what a login would set, and /etc/profile costs ~0.1 s under TCG
  const child = spawn('bash', ['-c', req.command], { cwd: '/root', env: { ...ROOT_ENV, TERM: 'dumb' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  child.stdout.on('data', (c: Buffer) => {
    if (outLen < MAX_EXEC_OUTPUT) out.push(c);
    outLen += c.length;
  });
  child.stderr.on('data', (c: Buffer) => {
    if (errLen < MAX_EXEC_OUTPUT) err.push(c);
    errLen += c.length;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const finish = (code: number | null, signal: string | null, extra = ''): void => {
    clearTimeout(timer);
    const cap = (b: Buffer[]) => Buffer.concat(b).subarray(0, MAX_EXEC_OUTPUT).toString('utf8');
    send(jsonFrame(FrameType.execResult, id, { code, signal, stdout: cap(out), stderr: cap(err) + extra, timedOut } satisfies ExecResult));
  };
  child.on('error', (e) => finish(null, null, e.message));
  child.on('close', (code, signal) => finish(code, signal));
}

// ---- reports from the guest's workshop ---------------------------------------------------------

interface Waiting {
  resolve: (a: RequestAnswer) => void;
  timer: NodeJS.Timeout;
}
const requests = new Map<number, Waiting>();
let nextRequest = 1;

function ask(body: string): Promise<RequestAnswer> {
  if (!hostHere) return Promise.resolve({ status: 503, body: '{"error":"the lab host is not connected"}' });
  const id = nextRequest;
  nextRequest = nextRequest >= 0xffffffff ? 1 : nextRequest + 1;
  return new Promise<RequestAnswer>((resolve) => {
    const timer = setTimeout(() => {
      requests.delete(id);
      resolve({ status: 504, body: '{"error":"the lab host did not answer"}' });
    }, 15_000);
    requests.set(id, { resolve, timer });
    send(jsonFrame(FrameType.request, id, { kind: 'report', body }));
  });
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function onHttp(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/api/reports') {
    reply(res, 404, '{"error":"this agent takes only POST /api/reports"}');
    return;
  }
  const parts: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_REPORT_BYTES) parts.push(c);
  });
  req.on('end', () => {
    if (size > MAX_REPORT_BYTES) {
      reply(res, 413, '{"error":"report too large"}');
      return;
    }
    void ask(Buffer.concat(parts).toString('utf8')).then((a) => reply(res, a.status, a.body));
  });
}

/** workshop in this guest reports to the agent: the class is joined from the first boot on. */
function writeMembership(): void {
  const path = join(HOME, 'classroom.json');
  const want = guestMembership('', '').url;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { url?: unknown; token?: unknown };
    if (m.url === want && typeof m.token === 'string' && GUEST_TOKEN.test(m.token)) return;
  } catch {
    // none yet
  }
  mkdirSync(HOME, { recursive: true, mode: 0o755 });
  const m = guestMembership(randomBytes(24).toString('base64url'), new Date().toISOString());
  writeFileSync(`${path}.tmp`, `${JSON.stringify(m)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

// ---- main --------------------------------------------------------------------------------------

/**
 * Under qemu's software emulation (systemd-detect-virt says "qemu"; with KVM it says "kvm") the
 * learner's commands run 5-10 times slower than on a VM: workshop's time limits stretch, as in test/vm.
 */
function scaleTime(): void {
  try {
    if (execFileSync('systemd-detect-virt', ['--vm'], { encoding: 'utf8' }).trim() === 'qemu') ROOT_ENV['WORKSHOP_TIME_SCALE'] = '5';
  } catch {
    // not a VM, or no systemd: no scaling
  }
}

/**
 * The learner's shell, started at boot and waiting detached: a terminal opened later only attaches
 * (a tmux client), which is what makes a warm lab's first prompt quick. `workshop status` warms
 * Node's compile cache for the learner's first command.
 */
function prestart(): void {
  const tmux = spawn('tmux', ['-L', TMUX_SOCKET, '-f', TMUX_CONF, 'new-session', '-d', '-s', 'main', '-x', '80', '-y', '24'], { cwd: '/root', env: ROOT_ENV, stdio: 'ignore' });
  tmux.on('error', (err) => log(`tmux: ${err.message}`));
  tmux.on('close', () => {
    spawn('workshop', ['status'], { cwd: '/', env: ROOT_ENV, stdio: 'ignore' }).on('error', () => {});
  });
  // the spare client once the boot is over (it waits for `booted`)
  const until = setInterval(() => {
    if (!booted) return;
    clearInterval(until);
    makeSpare();
  }, 500);
}

async function main(): Promise<void> {
  scaleTime();
  writeMembership();
  waitForBoot();
  prestart();
  const server = createServer(onHttp);
  server.listen(REPORT_PORT, '127.0.0.1');
  let port = findPort();
  for (let i = 0; !port && i < 600; i++) {
    await sleep(100);
    port = findPort();
  }
  if (!port) {
    log(`no virtio-serial port named ${PORT_NAME}: is this a hosted lab VM?`);
    process.exit(3);
  }
  fd = openSync(port, 'r+');
  log(`listening on ${port}`);
  process.on('SIGTERM', () => {
    for (const [id, t] of terminals) closeTerminal(id, t, 'agent stopping');
    closeSync(fd);
    process.exit(0);
  });
  await readLoop();
}

await main();
