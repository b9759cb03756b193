// Imports a chapter's steps.ts (Node 24 strips its types) and checks it against chapter.md.
// Every problem is reported as file:line.
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { abandoned, lessonError } from '../errors.ts';
import type { ChapterEntry, LessonProblem } from './catalog.ts';
import { formatProblem, textKey } from './catalog.ts';
import { FORMAT_VERSION, type ChapterDef } from './define.ts';
import { propertyLine, scanStepKeys, type KeyAt } from './scan.ts';
import { isRecord } from '../checks/lang.ts';

export interface LoadedChapter {
  entry: ChapterEntry;
  def: ChapterDef;
}

let hooked = false;
/**
 * Packs outside the repo have no node_modules, yet `import … from 'workshop/lesson'` must reach
 * the running workshop: a resolve hook maps it to the built lesson.js next to this bundle.
 * From source (vitest) the alias in vitest.config.ts does the same.
 */
function hookLessonApi(): void {
  if (hooked) return;
  hooked = true;
  const api = new URL('./lesson.js', import.meta.url);
  if (!import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(api))) return;
  // The build's node:fs/promises on callback fs (scripts/fs-promises-lite.mjs): the real one costs a
  // `next` ~26M instructions to load. Only for lesson code, never for a package's.
  const fsPromises = new URL('./fs-promises.js', import.meta.url);
  const lite = existsSync(fileURLToPath(fsPromises));
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'workshop/lesson') return { url: api.href, shortCircuit: true };
      if (lite && specifier === 'node:fs/promises' && context.parentURL?.startsWith('file:') && !context.parentURL.includes('/node_modules/')) return { url: fsPromises.href, shortCircuit: true };
      return next(specifier, context);
    },
  });
}

const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';
const isObj = isRecord;

/** The lesson index's scan of steps.ts, if it is of the file as it is now; else a scan of it. */
function keysOf(entry: ChapterEntry): KeyAt[] | undefined {
  const cached = entry.stepKeys;
  return cached !== undefined && textKey(entry.stepsPath) === cached.key ? cached.keys : undefined;
}

/** What is wrong with a chapter's `madeOutside`: a list of { path, madeBy, remove }, each path absolute and not `/`. Pure. */
export function outsideProblems(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return ['madeOutside must be a list of { path, madeBy, remove }'];
  return v.flatMap((o: unknown, i) => {
    if (!isObj(o) || typeof o['path'] !== 'string' || typeof o['madeBy'] !== 'string' || typeof o['remove'] !== 'string' || o['madeBy'] === '' || o['remove'] === '') return [`madeOutside[${i}] must be { path, madeBy, remove }, each a non-empty string`];
    const p = o['path'];
    if (!p.startsWith('/') || p === '/' || p !== posix.normalize(p) || p.endsWith('/')) return [`madeOutside[${i}]: path ${JSON.stringify(p)} must be an absolute path other than /, written as normalize writes it`];
    return [];
  });
}

