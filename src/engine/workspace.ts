// Where things live. WORKSHOP_HOME holds state.json, the lock and one folder per chapter, and
// progress/KEY/ with the same for each installed pack and each loose lessons folder (engine/packs.ts).
import { realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { envError, usageError } from '../errors.ts';

export const DEFAULT_HOME = '/var/lib/workshop';

export interface Workspace {
  readonly home: string;
  readonly statePath: string;
  readonly lockPath: string;
  /** one folder per chapter below it */
  readonly chaptersDir: string;
  /** the self-test's throw-away chapter folders */
  readonly selftestDir: string;
  /** `test --as-written`'s throw-away homes */
  readonly aswrittenDir: string;
  /** the lab shell's rc file */
  readonly labDir: string;
  /**
   * The folders of the home that workshop makes and works in. `clean` looks for residue only
   * there (and at the ws* names): a mount or a process elsewhere in the home is not workshop's.
   */
  readonly ownedDirs: readonly string[];
  chapterDir(chapterId: string): string;
}

/**
 * The home's places. `pack` is a progress key (engine/packs.ts: an installed pack's name, or a
 * loose --lessons folder's `@NAME-TAG`): its progress and chapter folders are its own, under
 * progress/KEY/, so that one pack's progress never touches another's. The built-in lessons keep
 * state.json and chapters/ at the top, as every home had them.
 */
export function workspace(home: string, pack?: string): Workspace {
  const h = resolve(home);
  const own = pack === undefined ? h : join(h, 'progress', pack);
  const dirs = { chaptersDir: join(own, 'chapters'), selftestDir: join(h, 'selftest'), aswrittenDir: join(h, 'aswritten'), labDir: join(h, 'lab') };
  return {
    home: h,
    statePath: join(own, 'state.json'),
    lockPath: join(h, 'lock'),
    ...dirs,
    // every pack's chapter folders are the workshop's, whichever pack a command uses
    ownedDirs: [join(h, 'chapters'), join(h, 'progress'), dirs.selftestDir, dirs.aswrittenDir, dirs.labDir],
    chapterDir: (id) => join(own, 'chapters', id),
  };
}

/**
 * The top-level folders of the file-system hierarchy, and the merged-/usr links beside them. A
 * home that is one of them, or holds one, would make `clean` treat the machine as residue.
 */
export const SYSTEM_DIRS: readonly string[] = ['/usr', '/etc', '/var', '/home', '/root', '/boot', '/proc', '/sys', '/dev', '/run', '/tmp', '/srv', '/opt', '/mnt', '/media', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

const KERNEL_TREES = ['/proc', '/sys', '/dev'];

const isUnder = (p: string, dir: string): boolean => p === dir || dir === '/' || p.startsWith(`${dir}/`);

/**
 * The real path of `p`: symlinks of the part that exists are resolved, the rest is appended as
 * it is (a home that does not exist yet). Never throws: an unreadable part stays as written.
 */
export function realPathOf(p: string, real: (p: string) => string = realpathSync.native): string {
  for (let head = p, tail = ''; ; ) {
    try {
      return join(real(head), tail);
    } catch {
      const up = dirname(head);
      if (up === head) return p;
      tail = join(relative(up, head), tail);
      head = up;
    }
  }
}

/**
 * Pure apart from `real`: why `home` must not be a workspace, or null. Refused: `/`, a system
 * folder, and any folder that holds one, by the path as given and by its real path (a symlink to
 * `/`, `/proc/self/cwd`), and by the real path of each system folder (a /home that links into
 * /data makes /data an ancestor of it).
 */
export function unsafeHome(home: string, real: (p: string) => string = realpathSync.native): string | null {
  const given = resolve(home);
  const actual = realPathOf(given, real);
  for (const p of new Set([given, actual])) {
    const via = p === given ? '' : ` (${given} leads to ${p})`;
    if (p === '/') return `it is the root of the file system${via}`;
    // the kernel's own trees: /proc/1/root is /, and Node's recursive mkdir spins for ever in /proc
    const kernel = KERNEL_TREES.find((k) => p.startsWith(`${k}/`));
    if (kernel !== undefined) return `it is inside ${kernel}, the kernel's own file system${via}`;
    for (const sys of SYSTEM_DIRS) {
      if (p === sys) return `it is the system folder ${sys}${via}`;
      const sysReal = realPathOf(sys, real);
      if (isUnder(sys, p) || isUnder(sysReal, p)) return `it holds the system folder ${sys}${sysReal === sys ? '' : ` (${sysReal})`}${via}`;
      if (p === sysReal) return `it is the system folder ${sys}${via}`;
    }
  }
  return null;
}

/** --home wins over WORKSHOP_HOME, which wins over the default; a home that would harm the machine is refused (exit 2). */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  // an empty value would make the current folder the home, and clean would empty it
  if (flag === '') throw usageError('--home needs a folder, not an empty value', `leave it out for the default (${DEFAULT_HOME})`);
  const fromEnv = env['WORKSHOP_HOME'];
  if (flag === undefined && fromEnv === '') throw usageError('WORKSHOP_HOME is set but empty', `unset it for the default (${DEFAULT_HOME}), or set it to a folder`);
  const given = flag ?? fromEnv ?? DEFAULT_HOME;
  const home = absolute(given, flag === undefined ? 'WORKSHOP_HOME' : '--home');
  const why = unsafeHome(home);
  if (why !== null) {
    const source = flag !== undefined ? '--home' : fromEnv !== undefined ? 'WORKSHOP_HOME' : 'the default home';
    throw usageError(`refusing ${home} as the workshop's home (${source}): ${why}`, `workshop keeps its files there and \`clean\` empties it; give a folder of its own, e.g. --home ${DEFAULT_HOME} (the default) or --home /tmp/my-workshop`);
  }
  return home;
}

/** A path made absolute against the current folder, which may have been deleted under us (exit 3, not a crash). */
export function absolute(p: string, what: string): string {
  if (p.startsWith('/')) return resolve(p);
  try {
    process.cwd();
  } catch {
    throw envError(`${what} ${p} is relative, and the current folder no longer exists (it was deleted)`, `cd to a folder that exists (cd ~), or give ${what} as an absolute path`);
  }
  return resolve(p);
}
