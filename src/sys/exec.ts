// The only file that runs processes for checks, probes and the engine. execa is imported
// lazily, only where its features are used: it costs tens of milliseconds to load (90 ms on this
// machine), and neither `workshop status` nor a probe's `run` must pay for it.

/** Options of {@link run}. */
export interface RunOptions {
  /**
   * Where the command runs; `/` when not given. Never the caller's cwd: the learner runs
   * workshop from the chapter folder, which `clean` and `reset` delete while they still run probes.
   */
  cwd?: string;
  /** kill the process after this long; the result then has `timedOut: true` */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

/** What {@link run} returns: it never throws for a non-zero exit. */
export interface RunResult {
  /** the exit code; null when the process was killed by a signal or could not start */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** the command line, for messages */
  command: string;
}

/**
 * How much slower than a real VM this machine is: every time limit (a check's, a command's) is
 * multiplied by WORKSHOP_TIME_SCALE (1 to 20, default 1). The limits catch what never finishes;
 * under qemu's software emulation a probe that takes 1 s on a VM takes 5 to 10.
 */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['WORKSHOP_TIME_SCALE'] ?? '1');
  return Number.isFinite(v) ? Math.min(20, Math.max(1, v)) : 1;
}

/** How long a command that ignored SIGTERM at its time limit has before SIGKILL. */
const KILL_AFTER_MS = 1000;

/**
 * Runs a command without a shell. Never throws for a non-zero exit or a missing binary.
 * node:child_process, not execa: loading execa took 90 ms of a networking `next` (issue 26),
 * paid by every lesson host whose checks run a command, and this needs none of its features.
 * The environment extends workshop's own, as execa's did.
 */
export async function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const { spawn } = await import('node:child_process');
  const command = [cmd, ...args].join(' ');
  return new Promise<RunResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd ?? '/',
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }),
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
          }, opts.timeoutMs * timeScale());
    const done = (code: number | null, stderr: string) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr, timedOut, command });
    };
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    // could not start (ENOENT, EACCES): no exit code, the reason as its stderr
    child.once('error', (e) => done(null, `${command}: ${e.message}`));
    child.once('close', (code) => done(code, Buffer.concat(err).toString('utf8')));
    // killed at its limit: a grandchild may still hold the pipes open; do not wait for it
    child.once('exit', () => {
      if (!timedOut) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
      done(null, Buffer.concat(err).toString('utf8'));
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // the command may exit without reading it all (EPIPE)
      child.stdin.end(opts.input);
    }
  });
}

/**
 * Runs a short probe to its end, synchronously: for commands that answer in milliseconds, such as
 * `ip -j` in a netns. spawnSync needs none of the streams and sockets of an asynchronous child
 * (issue 26: two `ip` queries cost a `next` ~7 ms of CPU less this way, measured; Node loads
 * node:net for spawn's pipes). What it gives up is running beside other work, which a probe of a
 * few milliseconds does not need. Its time limit kills it with SIGKILL. Never throws for a non-zero
 * exit or a missing binary; the result is {@link run}'s.
 */
export function runProbe(cmd: string, args: readonly string[], opts: Pick<RunOptions, 'timeoutMs' | 'input'> = {}): RunResult {
  const command = [cmd, ...args].join(' ');
  const r = process.getBuiltinModule('node:child_process').spawnSync(cmd, [...args], {
    cwd: '/',
    encoding: 'utf8',
    maxBuffer: PROBE_MAX_BYTES,
    killSignal: 'SIGKILL',
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(opts.input === undefined ? {} : { input: opts.input }),
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs * timeScale() }),
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') return { code: null, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: true, command };
  // could not start (ENOENT, EACCES) or said too much: no exit code, the reason as its stderr
  if (r.error) return { code: null, stdout: r.stdout ?? '', stderr: `${command}: ${r.error.message}`, timedOut: false, command };
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: false, command };
}
/** A probe's answer is a few kB; a runaway one is cut here (spawnSync's default is 1 MiB). */
const PROBE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Runs a command with its stdout and stderr written to files, and resolves once it has exited
 * with its exit code, or the signal that ended it, or why it could not start. A pipe is closed only when every
 * process that inherited it has ended: a daemon the command started (LVM's dmeventd) would keep
 * the caller waiting; a file does not.
 */
export async function runToFiles(cmd: string, args: readonly string[], files: { stdout: string; stderr: string }, opts: { env?: Record<string, string> } = {}): Promise<{ code: number | null; signal: string | null; error: string | null }> {
  const [{ spawn }, { open }] = await Promise.all([import('node:child_process'), import('node:fs/promises')]);
  const [out, err] = await Promise.all([open(files.stdout, 'w'), open(files.stderr, 'w')]);
  try {
    return await new Promise((resolve) => {
      const child = spawn(cmd, [...args], { cwd: '/', stdio: ['ignore', out.fd, err.fd], ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }) });
      child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
      child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
    });
  } finally {
    await Promise.all([out.close(), err.close()]);
  }
}

