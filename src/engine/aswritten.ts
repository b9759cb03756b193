// `workshop test --as-written`: the text is proven, not only the solutions. Each step's own code
// blocks from chapter.md are typed as a learner types them, into persistent shells (one per
// terminal, bash in the chapter folder with `workshop env` exported), with the workshop CLI on
// PATH and a fresh WORKSHOP_HOME. Then `workshop next` verifies the step, and it must pass on the
// first try. At the end the chapter's cleanup and `workshop clean` run, and no residue may be left.
//
// How lines reach the right shell: bash reads a script on a pipe one byte at a time (so that a
// command it starts can read the rest), so the lines for bash are written at once. An inner shell
// (busybox sh in a chroot, the lab shell) reads its input in blocks, and would swallow lines meant
// for the shell below it. So each of its lines is written alone, followed by a sentinel echo, and
// after an `exit` the runner waits until the shell below is blocked reading its stdin again.
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckResult } from '../checks/check.ts';
import { run, startLive, type LiveProcess } from '../sys/exec.ts';
import { mountsUnder, readMountinfo } from '../checks/mounts.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { codeBlocks, fillPlaceholders, promptPatterns, runsAsWritten, typedLines, type CodeBlock } from '../lessons/markdown.ts';
import { unmet } from '../lessons/requires.ts';
import { isBuiltInLesson } from '../lessons/host-spawn.ts';
import { chapterQuestions } from './answer.ts';
import { answerAsWritten } from './aswritten-questions.ts';
import { Journey } from './journey.ts';
import { looseKey } from './packs.ts';
import { cleanupChapter, describeFailure, exportedVars } from './runner.ts';
import { snapshot, type ChapterReport, type PhaseResult, type StepReport } from './selftest.ts';
import { takeInventory, type ResidueKind } from './inventory.ts';
import { cleanResidue, removeTree, runChapterCleanups } from './clean.ts';
import { workspace } from './workspace.ts';
import type { ChapterPlace } from '../lessons/context.ts';

export interface AsWrittenOptions {
  /** the workspace the temporary homes go under (like the self-test's) */
  home: string;
  lessonsDir: string;
  /** the node binary and the built cli.js that the `workshop` on the shells' PATH runs */
  node: string;
  cliJs: string;
  allowHost: boolean;
  /** the time limit of one block (default 60 s) */
  blockTimeoutMs?: number;
  /**
   * Start in the middle: `workshop goto CHAPTER/STEP --restore` first, then the line it prints to
   * paste (the text's shell variables) typed into each terminal, then the text from STEP on.
   */
  from?: string;
  log: (line: string) => void;
  /**
   * Beside other chapters (selftest-parallel.ts): the machine-wide kinds it does not claim. Its
   * residue check leaves them out, as its closing `workshop clean` does: a neighbour may hold them.
   */
  unclaimed?: readonly ResidueKind[];
}

export interface AsWrittenStepReport extends StepReport {
  /** the rows of `workshop next` that did not pass */
  failedChecks?: CheckResult[];
  /** the last lines each terminal showed, when the step failed */
  transcript?: Record<string, string[]>;
}

export interface AsWrittenChapterReport extends ChapterReport {
  steps: AsWrittenStepReport[];
}

/** A step's blocks, in the order the learner meets them (the intro's come with the first step). */
export interface StepBlocks {
  id: string;
  blocks: CodeBlock[];
}

/** Pure: assigns the chapter's runnable blocks to its steps by line; the closing section's never run. */
export function blocksPerStep(markdown: string, steps: ReadonlyArray<{ id: string; line: number }>, closingLine: number | undefined): StepBlocks[] {
  const all = codeBlocks(markdown).filter(runsAsWritten);
  const end = closingLine ?? Number.POSITIVE_INFINITY;
  return steps.map((s, i) => {
    const from = i === 0 ? 0 : s.line;
    const to = steps[i + 1]?.line ?? end;
    return { id: s.id, blocks: all.filter((b) => b.line > from && b.line < to) };
  });
}

