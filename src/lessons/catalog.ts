// The lesson index: chapters and their steps, read from chapter.md alone. No steps module is
// imported here, so `workshop status` and `list` stay fast.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseChapterMd, type ChapterText } from './markdown.ts';
import { scanStepKeys, type KeyAt } from './scan.ts';

export interface LessonProblem {
  file: string;
  line: number;
  message: string;
}

export const formatProblem = (p: LessonProblem): string => `${p.file}:${p.line}: ${p.message}`;

export interface ChapterEntry {
  id: string;
  /** the NN of the folder name; orders the chapters */
  order: number;
  dir: string;
  mdPath: string;
  stepsPath: string;
  text: ChapterText;
  /** steps.ts's step keys with their lines (scan.ts), from the cache, and the file key they are of */
  stepKeys?: { key: string; keys: KeyAt[] };
}

export interface Catalog {
  dir: string;
  chapters: ChapterEntry[];
  problems: LessonProblem[];
}

const FOLDER = /^(\d+)-([a-z0-9][a-z0-9-]*)$/;

/** Why a lesson file cannot be read, by its error code: "missing" only when it is missing. */
function unreadable(err: unknown, name: string): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return `missing ${name}`;
  if (code === 'ELOOP') return `${name} is a symlink loop: it points back to itself`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot read ${name}: permission denied`;
  if (code === 'EISDIR') return `${name} is a folder, not a file`;
  return `cannot read ${name}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Control bytes other than tab, CR, LF and form feed: a binary file, not markdown. */
const BINARY = /[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/;

/**
 * Parsed chapter.md files by path, keyed by mtime, size and inode: parsing the ten chapters
 * (111 kB) was ~14M instructions of `workshop status`, reading the JSON back ~1M (callgrind).
 */
interface TextCache {
  /** the index: each text without its bodies (intro, steps' and closing's), which lie in `bodiesDir` */
  texts: Record<string, { key: string; text: ChapterText }>;
  /** one file per chapter.md, with its bodies: status reads none, next and show the one they print */
  bodiesDir: string;
  /** texts parsed in this run, whose bodies are written with the index */
  fresh: Record<string, ChapterText>;
  /** steps.ts's step keys by path: scanning a 29 kB steps.ts cost each `next` ~18M instructions */
  keys: Record<string, { key: string; keys: KeyAt[] }>;
  /** a text was parsed: write the file back */
  dirty: boolean;
}

/** 2: the bodies moved out of the index (the index was 124 kB, 2M instructions of every command) */
const FORMAT = 2;

function readTextCache(path: string): TextCache {
  const bodiesDir = `${path.replace(/\.json$/, '')}.bodies`;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; texts?: unknown; keys?: unknown } | null;
    if (v?.format === FORMAT && typeof v.texts === 'object' && v.texts !== null) return { texts: v.texts as TextCache['texts'], bodiesDir, fresh: {}, keys: typeof v.keys === 'object' && v.keys !== null ? (v.keys as TextCache['keys']) : {}, dirty: false };
  } catch {
    // none yet, or unreadable: parse everything
  }
  return { texts: {}, bodiesDir, fresh: {}, keys: {}, dirty: false };
}

/** The bodies of one chapter.md, as its own file holds them. */
interface Bodies {
  key: string;
  intro: string;
  steps: string[];
  closing: string | null;
}

/** A file name for a chapter.md's bodies: FNV-1a of its path (no node:crypto on this path). */
function bodiesFile(dir: string, mdPath: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < mdPath.length; i++) h = Math.imul(h ^ mdPath.charCodeAt(i), 0x01000193);
  return join(dir, `${(h >>> 0).toString(16).padStart(8, '0')}.json`);
}

/** The text without its bodies, as the index keeps it. */
function summaryOf(text: ChapterText): ChapterText {
  return { ...text, intro: '', steps: text.steps.map((st) => ({ ...st, body: '' })), closing: text.closing && { ...text.closing, body: '' } };
}

/**
 * The index's text of `mdPath` with its bodies read on first use from their own file. A file that
 * is missing or of another version of chapter.md is replaced by a parse of chapter.md as it is.
 */
