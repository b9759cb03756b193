// Installed lesson packs and which lessons a command uses. A pack is installed as
// HOME/packs/NAME/ (its chapters, and the record of where it came from in .workshop-pack.json);
// the pack in use is HOME/packs/.in-use. Read by every command (main.ts, quick.ts): only node:fs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { usageError } from '../errors.ts';
import { isRecord } from '../sys/lang.ts';
import { realPathOf } from './workspace.ts';

/** The name the built-in curriculum goes by in `pack use` and `list`. */
export const BUILTIN = 'builtin';
/** A pack's name is a folder name under the packs folder: nothing that could leave it. */
export const PACK_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const RECORD_FILE = '.workshop-pack.json';

export const packsDir = (home: string): string => join(resolve(home), 'packs');
export const packDir = (home: string, name: string): string => join(packsDir(home), name);
export const inUsePath = (home: string): string => join(packsDir(home), '.in-use');

/** Where an installed pack came from, and what was proven when it was added. */
export interface PackRecord {
  name: string;
  kind: 'dir' | 'git' | 'npm' | 'url';
  source: string;
  /** package.json's version, the git commit, or null when the source had neither */
  version: string | null;
  commit: string | null;
  addedAt: string;
  tested: 'passed' | 'skipped';
}

/** Which lessons a command uses, and why: --lessons, WORKSHOP_LESSONS, the pack in use, or the built-in ones. */
export interface Selection {
  dir: string;
  source: 'flag' | 'env' | 'pack' | 'builtin';
  /** the installed pack, or undefined for the built-in lessons and a loose folder */
  pack: string | undefined;
  /**
   * Where this selection's progress lives under HOME/progress/ (engine/workspace.ts): the pack's
   * name, a key of its own for a loose folder (looseKey), or undefined for the built-in lessons'
   * state.json at the top of the home.
   */
  progress: string | undefined;
  /** a pack in use that is no longer installed: the built-in lessons are used instead */
  warning?: string;
}

export function readRecord(home: string, name: string): PackRecord | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(join(packDir(home, name), RECORD_FILE), 'utf8'));
    if (!isRecord(v) || v['name'] !== name) return undefined;
    return v as unknown as PackRecord;
  } catch {
    return undefined;
  }
}

/** The installed packs, by name (folders with a record; a half-copied one has none). */
export function installedPacks(home: string): PackRecord[] {
  let names: string[];
  try {
    names = readdirSync(packsDir(home));
  } catch {
    return [];
  }
  return names
    .filter((n) => PACK_NAME.test(n))
    .sort()
    .flatMap((n) => readRecord(home, n) ?? []);
}

/** The installed pack `name`, or a usage error that lists those there are. */
export function installed(home: string, name: string): PackRecord {
  const r = PACK_NAME.test(name) ? readRecord(home, name) : undefined;
  if (r) return r;
  const names = [BUILTIN, ...installedPacks(home).map((p) => p.name)];
  throw usageError(`no pack named "${name.slice(0, 60)}" is installed`, `the packs: ${names.join(', ')} (\`workshop pack list\`); \`workshop pack add SOURCE\` installs one`);
}

/** The name of the pack in use, or BUILTIN. */
export function packInUse(home: string): string {
  try {
    const name: unknown = JSON.parse(readFileSync(inUsePath(home), 'utf8'));
    return typeof name === 'string' && PACK_NAME.test(name) ? name : BUILTIN;
  } catch {
    return BUILTIN;
  }
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The installed pack that `dir` is, so that --lessons HOME/packs/NAME keeps that pack's progress. */
function packOfDir(home: string, dir: string): string | undefined {
  const root = packsDir(home);
  if (!dir.startsWith(`${root}/`)) return undefined;
  const name = dir.slice(root.length + 1);
  return PACK_NAME.test(name) && readRecord(home, name) !== undefined ? name : undefined;
}

/** FNV-1a, 32 bits: a short, stable tag of a path (not a secret, and read on every command, so no node:crypto). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * The progress key of a loose folder of lessons (--lessons DIR or WORKSHOP_LESSONS, not
 * installed): `@` (never in a pack's name, so never an installed pack's) with the folder's name
 * and a tag of its real path, so that two folders never share progress, and the same folder
 * reached by another path keeps its own.
 */
export function looseKey(dir: string): string {
  const real = realPathOf(dir);
  const name = basename(real).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'lessons';
  return `@${name}-${fnv1a(real)}`;
}

/** A folder named on the command line or in the environment: an installed pack, the built-in lessons, or a loose folder. */
function chosen(home: string, dir: string, source: 'flag' | 'env', builtinDir: string): Selection {
  const pack = packOfDir(home, dir);
  if (pack !== undefined) return { dir, source, pack, progress: pack };
  return { dir, source, pack: undefined, progress: realPathOf(dir) === realPathOf(builtinDir) ? undefined : looseKey(dir) };
}

/**
 * The lessons of a command: `--lessons DIR` (`flagDir`, already absolute) wins over
 * WORKSHOP_LESSONS, which wins over the pack in use, which wins over the built-in lessons.
 */
export function selectLessons(home: string, flagDir: string | undefined, builtinDir: string, env: NodeJS.ProcessEnv = process.env): Selection {
  if (flagDir !== undefined) return chosen(home, flagDir, 'flag', builtinDir);
  const fromEnv = env['WORKSHOP_LESSONS'];
  if (fromEnv !== undefined && fromEnv !== '') return chosen(home, resolve(fromEnv), 'env', builtinDir);
  const name = packInUse(home);
  if (name === BUILTIN) return { dir: builtinDir, source: 'builtin', pack: undefined, progress: undefined };
  const dir = packDir(home, name);
  if (isDir(dir) && readRecord(home, name) !== undefined) return { dir, source: 'pack', pack: name, progress: name };
  return { dir: builtinDir, source: 'builtin', pack: undefined, progress: undefined, warning: `the pack in use, ${name}, is no longer installed: the built-in lessons are used (\`workshop pack use NAME\` picks another)` };
}