/**
 * The flags of every `workshop` the runner and the shells start: in the `--flag=value` form, so that
 * the command's verb is the first word without a dash, as bin.ts looks for it (`--home DIR next`
 * would hide `next` behind DIR, and `next` would start a lesson host child instead of running the
 * built-in lessons in its own process: one more Node start-up per `next`, seconds in a TCG guest).
 * The built-in lessons are not named, as the learner's `workshop` does not name them.
 */
export function cliFlags(home: string, lessons: string | undefined, allowHost: boolean): string[] {
  return [`--home=${home}`, ...(lessons === undefined ? [] : [`--lessons=${lessons}`]), ...(allowHost ? ['--allow-host'] : [])];
}

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * read(2)'s number as /proc/PID/syscall prints it (decimal): x86-64 has a table of its own, while
 * arm64, riscv64 and loongarch64 share the kernel's generic one (include/uapi/asm-generic/unistd.h).
 */
export const READ_SYSCALL: Readonly<Partial<Record<NodeJS.Architecture, string>>> = { x64: '0', arm64: '63', riscv64: '63', loong64: '63' };

/**
 * Pure: whether a /proc/PID/syscall line says the process is blocked in read(0, …), a shell waiting
 * for its next line ("NR ARG0 … SP PC"; "running" or "-1 SP PC" when it is not in a system call).
 * undefined when the architecture's number for read is not known here.
 */
export function blockedInStdinRead(syscallLine: string, arch: NodeJS.Architecture): boolean | undefined {
  const nr = READ_SYSCALL[arch];
  if (nr === undefined) return undefined;
  const [n, fd] = syscallLine.trim().split(' ');
  return n === nr && fd === '0x0';
}