/** Runs a command and returns stdout, or throws an Error naming the command and its stderr. */
export async function runOk(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 0} ms` : `exit ${r.code ?? 'signal'}`;
    throw new Error(`${r.command}: ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
  }
  return r.stdout;
}

/** Runs a command inside a named network namespace (`ip netns exec NAME …`). */
export function runInNetns(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/**
 * Runs a command on the user's terminal (stdin, stdout and stderr inherited), for `workshop
 * shell`. Returns its exit code; a signal counts as 128 + its number, as a shell reports it.
 */
export async function runAttached(cmd: string, args: readonly string[] = [], opts: { env?: Record<string, string> } = {}): Promise<number> {
  const { execa } = await import('execa');
  const r = await execa(cmd, args, { reject: false, stdio: 'inherit', ...(opts.env === undefined ? {} : { env: opts.env }) });
  if (r.exitCode !== undefined) return r.exitCode;
  const { constants } = await import('node:os');
  const sig = r.signal === undefined ? undefined : constants.signals[r.signal];
  return sig === undefined ? 1 : 128 + sig;
}

/**
 * Runs a long command whose progress the user should see: its stderr goes to the user's stderr as
 * it comes, its stdout (the result) is collected. Never throws for a non-zero exit or a missing binary.
 */
export async function runShowingProgress(cmd: string, args: readonly string[] = [], opts: { env?: Record<string, string> } = {}): Promise<RunResult> {
  const { execa } = await import('execa');
  const r = await execa(cmd, args, { reject: false, stripFinalNewline: false, cwd: '/', stdin: 'ignore', stdout: 'pipe', stderr: 'inherit', ...(opts.env === undefined ? {} : { env: opts.env }) });
  const failedToStart = r.exitCode === undefined && r.signal === undefined;
  return { code: r.exitCode ?? null, stdout: typeof r.stdout === 'string' ? r.stdout : '', stderr: failedToStart ? (r.shortMessage ?? '') : '', timedOut: false, command: r.command };
}

/** A long-lived process that is fed on stdin, such as the learner's shell of `workshop test --as-written`. */
export interface LiveProcess {
  readonly pid: number;
  /** what it printed so far, stdout and stderr in arrival order */
  readonly output: () => string;
  write(text: string): void;
  /** resolves with the exit code (null for a signal) when it has exited */
  readonly exited: Promise<number | null>;
  /** signals its whole process group: it runs in a session of its own */
  killGroup(signal?: NodeJS.Signals): void;
}

/**
 * Starts `cmd` in a session of its own (so that killGroup reaches what it started), with stdin,
 * stdout and stderr as pipes. Plain node:child_process: execa's promise model is for commands
 * that end, and this one is typed into.
 */
export async function startLive(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<LiveProcess> {
  const { spawn } = await import('node:child_process');
  const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin.on('error', () => {}); // it may exit before it reads what was typed
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      out += `\n${String(err)}\n`;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    output: () => out,
    write: (t) => {
      if (child.stdin.writable) child.stdin.write(t);
    },
    exited,
    killGroup: (signal = 'SIGKILL') => {
      try {
        if (pid > 0) process.kill(-pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Starts a long-running reporter (`findmnt --poll`, `ip monitor`) and calls onLine for each line
 * it prints. Resolves to a stop function, or null when the command could not start. A reporter
 * that prints seldom would outlive a workshop killed without its finally (SIGHUP of a closed
 * terminal) until its next line met the broken pipe, and an `ip -n NS monitor` holds its netns
 * alive all that time: with `tied`, it runs under a shell that kills it once workshop's end of its
 * stdin closes, whichever way workshop ends.
 */
export async function followLines(cmd: string, args: readonly string[], onLine: (line: string) => void, opts: { tied?: boolean } = {}): Promise<(() => void) | null> {
  const [{ spawn }, { Socket }] = await Promise.all([import('node:child_process'), import('node:net')]);
  const argv = opts.tied === true ? ['-c', '"$@" & read -r _; kill $!', 'sh', cmd, ...args] : [...args];
  // its own process group, so that stop ends the shell and the reporter at once
  const child = spawn(opts.tied === true ? 'sh' : cmd, argv, { cwd: '/', stdio: [opts.tied === true ? 'pipe' : 'ignore', 'pipe', 'ignore'], detached: opts.tied === true });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started || child.stdout === null) return null;
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  // It must not keep workshop alive, nor outlive it.
  child.unref();
  // The pipe is a socket; unref'd too, or its open read end would still hold the event loop.
  for (const pipe of [child.stdout, child.stdin]) if (pipe instanceof Socket) pipe.unref();
  const pid = child.pid;
  return () => {
    if (opts.tied === true && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
    } else child.kill('SIGTERM');
  };
}
