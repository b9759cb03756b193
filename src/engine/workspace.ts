// Where things live. WORKSHOP_HOME holds state.json, the lock and one folder per chapter.
import { join, resolve } from 'node:path';

export const DEFAULT_HOME = '/var/lib/workshop';

export interface Workspace {
  readonly home: string;
  readonly statePath: string;
  readonly lockPath: string;
  chapterDir(chapterId: string): string;
}

export function workspace(home: string): Workspace {
  const h = resolve(home);
  return {
    home: h,
    statePath: join(h, 'state.json'),
    lockPath: join(h, 'lock'),
    chapterDir: (id) => join(h, 'chapters', id),
  };
}

/** --home wins over WORKSHOP_HOME, which wins over the default. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env['WORKSHOP_HOME'] ?? DEFAULT_HOME);
}
