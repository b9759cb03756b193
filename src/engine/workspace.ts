// Where things live. WORKSHOP_HOME holds state.json, the lock and one folder per chapter.
import { join, resolve } from 'node:path';
import { usageError } from '../errors.ts';

export const DEFAULT_HOME = '/var/lib/workshop';

export interface Workspace {
  readonly home: string;
  readonly statePath: string;
  readonly lockPath: string;
  /** one folder per chapter below it */
  readonly chaptersDir: string;
  /** the self-test's throw-away chapter folders */
  readonly selftestDir: string;
  /** the lab shell's rc file */
  readonly labDir: string;
  chapterDir(chapterId: string): string;
}

export function workspace(home: string): Workspace {
  const h = resolve(home);
  return {
    home: h,
    statePath: join(h, 'state.json'),
    lockPath: join(h, 'lock'),
    chaptersDir: join(h, 'chapters'),
    selftestDir: join(h, 'selftest'),
    labDir: join(h, 'lab'),
    chapterDir: (id) => join(h, 'chapters', id),
  };
}

/** --home wins over WORKSHOP_HOME, which wins over the default. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  // an empty value would make the current folder the home, and clean would empty it
  if (flag === '') throw usageError('--home needs a folder, not an empty value', `leave it out for the default (${DEFAULT_HOME})`);
  const fromEnv = env['WORKSHOP_HOME'];
  if (flag === undefined && fromEnv === '') throw usageError('WORKSHOP_HOME is set but empty', `unset it for the default (${DEFAULT_HOME}), or set it to a folder`);
  return resolve(flag ?? fromEnv ?? DEFAULT_HOME);
}