function withLazyBodies(summary: ChapterText, mdPath: string, key: string, dir: string): ChapterText {
  let bodies: Bodies | undefined;
  const load = (): Bodies => {
    if (bodies) return bodies;
    try {
      const b = JSON.parse(readFileSync(bodiesFile(dir, mdPath), 'utf8')) as Bodies | null;
      if (b?.key === key && Array.isArray(b.steps) && b.steps.length === summary.steps.length) return (bodies = b);
    } catch {
      // gone or unreadable: parse chapter.md again
    }
    let text: ChapterText | undefined;
    try {
      text = parseChapterMd(readFileSync(mdPath, 'utf8'));
    } catch {
      // chapter.md went away since the index was read: no bodies
    }
    return (bodies = { key, intro: text?.intro ?? '', steps: summary.steps.map((st) => text?.steps.find((t) => t.id === st.id)?.body ?? ''), closing: text?.closing?.body ?? null });
  };
  return {
    ...summary,
    get intro() {
      return load().intro;
    },
    steps: summary.steps.map((st, i) => ({
      ...st,
      get body() {
        return load().steps[i] ?? '';
      },
    })),
    closing: summary.closing && {
      ...summary.closing,
      get body() {
        return load().closing ?? '';
      },
    },
  };
}

const ascii = (json: string): string => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function writeTextCache(path: string, cache: TextCache): void {
  try {
    // the cache's folder only, never its parents (a home or a project that is not there)
    if (!existsSync(dirname(path))) mkdirSync(dirname(path));
    const tmp = `${path}.${process.pid}.tmp`;
    // Written as ASCII (\uXXXX escapes): V8 parses a one-byte JSON text in a third of the time
    // of a text with ✔ or … in it, which it holds as two-byte (~3M of status's instructions).
    // Texts of files that are gone (the packs of finished tests, a renamed chapter) are dropped:
    // every command that reads the index parses the whole file.
    const texts = Object.fromEntries(Object.entries(cache.texts).filter(([p]) => existsSync(p)));
    const keys = Object.fromEntries(Object.entries(cache.keys).filter(([p]) => existsSync(p)));
    // the bodies first: an index never names a text whose bodies were not written
    const wanted = new Set(Object.keys(texts).map((p) => bodiesFile(cache.bodiesDir, p)));
    if (Object.keys(cache.fresh).length > 0 && !existsSync(cache.bodiesDir)) mkdirSync(cache.bodiesDir);
    for (const [p, text] of Object.entries(cache.fresh)) {
      const key = texts[p]?.key;
      if (key === undefined) continue;
      const file = bodiesFile(cache.bodiesDir, p);
      const b: Bodies = { key, intro: text.intro, steps: text.steps.map((st) => st.body), closing: text.closing?.body ?? null };
      writeFileSync(`${file}.${process.pid}.tmp`, `${ascii(JSON.stringify(b))}\n`);
      renameSync(`${file}.${process.pid}.tmp`, file);
    }
    if (existsSync(cache.bodiesDir)) for (const name of readdirSync(cache.bodiesDir)) if (!wanted.has(join(cache.bodiesDir, name))) rmSync(join(cache.bodiesDir, name), { force: true });
    writeFileSync(tmp, `${ascii(JSON.stringify({ format: FORMAT, texts, keys }))}\n`);
    renameSync(tmp, path);
  } catch {
    // a learner without root cannot write the home: they parse every time
  }
}

/** The cache's key of a lesson file: its mtime, size and inode; undefined when it cannot be stat'ed. */
export function textKey(path: string): string | undefined {
  try {
    return fileKey(statSync(path));
  } catch {
    return undefined;
  }
}
export const fileKey = (st: { mtimeMs: number; size: number; ino: number }): string => `${st.mtimeMs}:${st.size}:${st.ino}`;

function parsed(mdPath: string, md: string, cache: TextCache | undefined, key: string | undefined): ChapterText {
  const text = parseChapterMd(md);
  if (cache && key !== undefined) {
    cache.texts[mdPath] = { key, text: summaryOf(text) };
    cache.fresh[mdPath] = text;
    cache.dirty = true;
  }
  return text;
}

