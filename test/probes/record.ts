// What every probe family shares: running the built CLI so that nothing it does can throw or hang
// the prober, the record of probes per family, the problems no run may have (an exit outside
// 0-4 and 130/137/143, a stack trace, "bug in workshop"), what a family left behind in its
// folder (processes, mounts), and the closing table.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const NODE = path.join(REPO, 'node_modules/.bin/node');
export const CLI = process.env['WORKSHOP_CLI'] ?? path.join(REPO, 'dist/cli.js');
const ALLOWED = new Set([0, 1, 2, 3, 4, 130, 137, 143]);
/** a JavaScript stack, or the native and JavaScript stacks Node prints when it aborts */
const STACK = /^\s+at .+:\d+:\d+\)?$|^----- (Native|JavaScript) stack trace -----$/m;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOpts {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /** send this signal after `afterMs` */
  signal?: { name: NodeJS.Signals; afterMs: number };
  /** a file to take stdout (/dev/full) */
  stdoutFile?: string;
}

/** What is kept of a run's stdout: a hostile server's 70 MB answer must not fill the prober's memory. */
const STDOUT_CAP = 10_000_000;

/** Runs the CLI; a signal death is 128 + its number, as a shell reports it. Never throws. */
export function runCli(args: readonly string[], o: RunOpts = {}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  delete env['WORKSHOP_HOME'];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const t0 = performance.now();
  return new Promise((resolve) => {
    const [cmd, argv] = o.stdoutFile === undefined ? [NODE, [CLI, ...args]] : ['sh', ['-c', 'exec "$@" > "$0"', o.stdoutFile, NODE, CLI, ...args]];
    const child = spawn(cmd, argv, { cwd: o.cwd ?? '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += stdout.length + d.length > STDOUT_CAP ? '' : d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const limit = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    const sig = o.signal === undefined ? undefined : setTimeout(() => child.kill(o.signal?.name), o.signal.afterMs);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      clearTimeout(sig);
      const bySignal = signal === null ? null : 128 + (constants.signals[signal] ?? 0);
      resolve({ code: code ?? bySignal ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

export class ProbeRecord {
  readonly families = new Map<string, { probes: number; passed: number; failed: string[] }>();
  stacks = 0;
  badExits = 0;
  /** a family's own rule for every run (trust-class: no raw control character) */
  readonly #extra: (r: Ran) => string[];
  constructor(extra: (r: Ran) => string[] = () => []) {
    this.#extra = extra;
  }

  /** The problems every run must not have. */
  sane(r: Ran, limitMs = 25_000): string[] {
    const p: string[] = [];
    if (!ALLOWED.has(r.code)) {
      p.push(`exit ${r.code}`);
      this.badExits++;
    }
    if (STACK.test(r.stderr) || STACK.test(r.stdout)) {
      p.push('a stack trace');
      this.stacks++;
    }
    if (r.stderr.includes('bug in workshop')) p.push(`"bug in workshop": ${r.stderr.trim().split('\n')[0] ?? ''}`);
    if (r.ms > limitMs) p.push(`took ${Math.round(r.ms)} ms`);
    return [...p, ...this.#extra(r)];
  }

  async probe(family: string, name: string, fn: () => Promise<string[]>): Promise<void> {
    const rec = this.families.get(family) ?? { probes: 0, passed: 0, failed: [] };
    this.families.set(family, rec);
    rec.probes++;
    let problems: string[];
    try {
      problems = await fn();
    } catch (err) {
      problems = [`the probe itself failed: ${err instanceof Error ? err.message : String(err)}`];
    }
    if (problems.length === 0) rec.passed++;
    else {
      rec.failed.push(`${name}: ${problems.join('; ')}`);
      process.stderr.write(`FAIL ${family}: ${name}: ${problems.join('; ')}\n`);
    }
  }

  /** Prints the table and every failure; true when every probe held. */
  report(): boolean {
    let total = 0;
    let passed = 0;
    console.log('family    probes  passed  failed');
    for (const [f, r] of this.families) {
      total += r.probes;
      passed += r.passed;
      console.log(`${f.padEnd(9)} ${String(r.probes).padStart(6)}  ${String(r.passed).padStart(6)}  ${String(r.failed.length).padStart(6)}`);
    }
    console.log(`${'total'.padEnd(9)} ${String(total).padStart(6)}  ${String(passed).padStart(6)}  ${String(total - passed).padStart(6)}`);
    return total === passed;
  }

  failures(): void {
    for (const [f, r] of this.families) for (const x of r.failed) console.log(`  FAIL ${f}: ${x}`);
  }
}

/** What a command left behind in `home` (a folder it may not have made): each name `left` picks, as `left NAME`. */
export function leftovers(home: string, left: (name: string) => boolean): string[] {
  return (existsSync(home) ? readdirSync(home) : []).filter(left).map((n) => `left ${n}`);
}

export const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));

/** Processes that hold `base` in their command line, environment or cwd (not this one). */
export function processesUnder(base: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(base) || env.includes(base) || cwd.startsWith(base)) found.push(`${pid} (${cmd.replaceAll('\0', ' ').slice(0, 120)})`);
    } catch {
      // gone
    }
  }
  return found;
}

/** What a family left in `base` (processes, mounts), removed; the lines to report. */
export async function sweep(base: string): Promise<{ processes: string[]; mounts: string[] }> {
  await new Promise((r) => setTimeout(r, 1500));
  const processes = processesUnder(base);
  const mounts = mountsUnder(base);
  for (const m of [...mounts].reverse()) spawnSync('umount', ['-l', m]);
  for (const p of processes) {
    try {
      process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(base, { recursive: true, force: true });
  return { processes, mounts };
}

/**
 * Runs the families named on the command line (all by default), as root: one that cannot even set
 * up is one failed probe, and the others still run. Then sweeps what they left in `base`.
 */
export async function runFamilies(rec: ProbeRecord, families: Record<string, () => Promise<void>>, base: string): Promise<{ processes: string[]; mounts: string[]; seconds: number }> {
  const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(families);
  const unknown = chosen.filter((f) => families[f] === undefined);
  if (unknown.length > 0) {
    process.stderr.write(`unknown family ${unknown.join(', ')}: ${Object.keys(families).join(', ')}\n`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('run me as root, under flock /tmp/workshop-system.lock\n');
    process.exit(3);
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`no build at ${CLI}: npm run build\n`);
    process.exit(3);
  }
  const t0 = performance.now();
  let left: { processes: string[]; mounts: string[] } = { processes: [], mounts: [] };
  try {
    for (const f of chosen) {
      const fn = families[f];
      if (fn !== undefined) await fn().catch((err: unknown) => rec.probe(f, 'setting up the family', async () => [err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)]));
    }
  } finally {
    // what still runs with the probes' folder in its command line, environment or cwd, or is mounted there, was left by a probe
    left = await sweep(base);
  }
  return { ...left, seconds: Math.round((performance.now() - t0) / 1000) };
}
