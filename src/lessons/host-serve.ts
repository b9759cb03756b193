// What the lesson host does for workshop (host.ts): import a steps.ts and return its data, run a
// step's checks, a hook, a solution, a mutant, a requirement's probe or the env hook. Every reply
// is checked data; whatever lesson code throws becomes a message, never a crash of the host.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CHECK_TIMEOUT_MS, runCheck, type Check, type CheckResult } from '../checks/check.ts';
import { timeScale } from '../sys/exec.ts';
import { isRecord } from '../sys/lang.ts';
import { withProbeCache } from '../sys/probe-cache.ts';
import { describeFailure, safeString } from '../errors.ts';
import type { LessonProblem } from './catalog.ts';
import { checkContext, solveContext, stepContext } from './context.ts';
import type { ChapterDef, Mutant, SolveContext } from './define.ts';
import { checkedProbe, checkedResult, type ChapterData, type Hook, type HostReply, type HostRequest, type ControlData, type MutantData, type StepData } from './host-protocol.ts';
import { hangLine, importProblem, isLessonExit, validateChapter } from './validate.ts';

type Reply = HostReply extends infer R ? (R extends HostReply ? (R extends { id: number } ? Omit<R, 'id'> : never) : never) : never;

const chapters = new Map<string, ChapterDef>();
/** each chapter's steps.ts, to name it when its code fails outside any await */
const files = new Map<string, string>();

/** The calls in flight, each with how to end it if it can never return. */
const running = new Map<number, (why: string) => void>();

/**
 * Where replies go: to workshop over the IPC channel (the host is a child process), or, for the
 * built-in lessons run inside workshop's own process (host-inline.ts), straight to host.ts.
 */
let send = (m: HostReply): void => {
  process.send?.(m);
};
/** a child process: its channel and its process-wide handlers are the host's own */
let ownProcess = true;

/** While a call runs, a beat every quarter second tells workshop that the loop still turns. */
let beat: NodeJS.Timeout | undefined;
const BEAT_MS = 250;

function begin(id: number, abort: (why: string) => void): void {
  running.set(id, abort);
  if (running.size > 1) return;
  beat = setInterval(() => send({ type: 'beat' }), BEAT_MS).unref();
  if (!ownProcess) return;
  // While lesson code runs, the channel to workshop does not keep the host alive (nor does the
  // beat): if nothing else does (no timer, process or socket), the code waits for a promise that
  // nothing can settle, and 'beforeExit' below says so at once instead of at the time limit.
  process.channel?.unref();
}

function idle(): void {
  if (running.size > 0) return;
  clearInterval(beat);
  if (ownProcess) process.channel?.ref();
}

function reply(id: number, m: Reply): void {
  if (!running.has(id)) return; // ended already (aborted): a late answer counts for nothing
  send({ ...m, id } as HostReply);
  if (m.type === 'log' || m.type === 'checks' || m.type === 'result') return;
  running.delete(id);
  idle();
}

function abortAll(why: string): void {
  for (const abort of [...running.values()]) abort(why);
}

const stepOf = (def: ChapterDef, step: string) => {
  const s = def.steps[step];
  if (!s) throw new Error(`no step ${def.id}/${step}`);
  return s;
};

function chapterOf(id: string): ChapterDef {
  const def = chapters.get(id);
  if (!def) throw new Error(`chapter ${id} is not loaded in the lesson host`);
  return def;
}

/** A chapter's data for workshop; its steps.ts was validated, so only a getter can still throw. */
function dataOf(def: ChapterDef): ChapterData {
  const steps: Record<string, StepData> = {};
  for (const [id, s] of Object.entries(def.steps)) {
    const mutants: Record<string, MutantData> = {};
    for (const [name, m] of Object.entries(s.mutants ?? {})) {
      const diagnosis = typeof m === 'function' ? undefined : m.diagnosis;
      const recovery = typeof m === 'function' ? 'solve' : (m.recovery ?? 'solve');
      mutants[name] = { revert: typeof m !== 'function' && typeof m.revert === 'function', recovery, ...(diagnosis === undefined ? {} : { diagnosis }) };
    }
    const controls: Record<string, ControlData> = {};
    for (const [name, c] of Object.entries(s.controls ?? {})) controls[name] = { revert: typeof c.revert === 'function' };
    steps[id] = { hints: [...s.hints], mutants, controls, ...(s.undoes === undefined ? {} : { undoes: s.undoes === '*' ? '*' : [...s.undoes] }) };
  }
  return {
    id: def.id,
    title: def.title,
    requires: (def.requires ?? []).map((r) => r.describe),
    setup: typeof def.setup === 'function',
    env: typeof def.env === 'function',
    removes: typeof def.removes === 'function',
    shellVars: typeof def.shellVars === 'function',
    steps,
    ...(def.state === undefined ? {} : { state: structuredClone(def.state) }),
    ...(def.madeOutside === undefined ? {} : { madeOutside: def.madeOutside.map((o) => ({ path: o.path, madeBy: o.madeBy, remove: o.remove })) }),
  };
}

