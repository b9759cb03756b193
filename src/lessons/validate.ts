// What a chapter's steps.ts must hold, checked against its chapter.md, and why an import failed:
// what the lesson host (host-serve.ts) applies to the value it imported, and workshop (host.ts) to
// an import that never returned. Every problem is a file:line.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { LessonProblem } from './catalog.ts';
import { FORMAT_VERSION } from './define.ts';
import { propertyLine, scanStepKeys, type KeyAt } from './scan.ts';
import { isRecord } from '../sys/lang.ts';

/** What validation needs of a catalog entry (a ChapterEntry is one). */
export interface ChapterSource {
  id: string;
  stepsPath: string;
  mdPath: string;
  text: { steps: ReadonlyArray<{ id: string; line: number }> };
}

const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';
const isObj = isRecord;

/** Plain data all the way down (what `state` must be): strings, numbers, booleans, arrays and plain objects. */
function isData(v: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every((x) => isData(x, depth + 1));
  return isObj(v) && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every((x) => isData(x, depth + 1));
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
export function validateChapter(entry: ChapterSource, value: unknown, source: string, keys?: readonly KeyAt[]): LessonProblem[] {
  const file = entry.stepsPath;
  const at = (line: number, message: string): LessonProblem => ({ file, line, message });
  if (!isObj(value)) return [at(1, 'steps.ts must `export default defineChapter({ … })`')];
  const problems: LessonProblem[] = [];
  if (value['formatVersion'] !== FORMAT_VERSION) problems.push(at(propertyLine(source, 'formatVersion'), `unknown formatVersion ${JSON.stringify(value['formatVersion'])}: this workshop reads formatVersion ${FORMAT_VERSION}`));
  if (value['id'] !== entry.id) problems.push(at(propertyLine(source, 'id'), `id ${JSON.stringify(value['id'])} must equal the folder's chapter id "${entry.id}"`));
  if (typeof value['title'] !== 'string' || !value['title']) problems.push(at(propertyLine(source, 'title'), 'title must be a non-empty string'));
  if (!isFn(value['cleanup'])) problems.push(at(propertyLine(source, 'cleanup'), 'missing cleanup(ctx): every chapter must remove what its steps create'));
  for (const hook of ['setup', 'env', 'removes', 'shellVars'] as const) if (value[hook] !== undefined && !isFn(value[hook])) problems.push(at(propertyLine(source, hook), `${hook} must be a function`));
  const requires = value['requires'];
  if (requires !== undefined && (!Array.isArray(requires) || !requires.every((r) => isObj(r) && typeof r['describe'] === 'string' && isFn(r['probe']))))
    problems.push(at(propertyLine(source, 'requires'), "requires must be a list of requirements, e.g. [tool('busybox'), kernelFs('overlay')]"));
  if (value['state'] !== undefined && !isData(value['state'])) problems.push(at(propertyLine(source, 'state'), "state must be data: 'overlayfs', { family: 'lvm', vg: 'HostVG' } or a list of them"));
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

/** What the lesson host throws where lesson code calls process.exit() or process.reallyExit() (host-child.ts). */
export function isLessonExit(err: unknown): boolean {
  try {
    return err instanceof Error && err.name === 'LessonExit';
  } catch {
    return false;
  }
}

/** The line of the first top-level `await` (not indented), where an import hangs. */
export const topLevelAwaitLine = (source: string): number => {
  const i = source.split('\n').findIndex((l) => /^(?:export\s+)?(?:(?:const|let|var)\s[^=]*=\s*)?await\b/.test(l));
  return i < 0 ? 1 : i + 1;
};

/** Where an import that does not finish most likely waits: its first top-level await. */
export function hangLine(file: string): number {
  try {
    return topLevelAwaitLine(readFileSync(file, 'utf8'));
  } catch {
    return 1;
  }
}

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

/** The stack of an Error, if reading it does not throw. */
export function stackOf(err: unknown): string | undefined {
  try {
    return err instanceof Error && typeof err.stack === 'string' ? err.stack : undefined;
  } catch {
    return undefined;
  }
}

/** The line of `file` in a stack trace, if the stack passes through it. */
export const stackLineIn = (stack: string | undefined, file: string): number | undefined => {
  const frame = stack?.split('\n').find((l) => /^\s+at /.test(l) && l.includes(file));
  const at = /:(\d+)(?::\d+)?\)?$/.exec(frame ?? '')?.[1];
  return at === undefined ? undefined : Number(at);
};

/** Why a steps.ts could not be imported, at the line that caused it. */
export function importProblem(file: string, source: string, err: unknown, describe: (err: unknown) => string): LessonProblem {
  const message = describe(err);
  const first = message.split('\n')[0] ?? '';
  const stackLine = stackLineIn(stackOf(err), file);
  // A missing package has no frame in steps.ts: find the import that names it.
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(first)?.[1];
  const line = stackLine ?? (missing !== undefined ? importLineOf(source, missing) : undefined);
  return { file, line: line ?? 1, message: isLessonExit(err) ? `it calls ${String(Reflect.get(err as object, 'call'))} while it is imported; a lesson must never exit workshop` : `cannot import: ${first}` };
}