function readEntry(dir: string, order: number, id: string, problems: LessonProblem[], cache?: TextCache): ChapterEntry | undefined {
  const mdPath = join(dir, 'chapter.md');
  const stepsPath = join(dir, 'steps.ts');
  let stepKeys: ChapterEntry['stepKeys'];
  const statSteps = (): void => {
    let key: string;
    try {
      key = fileKey(statSync(stepsPath));
    } catch (err) {
      problems.push({ file: stepsPath, line: 1, message: unreadable(err, 'steps.ts next to chapter.md') });
      return;
    }
    if (!cache) return;
    const had = cache.keys[stepsPath];
    if (had?.key === key) {
      stepKeys = had;
      return;
    }
    // steps.ts is new or changed: its keys are scanned once here, for every later `next`
    try {
      stepKeys = { key, keys: scanStepKeys(readFileSync(stepsPath, 'utf8')) };
      cache.keys[stepsPath] = stepKeys;
      cache.dirty = true;
    } catch {
      // unreadable: the loader says so
    }
  };
  // A cached text was read, found to be text and parsed while the file had this key: it is not read again.
  const key = cache ? textKey(mdPath) : undefined;
  const hit = key === undefined ? undefined : cache?.texts[mdPath];
  if (hit && hit.key === key && key !== undefined && cache) {
    statSteps();
    return entryOf(withLazyBodies(hit.text, mdPath, key, cache.bodiesDir));
  }
  let md: string;
  try {
    md = readFileSync(mdPath, 'utf8');
  } catch (err) {
    problems.push({ file: mdPath, line: 1, message: unreadable(err, 'chapter.md') });
    return undefined;
  }
  statSteps();
  const binary = BINARY.exec(md);
  if (binary) {
    const line = md.slice(0, binary.index).split('\n').length;
    problems.push({ file: mdPath, line, message: `chapter.md is not text (binary data, ${Buffer.byteLength(md)} bytes): it must be markdown` });
    return undefined;
  }
  return entryOf(parsed(mdPath, md, cache, key));

  function entryOf(text: ChapterText): ChapterEntry | undefined {
    for (const p of text.problems) problems.push({ file: mdPath, ...p });
    // A chapter without a step cannot be worked on; its file:line problems say why (an empty file).
    if (text.steps.length === 0) return undefined;
    return { id, order, dir, mdPath, stepsPath, text, ...(stepKeys ? { stepKeys } : {}) };
  }
}

/**
 * Reads a lesson pack: a folder of NN-slug chapter folders, or one chapter folder itself.
 * `opts.cache` is a file that keeps the parsed chapter.md files between runs.
 */
export function readCatalog(lessonsDir: string, opts: { cache?: string } = {}): Catalog {
  const cache = opts.cache === undefined ? undefined : readTextCache(opts.cache);
  const cat = readPack(lessonsDir, cache);
  if (opts.cache !== undefined && cache?.dirty) writeTextCache(opts.cache, cache);
  return cat;
}

function readPack(lessonsDir: string, cache: TextCache | undefined): Catalog {
  const dir = resolve(lessonsDir);
  const problems: LessonProblem[] = [];
  const chapters: ChapterEntry[] = [];
  if (existsSync(join(dir, 'chapter.md'))) {
    const m = FOLDER.exec(basename(dir));
    const e = readEntry(dir, m ? Number(m[1]) : 0, m?.[2] ?? basename(dir), problems, cache);
    if (e) chapters.push(e);
    return { dir, chapters, problems };
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    problems.push({ file: dir, line: 1, message: 'not a readable lesson folder' });
    return { dir, chapters, problems };
  }
  for (const name of names.sort()) {
    const m = FOLDER.exec(name);
    if (!m?.[2]) {
      // `01-Greeting` looks like a chapter but is not one: say so rather than skip it silently.
      if (/^\d+-/.test(name) && existsSync(join(dir, name, 'chapter.md'))) {
        problems.push({ file: join(dir, name), line: 1, message: `"${name}" is not a chapter folder name: use NN-slug with lowercase letters, digits and dashes (${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')})` });
      }
      continue;
    }
    const e = readEntry(join(dir, name), Number(m[1]), m[2], problems, cache);
    if (!e) continue;
    const dup = chapters.find((c) => c.id === e.id);
    if (dup) problems.push({ file: e.mdPath, line: 1, message: `duplicate chapter id "${e.id}" (also ${dup.dir})` });
    else chapters.push(e);
  }
  if (chapters.length === 0 && problems.length === 0) problems.push({ file: dir, line: 1, message: 'no chapters: expected folders like 01-name/ holding chapter.md and steps.ts' });
  chapters.sort((a, b) => a.order - b.order);
  return { dir, chapters, problems };
}

export interface StepAddress {
  chapter: ChapterEntry;
  step: string;
}

export const stepIds = (c: ChapterEntry): string[] => c.text.steps.map((s) => s.id);

export function allStepAddresses(cat: Catalog): string[] {
  return cat.chapters.flatMap((c) => stepIds(c).map((s) => `${c.id}/${s}`));
}