/** True when the process is blocked in read(0, …); undefined when it is gone or cannot be told. */
async function readingStdin(pid: number): Promise<boolean | undefined> {
  const text = await readFile(`/proc/${pid}/syscall`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : blockedInStdinRead(text, process.arch);
}

class BlockFailure extends Error {}

interface Shell {
  /** $$ of the shell, as it printed it */
  pid: number;
  prompt: string;
  /** the file line that started it */
  line: number;
}

/** One terminal: an outer bash and the stack of shells started inside it. */
class Terminal {
  readonly stack: Shell[] = [];
  private scanned = 0;
  private log: string[] = [];
  readonly proc: LiveProcess;
  private readonly file: string;
  constructor(proc: LiveProcess, file: string) {
    this.proc = proc;
    this.file = file;
  }

  typed(prompt: string, text: string): void {
    this.log.push(`${prompt} ${text}`);
  }

  write(text: string): void {
    this.proc.write(text);
  }

  /** Waits for `re` in the output printed since the last match; returns its groups. */
  async until(re: RegExp, deadline: number, what: string): Promise<RegExpExecArray> {
    let dead = false;
    void this.proc.exited.then(() => (dead = true));
    for (;;) {
      const out = this.proc.output();
      re.lastIndex = 0;
      const m = re.exec(out.slice(this.scanned));
      if (m) {
        this.addOutput(out.slice(this.scanned, this.scanned + m.index));
        this.scanned += m.index + m[0].length;
        return m;
      }
      if (dead) throw new BlockFailure(`${what}: the terminal's shell exited`);
      if (Date.now() > deadline) throw new BlockFailure(`${what}: no answer in time`);
      await sleep(15);
    }
  }

  private addOutput(chunk: string): void {
    if (chunk !== '') this.log.push(...chunk.replace(/\n$/, '').split('\n'));
  }

  /** Bash's ERR trap lines in what was printed: each is a command of the outer shell that failed. */
  errors(from: number): Array<{ status: number; command: string }> {
    return this.log.slice(from).flatMap((l) => {
      const m = /__WS_ERR_(\d+)__ (.*)$/.exec(l);
      return m ? [{ status: Number(m[1]), command: m[2] ?? '' }] : [];
    });
  }

  get mark(): number {
    return this.log.length;
  }

  /** The last lines, as a learner would have seen them (the runner's sentinels left out). */
  tail(n = 40): string[] {
    const rest = this.proc.output().slice(this.scanned);
    return [...this.log, ...(rest ? rest.split('\n') : [])]
      .map((l) => l.replace(/__WS_ERR_(\d+)__ (.*)$/, '[exit $1: $2]'))
      .filter((l, i, all) => !/__WS_[A-Z]+_\d+_/.test(l) && !(l === '' && all[i + 1]?.startsWith('[exit ')))
      .slice(-n);
  }

  where(line: number): string {
    return `${this.file}:${line}`;
  }
}

type Ws = (args: string[], timeoutMs?: number) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/**
 * Into the middle of the chapter as a learner rewinds (`--from`): the restore, and the line it
 * says to paste. The steps before it count as passed.
 */
async function restoreFrom(ch: LoadedChapter, from: string | undefined, steps: AsWrittenStepReport[], ws: Ws): Promise<{ fromIndex: number; paste: string | null }> {
  const id = ch.entry.id;
  const fromIndex = from === undefined ? 0 : ch.entry.text.steps.findIndex((s) => s.id === from);
  if (fromIndex < 0) throw new BlockFailure(`chapter ${id} has no step ${from ?? ''}`);
  if (from === undefined) return { fromIndex, paste: null };
  const rs = await ws(['--json', 'goto', `${id}/${from}`, '--restore', '--yes'], 300_000);
  const restored = JSON.parse(rs.stdout || '{}') as { restored?: string | null; paste?: string | null; error?: string };
  if (rs.code !== 0 || restored.restored !== `${id}/${from}`) throw new BlockFailure(`workshop goto ${id}/${from} --restore failed (exit ${rs.code ?? 'signal'}): ${restored.error ?? rs.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  for (const s of steps.slice(0, fromIndex)) {
    s.status = 'pass';
    s.phases['restored'] = { status: 'pass', ms: 0 };
  }
  return { fromIndex, paste: restored.paste ?? null };
}

/**
 * `workshop clean` on the throw-away home, in this process (a CLI and its lesson host would be two
 * Node start-ups): the own cleanup of each chapter started there (the last `next` starts the
 * chapter after this one), then what the kernel shows of the home, but for the machine-wide kinds
 * a neighbour may hold, then the workspace's folders. What it could not remove is residue below.
 */
async function cleanHome(j: Journey | undefined, home: string, unclaimed: readonly ResidueKind[]): Promise<void> {
  const log = (): void => {};
  if (j) {
    j.refresh();
    await runChapterCleanups(j, log, false);
  }
  const found = (await takeInventory(home)).filter((i) => !unclaimed.includes(i.kind));
  await cleanResidue(home, found, log);
  const ws = j?.ws ?? workspace(home);
  for (const d of [ws.chaptersDir, ws.selftestDir, ws.aswrittenDir]) await removeTree(d, log);
}

/**
 * `workshop goto ID` (and the restore of `--from`), then what `workshop env ID` prints, in this
 * process: the same journey calls on the same home, without two Node start-ups each (the CLI's and
 * its lesson host's: seconds in a TCG guest).
 */
async function enter(j: Journey, ch: LoadedChapter, from: string | undefined, steps: AsWrittenStepReport[], ws: Ws): Promise<{ fromIndex: number; paste: string | null; place: ChapterPlace; vars: Record<string, string> }> {
  const id = ch.entry.id;
  await j.goto(j.find(id));
  const { fromIndex, paste } = await restoreFrom(ch, from, steps, ws);
  j.refresh();
  const place = j.place(id);
  if (!place) throw new BlockFailure(`chapter ${id} did not start`);
  return { fromIndex, paste, place, vars: await exportedVars(await j.load(j.chapter(id)), place) };
}

/**
 * The terminals are closed, the chapter cleaned up and the throw-away home removed; returns the
 * residue: what is there now and was not before, and what could not be removed.
 */
async function leave(ch: LoadedChapter, w: { terminals: ReadonlyMap<number, Terminal>; home: string; dir: string; nonce: string; journey: Journey | undefined; before: Set<string>; outer: string; unclaimed: readonly ResidueKind[] }): Promise<string[]> {
  const { home } = w;
  for (const t of w.terminals.values()) {
    t.proc.killGroup();
    await Promise.race([t.proc.exited, sleep(2000)]);
  }
  const id = ch.entry.id;
  const place = { chapter: id, dir: w.dir || join(home, 'chapters', id), home, nonce: w.nonce, startedAt: Date.now() };
  const errors: string[] = [];
  await cleanupChapter(ch, place, () => {}, false).catch((err: unknown) => errors.push(`the chapter's cleanup failed: ${describeFailure(err)}`));
  // What clean could not remove shows in the inventory below, if it is this chapter's.
  await cleanHome(w.journey, home, w.unclaimed).catch(() => {});
  // Never rm -r through a mount that is still there (a bind mount of / would take the machine).
  if (mountsUnder(await readMountinfo(), home).length === 0) await rm(home, { recursive: true, force: true });
  else errors.push(`mounts are left under ${home}`);
  const after = await snapshot(w.outer);
  const unclaimed = (x: string): boolean => w.unclaimed.some((k) => x.startsWith(`${k}:`));
  return [...[...after].filter((x) => !w.before.has(x) && !x.startsWith(`file:${home}`) && !unclaimed(x)), ...errors];
}

/** Runs a chapter's text as written. Never throws for what the text does: that is a failed step. */
export async function testAsWritten(ch: LoadedChapter, o: AsWrittenOptions): Promise<AsWrittenChapterReport> {
  const t0 = performance.now();
  const id = ch.entry.id;
  const reasons = await unmet(ch.def.requires ?? []);
  if (reasons.length > 0) return { id, status: 'skipped', reason: reasons.join('; '), steps: [], residue: [], durationMs: 0 };
  const limit = o.blockTimeoutMs ?? 60_000;
  const before = await snapshot(o.home);
  await mkdir(join(o.home, 'aswritten'), { recursive: true });
  const home = await mkdtemp(join(o.home, 'aswritten', `${id}-`));
  const bin = join(home, 'bin');
  const steps: AsWrittenStepReport[] = ch.entry.text.steps.map((s) => ({ id: s.id, status: 'not-run', phases: {} }));
  const report: AsWrittenChapterReport = { id, status: 'fail', steps, residue: [], durationMs: 0 };
  const lessons = isBuiltInLesson(ch.entry.stepsPath) ? undefined : o.lessonsDir;
  const base = cliFlags(home, lessons, o.allowHost);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, WORKSHOP_HOME: home, NO_COLOR: '1', TERM: 'dumb' };
  delete env['FORCE_COLOR'];
  const ws: Ws = (args, timeoutMs = 120_000) => run(o.node, [o.cliJs, ...base, ...args], { timeoutMs, env: { NO_COLOR: '1' } });
  const terminals = new Map<number, Terminal>();
  let counter = 0;
  let nonce = '';
  let dir = '';
  let journey: Journey | undefined;

  try {
    // The learner's `workshop`, as /usr/local/bin/workshop is: the same node, the same cli.js.
    await mkdir(bin);
    await writeFile(join(bin, 'workshop'), `#!/bin/sh\nexec ${[o.node, o.cliJs, ...base].map(q).join(' ')} "$@"\n`);
    await chmod(join(bin, 'workshop'), 0o755);
    journey = Journey.open({ home, lessonsDir: o.lessonsDir, pack: lessons === undefined ? undefined : looseKey(lessons), allowHost: o.allowHost, command: 'goto', log: () => {}, verbose: false });
    const { fromIndex, paste, place, vars } = await enter(journey, ch, o.from, steps, ws);
    nonce = place.nonce;
    dir = place.dir;
    const cdExport = `cd ${q(dir)} && export ${Object.entries(vars).map(([k, v]) => `${k}=${q(v)}`).join(' ')}`;
    const markdown = fillPlaceholders(await readFile(ch.entry.mdPath, 'utf8'), { nonce, dir });
    const prompts = promptPatterns(markdown);
    const plan = blocksPerStep(markdown, ch.entry.text.steps, ch.entry.text.closing?.line);
    const file = `${basename(dirname(ch.entry.mdPath))}/${basename(ch.entry.mdPath)}`;

    const terminal = async (n: number): Promise<Terminal> => {
      const have = terminals.get(n);
      if (have) return have;
      const proc = await startLive('bash', [], { cwd: dir, env });
      const t = new Terminal(proc, file);
      terminals.set(n, t);
      // The learner's terminal: in the chapter folder, with the chapter's variables. The ERR trap
      // reports every command of this shell that fails, as the learner would see its error. The
      // folder and variables are those `workshop env` gave above (what `cd "$(workshop path)"; eval
      // "$(workshop env)"` would set): two fewer Node start-ups per terminal, seconds in a TCG guest.
      proc.write(`exec 2>&1\ntrap 'printf "\\n__WS_ERR_%s__ %s\\n" "$?" "$BASH_COMMAND"' ERR\n${cdExport}\n${paste === null ? '' : `${paste}\n`}echo __WS_P_0_$$__\n`);
      await t.until(/__WS_P_0_(\d+)__\n/, Date.now() + 30_000, `terminal ${n} did not start`);
      return t;
    };

    for (const [i, step] of plan.entries()) {
      const r = steps[i];
      if (!r || i < fromIndex) continue;
      const t1 = performance.now();
      const problems: string[] = [];
      try {
        for (const block of step.blocks) await typeBlock(await terminal(block.terminal), block, prompts, limit, () => ++counter, problems);
      } catch (err) {
        problems.push(err instanceof BlockFailure ? err.message : describeFailure(err));
      }
      const blocks: PhaseResult = problems.length === 0 ? { status: 'pass', ms: Math.round(performance.now() - t1) } : { status: 'fail', ms: Math.round(performance.now() - t1), detail: problems.join('; ') };
      r.phases['blocks'] = blocks;
      // the step's questions, answered as the learner who read it right answers them (aswritten-questions.ts)
      const asked = chapterQuestions(ch.entry).filter((x) => x.step === step.id);
      const wrong = blocks.status === 'pass' && asked.length > 0 ? await answerAsWritten(ws, id, asked) : [];
      if (asked.length > 0) r.phases['questions'] = wrong.length === 0 ? { status: 'pass', ms: 0 } : { status: 'fail', ms: 0, detail: wrong.join('; ') };
      problems.push(...wrong);
      // `workshop next`, as the learner runs it after the step's blocks: it must pass at once.
      const t2 = performance.now();
      const nx = await ws(['--json', 'next']);
      const verdict = parseNext(nx.stdout, `${id}/${step.id}`);
      r.phases['next'] = { status: verdict.passed ? 'pass' : 'fail', ms: Math.round(performance.now() - t2), ...(verdict.passed ? {} : { detail: verdict.detail || `workshop next exited ${nx.code ?? 'signal'}: ${nx.stderr.trim().split('\n').slice(-2).join(' / ')}` }) };
      if (verdict.failed.length > 0) r.failedChecks = verdict.failed;
      r.status = blocks.status === 'pass' && wrong.length === 0 && verdict.passed ? 'pass' : 'fail';
      o.log(`${r.status === 'pass' ? 'ok  ' : 'FAIL'} ${id}/${step.id} (${step.blocks.length} blocks, ${Math.round(performance.now() - t1)} ms)`);
      if (r.status === 'fail') {
        for (const p of problems) o.log(`     ${p}`);
        for (const c of verdict.failed) o.log(`     ✘ ${c.check}: ${c.status === 'fail' ? `expected ${c.expected}; actual ${c.actual}` : c.status === 'error' ? `error ${c.error}` : c.actual}`);
        r.transcript = Object.fromEntries([...terminals].map(([n, t]) => [`terminal ${n}`, t.tail()]));
        for (const [n, lines] of Object.entries(r.transcript)) o.log(`     --- ${n}, last lines ---\n${lines.map((l) => `     | ${l}`).join('\n')}`);
        break;
      }
    }
  } catch (err) {
    report.reason = err instanceof BlockFailure ? err.message : describeFailure(err);
    o.log(`FAIL ${id}: ${report.reason}`);
  } finally {
    report.residue = await leave(ch, { terminals, home, dir, nonce, journey, before, outer: o.home, unclaimed: o.unclaimed ?? [] });
  }
  const ok = report.reason === undefined && report.residue.length === 0 && steps.every((s) => s.status === 'pass');
  report.status = ok ? 'pass' : 'fail';
  report.durationMs = Math.round(performance.now() - t0);
  return report;
}

/** Reads `workshop --json next`: the step it checked must be this one, and it must have passed. */
function parseNext(stdout: string, want: string): { passed: boolean; failed: CheckResult[]; detail: string } {
  let v: { step?: unknown; passed?: unknown; results?: unknown; error?: { message?: unknown } };
  try {
    v = JSON.parse(stdout) as typeof v;
  } catch {
    return { passed: false, failed: [], detail: '' };
  }
  if (v.error) return { passed: false, failed: [], detail: `workshop next: ${String(v.error.message)}` };
  const results = Array.isArray(v.results) ? (v.results as CheckResult[]) : [];
  const failed = results.filter((r) => r.status !== 'pass');
  if (v.step !== want) return { passed: false, failed, detail: `workshop next checked ${String(v.step)}, not ${want}` };
  return { passed: v.passed === true, failed, detail: failed.map((r) => r.check).join('; ') };
}

/** Types one block into its terminal, line by line into the right shell, and waits for its end. */
async function typeBlock(t: Terminal, block: CodeBlock, prompts: readonly RegExp[], limit: number, next: () => number, problems: string[]): Promise<void> {
  const deadline = Date.now() + limit;
  const from = t.mark;
  const outerPid = t.proc.pid;
  let pending = '';
  const flush = () => {
    if (pending) t.write(pending);
    pending = '';
  };
  const top = () => t.stack.at(-1);
  const lineWhat = (line: number, text: string) => `${t.where(line)}: \`${text.trim()}\``;
  const start = async (line: number, text: string, prompt: string) => {
    const k = next();
    t.write(`echo __WS_P_${k}_$$__\n`);
    const m = await t.until(new RegExp(`__WS_P_${k}_(\\d+)__`), deadline, `${lineWhat(line, text)} should start a shell`);
    const pid = Number(m[1]);
    if (pid === (top()?.pid ?? outerPid)) throw new BlockFailure(`${lineWhat(line, text)} should start a shell for the lines with the prompt "${prompt}", but it returned at once; the lines after it would run in the shell below`);
    t.stack.push({ pid, prompt, line });
  };
  for (const l of typedLines(block, prompts)) {
    if (l.kind === 'skip') continue;
    const inner = top();
    if (!inner) {
      if (l.kind === 'exit') throw new BlockFailure(`${lineWhat(l.line, l.text)}: exit here would close the terminal itself`);
      t.typed('$', l.text);
      pending += `${l.text}\n`;
      if (l.kind === 'start') {
        flush();
        await start(l.line, l.text, l.prompt);
      }
      continue;
    }
    t.typed(inner.prompt, l.text);
    if (l.kind === 'exit') {
      t.write(`${l.text}\n`);
      const below = t.stack.at(-2)?.pid ?? outerPid;
      // The shell below reads again only once this one has gone: wait for that before typing on.
      for (;;) {
        const r = await readingStdin(below);
        if (r === undefined) {
          await sleep(300);
          break;
        }
        if (r) break;
        if (Date.now() > deadline) throw new BlockFailure(`${lineWhat(l.line, l.text)}: the shell started at ${t.where(inner.line)} did not exit in time`);
        await sleep(15);
      }
      t.stack.pop();
      continue;
    }
    t.write(`${l.text}\n`);
    if (l.kind === 'start') {
      await start(l.line, l.text, l.prompt);
      continue;
    }
    const k = next();
    t.write(`echo __WS_L_${k}_$?__\n`);
    const m = await t.until(new RegExp(`__WS_L_${k}_(\\d+)__\\n`), deadline, `${lineWhat(l.line, l.text)} did not finish`);
    if (m[1] !== '0') problems.push(`${lineWhat(l.line, l.text)} exited ${m[1] ?? '?'} (in the shell started at ${t.where(inner.line)})`);
  }
  flush();
  const k = next();
  t.write(`echo __WS_BLOCK_${k}_$?__\n`);
  await t.until(new RegExp(`__WS_BLOCK_${k}_(\\d+)__\\n`), deadline, `the block at ${t.where(block.line)} did not finish within ${Math.round(limit / 1000)} s`);
  for (const e of t.errors(from)) problems.push(`${t.where(block.line)}: \`${e.command}\` exited ${e.status}`);
}
