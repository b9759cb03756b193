// Imports a chapter's steps.ts (Node 24 strips its types) and checks it against chapter.md.
// Every problem is reported as file:line.
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lessonError } from '../errors.ts';
import type { ChapterEntry, LessonProblem } from './catalog.ts';
import { formatProblem } from './catalog.ts';
import { FORMAT_VERSION, type ChapterDef } from './define.ts';
import { propertyLine, scanStepKeys } from './scan.ts';
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
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'workshop/lesson') return { url: api.href, shortCircuit: true };
      return next(specifier, context);
    },
  });
}

const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';
const isObj = isRecord;

/** Checks a chapter definition against its chapter.md; pure apart from reading steps.ts's text. */
export function validateChapter(entry: ChapterEntry, value: unknown, source: string): LessonProblem[] {
  const file = entry.stepsPath;
  const at = (line: number, message: string): LessonProblem => ({ file, line, message });
  if (!isObj(value)) return [at(1, 'steps.ts must `export default defineChapter({ … })`')];
  const problems: LessonProblem[] = [];
  if (value['formatVersion'] !== FORMAT_VERSION) problems.push(at(propertyLine(source, 'formatVersion'), `unknown formatVersion ${JSON.stringify(value['formatVersion'])}: this workshop reads formatVersion ${FORMAT_VERSION}`));
  if (value['id'] !== entry.id) problems.push(at(propertyLine(source, 'id'), `id ${JSON.stringify(value['id'])} must equal the folder's chapter id "${entry.id}"`));
  if (typeof value['title'] !== 'string' || !value['title']) problems.push(at(propertyLine(source, 'title'), 'title must be a non-empty string'));
  if (!isFn(value['cleanup'])) problems.push(at(propertyLine(source, 'cleanup'), 'missing cleanup(ctx): every chapter must remove what its steps create'));
  for (const hook of ['setup', 'env'] as const) if (value[hook] !== undefined && !isFn(value[hook])) problems.push(at(propertyLine(source, hook), `${hook} must be a function`));
  const steps = value['steps'];
  if (!isObj(steps)) return [...problems, at(propertyLine(source, 'steps'), 'steps must be an object of step definitions')];

  const scanned = scanStepKeys(source);
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
    const mutants = step['mutants'];
    if (mutants !== undefined) {
      if (!isObj(mutants)) problems.push(at(line, `step "${id}": mutants must be an object`));
      else
        for (const [m, fn] of Object.entries(mutants)) {
          const objectForm = isObj(fn) && isFn(fn['apply']) && (fn['revert'] === undefined || isFn(fn['revert']));
          if (!isFn(fn) && !objectForm) problems.push(at(line, `step "${id}": mutant "${m}" must be a function or { apply, revert?, diagnosis? }`));
          else if (isObj(fn) && fn['diagnosis'] !== undefined && !(fn['diagnosis'] instanceof RegExp)) problems.push(at(line, `step "${id}": mutant "${m}": diagnosis must be a RegExp, e.g. /read-only|no upperdir/`));
        }
    }
  }
  return problems;
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
      mod = (await import(pathToFileURL(entry.stepsPath).href)) as Record<string, unknown>;
    } catch (err) {
      const e = err as Error;
      const line = /:(\d+)/.exec(e.stack?.split('\n').find((l) => l.includes(entry.stepsPath)) ?? '')?.[1];
      found.push({ file: entry.stepsPath, line: line ? Number(line) : 1, message: `cannot import: ${e.message.split('\n')[0] ?? ''}` });
    }
  }
  if (mod) found.push(...validateChapter(entry, mod['default'], source));
  if (found.length === 0 && mod) return { entry, def: mod['default'] as ChapterDef };
  if (problems) {
    problems.push(...found);
    return undefined;
  }
  throw lessonError(`lesson ${entry.id} is broken:\n  ${found.map(formatProblem).join('\n  ')}`, 'run `workshop lint` for the whole pack');
}
