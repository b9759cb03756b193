// What every command receives: parsed flags, output channels and where things live.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Journey } from '../engine/journey.ts';
import type { Selection } from '../engine/packs.ts';
import type { FlagValues } from './args.ts';

export interface Cli {
  verb: string;
  positionals: string[];
  flags: FlagValues;
  json: boolean;
  color: boolean;
  allowHost: boolean;
  home: string;
  lessonsDir: string;
  /** where lessonsDir came from, and the installed pack whose progress is used */
  selection: Selection;
  /** the command line as typed, for hints like "sudo workshop …" */
  line: string;
  out(text?: string): void;
  err(text?: string): void;
  /** the one JSON document of --json */
  emit(value: unknown): void;
  /** raw text to stdout, even with --json: the JSON lines of a streaming command, terminal control */
  stream(text: string): void;
  /** the learner's progress and the lesson index, opened on first use */
  journey(): Journey;
}

/** projectRoot() of this file, found once: a command asked for it three times, each a read and parse of package.json. */
let ownRoot: string | undefined;

/** The project root: the nearest folder above this file with workshop's package.json (works from dist/ and src/). */
export function projectRoot(from?: string): string {
  if (from === undefined) return (ownRoot ??= findRoot(fileURLToPath(import.meta.url)));
  return findRoot(from);
}

function findRoot(from: string): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'workshop') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return dirname(from);
    dir = up;
  }
}

export const flagString = (f: FlagValues, name: string): string | undefined => {
  const v = f[name];
  return typeof v === 'string' ? v : undefined;
};
export const flagList = (f: FlagValues, name: string): string[] => {
  const v = f[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};