async function load(id: number, req: Extract<HostRequest, { op: 'load' }>): Promise<void> {
  const file = req.chapter.stepsPath;
  const problems = (list: LessonProblem[]) => reply(id, { type: 'problems', problems: list });
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return problems([{ file, line: 1, message: 'missing steps.ts' }]);
  }
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    return problems([importProblem(file, source, err, describeFailure)]);
  }
  const value = isRecord(mod) ? mod['default'] : undefined;
  const found = validateChapter(req.chapter, value, source, req.keys);
  if (found.length > 0) return problems(found);
  const def = value as ChapterDef;
  let data: ChapterData;
  try {
    data = dataOf(def);
  } catch (err) {
    return problems([{ file, line: 1, message: `its definition cannot be read: ${describeFailure(err)}` }]);
  }
  chapters.set(def.id, def);
  files.set(def.id, file);
  // The host is killed when workshop exits, before Node would write its compile cache.
  process.getBuiltinModule('node:module').flushCompileCache();
  reply(id, { type: 'loaded', chapter: data });
}

const isCheck = (c: unknown): c is Check => isRecord(c) && typeof c['run'] === 'function';
const nameOf = (c: unknown, i: number): string => {
  try {
    return isRecord(c) && typeof c['name'] === 'string' ? c['name'] : `check ${i + 1}`;
  } catch {
    return `check ${i + 1}`;
  }
};
/** The same limit as runCheck keeps: the check's own, or the default, scaled. */
const limitOf = (c: unknown): number => {
  const own = isRecord(c) ? c['timeoutMs'] : undefined;
  return (typeof own === 'number' && own > 0 ? own : CHECK_TIMEOUT_MS) * timeScale();
};

async function verify(id: number, req: Extract<HostRequest, { op: 'verify' }>): Promise<void> {
  const def = stepOf(chapterOf(req.chapter), req.step);
  const ctx = stepContext(req.place, req.step, (line) => reply(id, { type: 'log', line: safeString(line) }));
  const checks: unknown = def.verify(ctx);
  if (!Array.isArray(checks)) throw new Error(`verify must return a list of checks, not ${safeString(checks)}`);
  const names = checks.map(nameOf);
  reply(id, { type: 'checks', checks: checks.map((c, i) => ({ name: names[i] ?? '', limitMs: limitOf(c) })) });
  // the checks share their probes: each piece of kernel state is read once for them all
  await withProbeCache(() =>
    Promise.all(
      checks.map(async (c: unknown, i) => {
        const name = names[i] ?? '';
        const result: CheckResult = isCheck(c)
          ? await runCheck(c, ctx).catch((err: unknown): CheckResult => ({ status: 'error', check: name, error: describeFailure(err) }))
          : { status: 'error', check: name, error: 'it is not a check (build checks with defineCheck)' };
        reply(id, { type: 'result', index: i, result: checkedResult(result, name) });
      }),
    ),
  );
  reply(id, { type: 'done' });
}

const applyMutant = (m: Mutant, ctx: SolveContext): Promise<void> => (typeof m === 'function' ? m(ctx) : m.apply(ctx));

/** The lesson function a hook names, or undefined when the chapter has none (no setup, no revert). */
function hookOf(def: ChapterDef, hook: Hook): ((ctx: SolveContext) => Promise<void>) | undefined {
  if (hook.kind === 'setup') return def.setup?.bind(def);
  if (hook.kind === 'cleanup') return def.cleanup.bind(def);
  const step = stepOf(def, hook.step);
  if (hook.kind === 'solve') return step.solve.bind(step);
  if (hook.kind === 'control') {
    const c = step.controls?.[hook.name];
    if (c === undefined) throw new Error(`step ${def.id}/${hook.step} has no control "${hook.name}"`);
    return hook.action === 'apply' ? c.apply.bind(c) : c.revert?.bind(c);
  }
  const m = step.mutants?.[hook.name];
  if (m === undefined) throw new Error(`step ${def.id}/${hook.step} has no mutant "${hook.name}"`);
  if (hook.action === 'apply') return (ctx) => applyMutant(m, ctx);
  return typeof m === 'function' || m.revert === undefined ? undefined : m.revert.bind(m);
}

/** zx prints each command of a verbose solution to its log output: sent to workshop, in order with the log lines. */
let zxRouted: Promise<void> | undefined;
const routeZxOutput = (): Promise<void> =>
  (zxRouted ??= Promise.all([import('zx'), import('node:stream')]).then(([{ log }, { Writable }]) => {
    const toWorkshop = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        send({ type: 'output', text: String(chunk) });
        done();
      },
    });
    // zx types it as a terminal stream; it only ever calls write()
    log.output = toWorkshop as NodeJS.WriteStream;
  }));

