// Runs the built CLI as a learner would, in a temporary WORKSHOP_HOME.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = `${ROOT}node_modules/.bin/node`;
export const CLI = `${ROOT}dist/cli.js`;
export const isRoot = process.getuid?.() === 0;

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function workshop(home: string, args: readonly string[], opts: { env?: Record<string, string>; input?: string } = {}): Ran {
  const env: NodeJS.ProcessEnv = { ...process.env, WORKSHOP_HOME: home, ...opts.env };
  delete env['FORCE_COLOR']; // an empty FORCE_COLOR means "force" to chalk
  const r = spawnSync(NODE, [CLI, ...args], {
    encoding: 'utf8',
    env,
    input: opts.input ?? '',
    timeout: 170_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a shell command as the learner types it, in `cwd`. */
export function sh(cwd: string, script: string, input?: string): Ran {
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const ESC = /\u001b\[/;
