// Runs the built CLI the way a learner does, in a temp WORKSHOP_HOME. The CLI is built into a
// folder of its own under node_modules/.cache (so that it finds the packages, and so that
// parallel builds by others never clobber it), once per test file.
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { run, runOk, type RunResult } from '../../src/checks/exec.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE = path.join(REPO, 'node_modules/.bin/node');

export interface Workshop {
  home: string;
  /** `workshop ARGS` with --lessons and --home set */
  cli(args: readonly string[]): Promise<RunResult>;
  /** a bash script run in the chapter folder, with `workshop env` exported, as a learner types it */
  shell(chapter: string, script: string): Promise<RunResult>;
  dispose(): Promise<void>;
}

export async function buildCli(): Promise<{ cliJs: string; dispose(): Promise<void> }> {
  const outdir = path.join(REPO, 'node_modules/.cache', `ws-it-dist-${process.pid}`);
  await runOk(NODE, ['scripts/build.mjs', outdir], { cwd: REPO, timeoutMs: 120_000 });
  return { cliJs: path.join(outdir, 'cli.js'), dispose: () => rm(outdir, { recursive: true, force: true }) };
}

export async function openWorkshop(cliJs: string, prefix: string): Promise<Workshop> {
  const home = await mkdtemp(prefix);
  const cli = (args: readonly string[]) => run(NODE, [cliJs, '--lessons', path.join(REPO, 'lessons'), '--home', home, ...args], { timeoutMs: 170_000 });
  return {
    home,
    cli,
    async shell(chapter, script) {
      const dir = (await runOk(NODE, [cliJs, '--lessons', path.join(REPO, 'lessons'), '--home', home, 'path', chapter])).trim();
      const env = JSON.parse(await runOk(NODE, [cliJs, '--lessons', path.join(REPO, 'lessons'), '--home', home, '--json', 'env', chapter])) as Record<string, string>;
      return run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: { ...process.env, ...env } as Record<string, string>, timeoutMs: 60_000 });
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
export async function selfTest(cliJs: string, prefix: string, chapters: readonly string[]): Promise<{ code: number | null; report: TestJson }> {
  const ws = await openWorkshop(cliJs, prefix);
  try {
    const r = await ws.cli(['--json', 'test', ...chapters.flatMap((c) => ['--chapter', c])]);
    return { code: r.code, report: JSON.parse(r.stdout) as TestJson };
  } finally {
    await ws.dispose();
  }
}

/** The self-test report of `workshop test --json`. */
export interface TestJson {
  chapters: Array<{ id: string; status: string; reason?: string; residue: string[]; durationMs: number; steps: Array<{ id: string; status: string; phases: Record<string, { status: string; detail?: string }> }> }>;
}

/** Every phase that did not pass, as `step/phase: detail`, so a failing test says which. */
export const failedPhases = (report: TestJson): string[] =>
  report.chapters.flatMap((c) => c.steps.flatMap((s) => Object.entries(s.phases).filter(([, p]) => p.status !== 'pass').map(([n, p]) => `${c.id}/${s.id}/${n}: ${p.detail ?? ''}`)));