async function run(id: number, req: Extract<HostRequest, { op: 'run' }>): Promise<void> {
  const fn = hookOf(chapterOf(req.chapter), req.hook);
  if (fn) {
    await routeZxOutput();
    const step = 'step' in req.hook ? req.hook.step : '';
    await fn(await solveContext(req.place, step, (line) => reply(id, { type: 'log', line: safeString(line) }), req.verbose));
  }
  reply(id, { type: 'done' });
}

async function probe(id: number, req: Extract<HostRequest, { op: 'probe' }>): Promise<void> {
  const r = chapterOf(req.chapter).requires?.[req.index];
  if (!r) throw new Error(`chapter ${req.chapter} has no requirement ${req.index + 1}`);
  reply(id, { type: 'probed', probe: checkedProbe(await r.probe()) });
}

/** lint's questions (inspect.ts, loaded only by lint: next never needs it). */
async function inspect(id: number, req: Extract<HostRequest, { op: 'inspect' }>): Promise<void> {
  const { inspectChapter } = await import('./inspect.ts');
  reply(id, { type: 'problems', problems: inspectChapter(chapterOf(req.chapter), files.get(req.chapter) ?? '', (step) => stepContext(req.place, step, () => {})) });
}

/** A hook that answers with data: variables (env, shellVars) or lines (removes), checked. */
async function ask(id: number, req: Extract<HostRequest, { op: 'ask' }>): Promise<void> {
  const def = chapterOf(req.chapter);
  const ctx = checkContext(req.place);
  if (req.ask === 'removes') {
    const got: unknown = await def.removes?.(ctx);
    if (!Array.isArray(got)) throw new Error(`removes must return a list of lines, not ${safeString(got)}`);
    return reply(id, { type: 'answer', value: got.map((l: unknown) => (typeof l === 'string' ? l : safeString(l))) });
  }
  const got: unknown = req.ask === 'env' ? def.env?.(ctx) : await def.shellVars?.(ctx);
  if (!isRecord(got)) throw new Error(`${req.ask} must return an object of strings, not ${safeString(got)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(got)) out[k] = typeof v === 'string' ? v : safeString(v);
  reply(id, { type: 'answer', value: out });
}

function setEnv(vars: Record<string, string>): void {
  if (!ownProcess) return; // workshop's own environment already
  for (const k of Object.keys(process.env)) if (!(k in vars)) delete process.env[k];
  Object.assign(process.env, vars);
}

async function handle(req: HostRequest): Promise<void> {
  if (req.op === 'env') {
    setEnv(req.vars);
    return send({ type: 'ready' });
  }
  const { id } = req;
  if (req.op === 'load') {
    const file = req.chapter.stepsPath;
    begin(id, (why) => reply(id, { type: 'problems', problems: [{ file, line: hangLine(file), message: `importing it ${why}` }] }));
  } else {
    // (checks of a verify that have not answered are error rows in workshop)
    const file = files.get(req.chapter) ?? `chapter ${req.chapter}`;
    begin(id, (why) => reply(id, { type: 'failed', error: `${why} (${file})`, fault: 'lesson' }));
  }
  try {
    if (req.op === 'load') await load(id, req);
    else if (req.op === 'verify') await verify(id, req);
    else if (req.op === 'run') await run(id, req);
    else if (req.op === 'probe') await probe(id, req);
    else if (req.op === 'inspect') await inspect(id, req);
    else await ask(id, req);
  } catch (err) {
    reply(id, { type: 'failed', error: describeFailure(err), fault: isLessonExit(err) ? 'lesson' : 'threw' });
  }
}

/** Serves workshop's requests until it goes away; `leave` ends the host. */
export function serve(leave: () => never): void {
  process.on('message', (m: HostRequest) => void handle(m));
  process.on('disconnect', leave);
  // Nothing is left that could settle what a call awaits: the loop is empty.
  process.on('beforeExit', () => abortAll('never finished: it waits for a promise that nothing settles (no timer, process or file is left that could)'));
  // Lesson code threw outside any call's await (a callback, a promise left without a catch): the
  // calls in flight fail with it, and the host goes on.
  const thrown = (err: unknown) => {
    const why = `lesson code threw where nothing catches it: ${describeFailure(err)}`;
    if (running.size > 0) abortAll(why);
    else send({ type: 'output', text: `warning: ${why}\n` });
  };
  process.on('uncaughtException', thrown);
  process.on('unhandledRejection', thrown);
}

/**
 * Serves workshop's requests inside workshop's own process (host-inline.ts, for the built-in
 * lessons only): replies go to `deliver`; lesson code gets no handlers of the process's own.
 */
export function serveInline(deliver: (m: HostReply) => void): (req: HostRequest) => void {
  send = deliver;
  ownProcess = false;
  return (req) => void handle(req);
}