/** Checks a chapter definition against its chapter.md; pure apart from reading steps.ts's text. */
export function validateChapter(entry: ChapterEntry, value: unknown, source: string, keys?: readonly KeyAt[]): LessonProblem[] {
  const file = entry.stepsPath;
  const at = (line: number, message: string): LessonProblem => ({ file, line, message });
  if (!isObj(value)) return [at(1, 'steps.ts must `export default defineChapter({ … })`')];
  const problems: LessonProblem[] = [];
  if (value['formatVersion'] !== FORMAT_VERSION) problems.push(at(propertyLine(source, 'formatVersion'), `unknown formatVersion ${JSON.stringify(value['formatVersion'])}: this workshop reads formatVersion ${FORMAT_VERSION}`));
  if (value['id'] !== entry.id) problems.push(at(propertyLine(source, 'id'), `id ${JSON.stringify(value['id'])} must equal the folder's chapter id "${entry.id}"`));
  if (typeof value['title'] !== 'string' || !value['title']) problems.push(at(propertyLine(source, 'title'), 'title must be a non-empty string'));
  if (!isFn(value['cleanup'])) problems.push(at(propertyLine(source, 'cleanup'), 'missing cleanup(ctx): every chapter must remove what its steps create'));
  for (const hook of ['setup', 'env', 'removes', 'shellVars'] as const) if (value[hook] !== undefined && !isFn(value[hook])) problems.push(at(propertyLine(source, hook), `${hook} must be a function`));
  problems.push(...outsideProblems(value['madeOutside']).map((m) => at(propertyLine(source, 'madeOutside'), m)));
  const steps = value['steps'];
  if (!isObj(steps)) return [...problems, at(propertyLine(source, 'steps'), 'steps must be an object of step definitions')];

  const scanned = keys ?? scanStepKeys(source);
  const lineOfKey = (k: string) => scanned.find((s) => s.key === k)?.line ?? propertyLine(source, 'steps');
  scanned.forEach((s, i) => {
    const first = scanned.findIndex((t) => t.key === s.key);
    if (first !== i) problems.push(at(s.line, `duplicate step id "${s.key}" (first at line ${scanned[first]?.line ?? '?'}); JavaScript keeps only the last one`));
  });
  const mdIds = entry.text.steps.map((s) => s.id);
  const defIds = Object.keys(steps);
  for (const s of entry.text.steps) if (!defIds.includes(s.id)) problems.push({ file: entry.mdPath, line: s.line, message: `step "${s.id}" has no definition in steps.ts` });
  for (const id of defIds) if (!mdIds.includes(id)) problems.push(at(lineOfKey(id), `step "${id}" has no "## … {#${id}}" section in chapter.md`));
  const common = defIds.filter((id) => mdIds.includes(id));
  const mdOrder = [...new Set(mdIds)].filter((id) => defIds.includes(id));
  if (common.join() !== mdOrder.join()) problems.push(at(propertyLine(source, 'steps'), `steps are in a different order than in chapter.md (${mdOrder.join(', ')})`));

  for (const [id, step] of Object.entries(steps)) {
    const line = lineOfKey(id);
    if (!isObj(step)) {
      problems.push(at(line, `step "${id}" must be an object`));
      continue;
    }
    if (!isFn(step['verify'])) problems.push(at(line, `step "${id}" has no verify(ctx)`));
    if (!isFn(step['solve'])) problems.push(at(line, `step "${id}" has no solve(ctx)`));
    const hints = step['hints'];
    if (!Array.isArray(hints) || hints.length === 0 || !hints.every((h) => typeof h === 'string')) problems.push(at(line, `step "${id}" needs hints: a non-empty list of strings, from a nudge to the full command`));
    const undoes = step['undoes'];
    if (undoes !== undefined && undoes !== '*') {
      if (!Array.isArray(undoes) || !undoes.every((u) => typeof u === 'string')) problems.push(at(line, `step "${id}": undoes must be '*' or a list of earlier step ids`));
      else for (const u of undoes) if (!defIds.slice(0, defIds.indexOf(id)).includes(u)) problems.push(at(line, `step "${id}" undoes "${u}", which is not an earlier step of this chapter`));
    }
    const mutants = step['mutants'];
    if (mutants !== undefined) {
      if (!isObj(mutants)) problems.push(at(line, `step "${id}": mutants must be an object`));
      else
        for (const [m, fn] of Object.entries(mutants)) {
          const objectForm = isObj(fn) && isFn(fn['apply']) && (fn['revert'] === undefined || isFn(fn['revert']));
          if (!isFn(fn) && !objectForm) problems.push(at(line, `step "${id}": mutant "${m}" must be a function or { apply, diagnosis?, recovery? }`));
          else if (isObj(fn) && fn['diagnosis'] !== undefined && !(fn['diagnosis'] instanceof RegExp)) problems.push(at(line, `step "${id}": mutant "${m}": diagnosis must be a RegExp, e.g. /read-only|no upperdir/`));
          else if (isObj(fn) && fn['recovery'] !== undefined && fn['recovery'] !== 'solve' && fn['recovery'] !== 'restore') problems.push(at(line, `step "${id}": mutant "${m}": recovery must be 'solve' or 'restore'`));
        }
    }
    const controls = step['controls'];
    if (controls !== undefined) {
      if (!isObj(controls)) problems.push(at(line, `step "${id}": controls must be an object`));
      else
        for (const [c, v] of Object.entries(controls)) {
          if (!isObj(v) || !isFn(v['apply']) || (v['revert'] !== undefined && !isFn(v['revert']))) problems.push(at(line, `step "${id}": control "${c}" must be { apply, revert? }`));
        }
    }
  }
  return problems;
}

/** How long importing one steps.ts may take: it only defines functions, in milliseconds. */
export const IMPORT_TIMEOUT_MS = 5000;

