// The one harness for tests of the built CLI: `workshop …` run as a learner runs it, in a
// temporary WORKSHOP_HOME, plus the shell the learner types into. By default it runs dist/cli.js
// (or WORKSHOP_CLI); a test file that must not race other builds makes its own with buildCli().
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectLessons } from '../../src/engine/packs.ts';
import type { ChapterReport, TestReport } from '../../src/engine/selftest.ts';
import { workspace, type Workspace } from '../../src/engine/workspace.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = path.join(REPO, 'node_modules/.bin/node');
export const CLI = process.env['WORKSHOP_CLI'] ?? path.join(REPO, 'dist/cli.js');
export const LESSONS = path.join(REPO, 'lessons');
export const isRoot = process.getuid?.() === 0;

/**
 * The places in `home` of the progress that `--lessons lessons` uses (no lessons: the built-in
 * ones, or the pack in use): state.json and chapters/ at the top for the built-in lessons, under
 * progress/KEY/ for an installed pack or a loose folder (engine/packs.ts).
 */
export const progressOf = (home: string, lessons?: string): Workspace => workspace(home, selectLessons(home, lessons === undefined ? undefined : path.resolve(lessons), LESSONS, {}).progress);
export const ESC = /\u001b\[/;

/** The self-test report of `workshop test --json`: the engine's own type. */
export type TestJson = TestReport;
export type { ChapterReport };

export interface Ran {
  /** null when killed by a signal or by the time limit */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd?: string;
  /** added to the environment; a value of null removes the variable */
  env?: Record<string, string | null>;
  input?: string;
  timeoutMs?: number;
}

/** Runs a program to its end and collects its output; never throws. */
export function spawnCollect(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // An empty FORCE_COLOR means "force" to chalk, and a test runner may set it.
  delete env['FORCE_COLOR'];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 170_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a child that exits before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

export interface CliOptions extends SpawnOptions {
  /** the built cli.js to run (default CLI) */
  cli?: string;
}

/** `workshop ARGS` with WORKSHOP_HOME=home. */
export function workshop(home: string, args: readonly string[], opts: CliOptions = {}): Promise<Ran> {
  return spawnCollect(NODE, [opts.cli ?? CLI, ...args], { ...opts, env: { WORKSHOP_HOME: home, ...opts.env } });
}

/** Runs a shell command as the learner types it, in `cwd`. */
export function sh(cwd: string, script: string, input?: string): Promise<Ran> {
  return spawnCollect('bash', ['-c', script], { cwd, timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
}

/** A private build of the CLI under node_modules/.cache, so that parallel builds by others never clobber it. */
export async function buildCli(): Promise<{ cliJs: string; dispose(): Promise<void> }> {
  const outdir = path.join(REPO, 'node_modules/.cache', `ws-it-dist-${process.pid}`);
  const r = await spawnCollect(NODE, ['scripts/build.mjs', outdir], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return { cliJs: path.join(outdir, 'cli.js'), dispose: () => rm(outdir, { recursive: true, force: true }) };
}

export interface Workshop {
  home: string;
  /** `workshop ARGS` with --lessons and --home set */
  cli(args: readonly string[], opts?: SpawnOptions): Promise<Ran>;
  /** a bash script run in the chapter folder, with `workshop env` exported, as a learner types it */
  shell(chapter: string, script: string): Promise<Ran>;
  dispose(): Promise<void>;
}

export interface OpenOptions {
  /** the built cli.js (default CLI) */
  cli?: string;
  /** pass --allow-host to every command */
  allowHost?: boolean;
}

/** A workshop in a fresh home under `prefix`; dispose() runs `workshop clean` and removes it. */
export async function openWorkshop(prefix: string, opts: OpenOptions = {}): Promise<Workshop> {
  const home = await mkdtemp(prefix);
  const base = ['--lessons', LESSONS, '--home', home, ...(opts.allowHost ? ['--allow-host'] : [])];
  const cli = (args: readonly string[], o: SpawnOptions = {}) => spawnCollect(NODE, [opts.cli ?? CLI, ...base, ...args], o);
  const ok = async (args: readonly string[]): Promise<string> => {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(`workshop ${args.join(' ')}: exit ${r.code ?? 'signal'}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    home,
    cli,
    async shell(chapter, script) {
      const dir = (await ok(['path', chapter])).trim();
      const env = JSON.parse(await ok(['--json', 'env', chapter])) as Record<string, string>;
      return spawnCollect('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, timeoutMs: 60_000 });
    },
    async dispose() {
      try {
        await cli(['clean']);
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}

/** `workshop test --json` for `chapters` in a fresh home, which is cleaned and removed afterwards. */
export async function selfTest(prefix: string, chapters: readonly string[], opts: OpenOptions = {}): Promise<{ code: number | null; report: TestJson }> {
  const ws = await openWorkshop(prefix, opts);
  try {
    const r = await ws.cli(['--json', 'test', ...chapters.flatMap((c) => ['--chapter', c])]);
    return { code: r.code, report: JSON.parse(r.stdout) as TestJson };
  } finally {
    await ws.dispose();
  }
}

/** Every phase that did not pass, as `chapter/step/phase: detail`, so a failing test says which. */
export const failedPhases = (report: TestJson): string[] =>
  report.chapters.flatMap((c) => c.steps.flatMap((s) => Object.entries(s.phases).filter(([, p]) => p.status !== 'pass').map(([n, p]) => `${c.id}/${s.id}/${n}: ${p.detail ?? ''}`)));

/**
 * A chapter file's self-test, registered in the calling `describe`: a private build of the CLI for
 * the file (its other tests use it through `cli()`), and one test that `workshop test` of
 * `chapters` passes every phase and leaves no residue. `expected` is [chapter, status] per chapter
 * (default: each passes); `also` checks more of the report.
 */
export function chapterSelfTest(prefix: string, chapters: readonly string[], opts: { title?: string; expected?: ReadonlyArray<readonly [string, string]>; also?: (report: TestJson) => void } = {}): { cli: () => string } {
  let built: Awaited<ReturnType<typeof buildCli>> | undefined;
  beforeAll(async () => {
    built = await buildCli();
  });
  afterAll(async () => built?.dispose());
  const cli = (): string => {
    if (built === undefined) throw new Error('the CLI is built in beforeAll');
    return built.cliJs;
  };
  const expected = opts.expected ?? chapters.map((c) => [c, 'pass'] as const);
  it(opts.title ?? 'passes every phase of `workshop test` and leaves no residue', async () => {
    const { code, report } = await selfTest(prefix, chapters, { cli: cli() });
    expect(failedPhases(report)).toEqual([]);
    expect(report.chapters.map((c) => [c.id, c.status, c.residue])).toEqual(expected.map(([id, status]) => [id, status, []]));
    opts.also?.(report);
    expect(code).toBe(0);
  });
  return { cli };
}

/**
 * Container the Hard Way's docs/01 on a loop file: store.img partitioned by fdisk (n p 1 <enter>
 * <enter> w), attached with partition scanning; `$L` is then its loop device and `${L}p1` the
 * partition. Without udev, partx -a and the sysfs numbers make the node. Lines of a bash script.
 */
export const PARTITIONED_STORE_IMG: readonly string[] = [
  'truncate -s 1G store.img',
  "printf 'n\\np\\n1\\n\\n\\nw\\n' | fdisk store.img >/dev/null",
  'L=$(losetup -fP --show store.img)',
  'partx -a $L 2>/dev/null || true',
  'for i in 1 2 3 4 5 6 7 8 9 10; do [ -b ${L}p1 ] && break; sleep 0.2; done',
  '[ -b ${L}p1 ] || { d=$(cat /sys/block/${L#/dev/}/${L#/dev/}p1/dev); mknod ${L}p1 b ${d%:*} ${d#*:}; }',
];