class ExitAtImport extends Error {
  override name = 'ExitAtImport';
}
class ImportTimeout extends Error {
  override name = 'ImportTimeout';
}

let guarding = 0;
let realExit: typeof process.exit | undefined;

/**
 * Imports a steps.ts so that it cannot end workshop: a `process.exit()` at import throws instead
 * (its stack names the line), and an import that does not finish in time (a top-level await
 * that never settles) is abandoned. Without this, `lint` and `list` of such a pack exited 0 with
 * no output, a false pass for an author's CI, or 13 with Node's "unsettled top-level await".
 * In-process rather than in a child: `list` imports every chapter and must stay fast.
 */
async function guardedImport(url: string, timeoutMs = IMPORT_TIMEOUT_MS): Promise<Record<string, unknown>> {
  if (guarding++ === 0) {
    realExit = process.exit;
    process.exit = ((code?: number | string | null) => {
      throw new ExitAtImport(`it calls process.exit(${code ?? ''}) while it is imported; a lesson must never exit workshop`);
    }) as typeof process.exit;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandoned.work = true;
      reject(new ImportTimeout(`importing it did not finish within ${timeoutMs / 1000} s: a top-level await that never settles?`));
    }, timeoutMs);
  });
  try {
    return (await Promise.race([import(url) as Promise<Record<string, unknown>>, late])) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
    if (--guarding === 0 && realExit !== undefined) process.exit = realExit;
  }
}

/** The line of the first top-level `await` (not indented), where an import hangs. */
const topLevelAwaitLine = (source: string): number => {
  const i = source.split('\n').findIndex((l) => /^(?:export\s+)?(?:(?:const|let|var)\s[^=]*=\s*)?await\b/.test(l));
  return i < 0 ? 1 : i + 1;
};

/**
 * The line that imports `specifier` (static, side-effect or dynamic import). Node names a
 * missing relative file by its resolved path, so a specifier ending in the same file name counts.
 */
export const importLineOf = (source: string, specifier: string): number | undefined => {
  const lines = source.split('\n');
  const specs = lines.map((l) => /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/.exec(l)?.[1]);
  const base = specifier.split('/').pop() ?? specifier;
  let i = specs.findIndex((s) => s === specifier);
  if (i < 0) i = specs.findIndex((s) => s !== undefined && (s.split('/').pop() ?? s) === base);
  return i < 0 ? undefined : i + 1;
};

/** Why a steps.ts could not be imported, at the line that caused it. */
function importProblem(file: string, source: string, err: unknown): LessonProblem {
  const e = err instanceof Error ? err : new Error(String(err));
  const first = e.message.split('\n')[0] ?? '';
  if (e instanceof ImportTimeout) return { file, line: topLevelAwaitLine(source), message: e.message };
  const stackLine = /:(\d+)(?::\d+)?\)?$/.exec(e.stack?.split('\n').find((l) => l.includes(file)) ?? '')?.[1];
  // A missing package has no frame in steps.ts: find the import that names it.
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(first)?.[1];
  const line = stackLine !== undefined ? Number(stackLine) : missing !== undefined ? importLineOf(source, missing) : undefined;
  return { file, line: line ?? 1, message: e instanceof ExitAtImport ? e.message : `cannot import: ${first}` };
}

/** Imports and validates a chapter; collects problems instead of throwing when `problems` is given. */
export async function loadChapter(entry: ChapterEntry, problems?: LessonProblem[]): Promise<LoadedChapter | undefined> {
  hookLessonApi();
  const found: LessonProblem[] = [];
  let source = '';
  try {
    source = readFileSync(entry.stepsPath, 'utf8');
  } catch {
    found.push({ file: entry.stepsPath, line: 1, message: 'missing steps.ts' });
  }
  let mod: Record<string, unknown> | undefined;
  if (source) {
    try {
      mod = await guardedImport(pathToFileURL(entry.stepsPath).href);
    } catch (err) {
      found.push(importProblem(entry.stepsPath, source, err));
    }
  }
  if (mod) found.push(...validateChapter(entry, mod['default'], source, keysOf(entry)));
  if (found.length === 0 && mod) return { entry, def: mod['default'] as ChapterDef };
  if (problems) {
    problems.push(...found);
    return undefined;
  }
  throw lessonError(`lesson ${entry.id} is broken:\n  ${found.map(formatProblem).join('\n  ')}`, 'run `workshop lint` for the whole pack');
}
