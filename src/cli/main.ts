// The entry point: parse argv, dispatch lazily, and the single place that prints an uncaught
// error or exits. A user mistake prints `error: …` and a hint; a stack only with DEBUG=workshop.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { abandoned, didYouMean, usageError, WorkshopError, EXIT } from '../errors.ts';
import { requireRoot, requireVm } from '../engine/guard.ts';
import type { Journey } from '../engine/journey.ts';
import { withLock } from '../sys/lock.ts';
import { absolute, resolveHome, workspace } from '../engine/workspace.ts';
import { newMessages } from '../classroom/inbox.ts';
import { openJourney } from './journey.ts';
import { parseArgv } from './args.ts';
import type { CommandDef, Needs } from './command.ts';
import { COMMANDS, loadAll } from './commands/index.ts';
import { commandHelp, overallHelp } from './help.ts';
import { carryInPrompts, colorWanted, writeErr, writeOut } from './output.ts';
import { selectLessons } from '../engine/packs.ts';
import { isTerminal } from '../render/style.ts';
import { terminalWidth, wrapText } from '../render/wrap.ts';
import { flagString, projectRoot, type Cli } from './cli.ts';

/** Whether two folders are the same one (through symlinks); a folder that cannot be read is no match. */
function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

interface Resolved {
  /** the first word (the lock and the journey know the command by it) */
  verb: string;
  /** the command and the subcommands named after it, outermost first */
  path: CommandDef[];
}

/** The command that `words` name: a known verb, then as many subcommand words as match. */
async function resolveCommand(words: readonly string[]): Promise<Resolved | undefined> {
  const [verb, ...rest] = words;
  const entry = verb === undefined ? undefined : COMMANDS[verb];
  if (verb === undefined || !entry) return undefined;
  const path = [await entry.load()];
  for (const w of rest) {
    const sub = path[path.length - 1]?.subCommands?.[w];
    if (!sub) break;
    path.push(await sub());
  }
  return { verb, path };
}

/** `--help`: the whole list of commands, or the help of the one named (a JSON document with --json). */
async function printHelp(found: Resolved | undefined, json: boolean): Promise<number> {
  const shown = found?.path[found.path.length - 1];
  const text = shown ? await commandHelp(shown) : overallHelp(await loadAll());
  // on a terminal, wrapped at word boundaries under each column (the terminal's wrap broke `spin|ners`)
  writeOut(json ? `${JSON.stringify(found ? { command: found.verb, usage: shown?.meta.usage, help: text } : { commands: Object.keys(COMMANDS), help: text }, null, 2)}\n` : `${wrapText(text, terminalWidth())}\n`);
  return EXIT.ok;
}

/** The command the words name (status when they name none); an unknown one is a usage error with a guess. */
async function commandToRun(words: readonly string[], found: Resolved | undefined): Promise<Resolved & { spec: CommandDef }> {
  const resolved = words.length === 0 ? await resolveCommand(['status']) : found;
  const spec = resolved?.path[resolved.path.length - 1];
  if (resolved && spec) return { ...resolved, spec };
  const verb = words[0] ?? '';
  const guess = didYouMean(verb, Object.keys(COMMANDS));
  throw new WorkshopError('usage', `unknown command "${verb.length > 40 ? `${verb.slice(0, 40)}…` : verb}"`, guess ? `did you mean "workshop ${guess}"? (workshop --help lists the commands)` : 'workshop --help lists the commands');
}

/** The needs of a command and of the commands it is a subcommand of. */
const needsOf = (path: readonly CommandDef[]): Needs => Object.assign({}, ...path.map((d) => d.needs ?? {})) as Needs;

export async function main(argv: readonly string[]): Promise<number> {
  // The words that name the command come first; the flags of a subcommand are known only once it is.
  const loose = parseArgv(argv, () => undefined, 'lenient');
  const asksHelp = loose.verb === 'help';
  const words = asksHelp ? loose.positionals : loose.verb === undefined ? [] : [loose.verb, ...loose.positionals];
  const found = await resolveCommand(words);
  const parsed = parseArgv(argv, (v) => (found && !asksHelp && v === found.verb ? (found.path[found.path.length - 1]?.flags ?? {}) : undefined));
  const { flags } = parsed;
  const json = flags['json'] === true;
  if (asksHelp) flags['help'] = true;
  if (flags['version']) {
    writeOut(json ? `${JSON.stringify({ version: version() })}\n` : `${version()}\n`);
    return EXIT.ok;
  }
  // `workshop --help` is the whole command list, as `workshop help` is; only a named verb narrows it
  if (flags['help'] && (words.length === 0 || found)) return printHelp(found, json);
  const resolved = await commandToRun(words, found);
  const { verb, spec } = resolved;
  // the words that named a subcommand are not its arguments
  const positionals = parsed.positionals.slice(resolved.path.length - 1);
  const maxArgs = spec.maxArgs ?? 0;
  if (positionals.length > maxArgs) {
    const extra = positionals.slice(maxArgs).join(' ');
    throw new WorkshopError('usage', `too many arguments: ${extra.length > 60 ? `${extra.slice(0, 60)}…` : extra}`, `usage: workshop ${spec.meta.usage}`);
  }

  const color = colorWanted(json, flags['no-color'] === true);
  // zx and marked-terminal colour through chalk, which reads FORCE_COLOR when they are imported.
  // Our decision is the one that counts: chalk's own guess turns colour off wherever CI is set (a
  // learner's tmux in a CI job printed no bold), so a terminal we colour is forced on for chalk too.
  if (!color && (json || flags['no-color'] === true || process.env['NO_COLOR'] || !isTerminal(2))) process.env['FORCE_COLOR'] = '0';
  else if (color && process.env['FORCE_COLOR'] === undefined) process.env['FORCE_COLOR'] = '1';
  const lessons = flagString(flags, 'lessons');
  // as for --home: an empty value is a mistake (an unset variable), not a wish for the default
  if (lessons === '') throw usageError('--lessons needs a folder, not an empty value', 'leave it out for the built-in lessons, or give the folder of a lesson pack');
  let emitted = false;
  let journey: Journey | undefined;
  const home = resolveHome(flagString(flags, 'home'));
  const allowHost = flags['allow-host'] === true || process.env['WORKSHOP_ALLOW_HOST'] === '1';
  const selection = selectLessons(home, lessons === undefined ? undefined : absolute(lessons, '--lessons'), join(projectRoot(), 'lessons'));
  const lessonsDir = selection.dir;
  // a one-off --lessons holds for this command only: every `workshop …` it prints must carry it,
  // unless a prompt typed without it selects the same lessons anyway (the built-in ones, say)
  if (selection.source === 'flag' && !json && !sameDir(selectLessons(home, undefined, join(projectRoot(), 'lessons')).dir, lessonsDir)) carryInPrompts(['--lessons', lessonsDir]);
  const err = (t = '') => writeErr(`${t}\n`);
  if (selection.warning !== undefined && !json) err(`warning: ${selection.warning}`);
  const cli: Cli = {
    verb,
    positionals,
    flags,
    json,
    color,
    allowHost,
    home,
    lessonsDir,
    selection,
    line: argv.join(' '),
    out: (t = '') => {
      if (!json) writeOut(`${t}\n`);
    },
    err,
    emit: (v) => {
      if (emitted) throw new Error('a command emitted two JSON documents');
      emitted = true;
      writeOut(`${JSON.stringify(v, null, 2)}\n`);
    },
    stream: (t) => writeOut(t),
    // the parsed chapter.md files are kept beside V8's compile cache (bin.ts), in the project
    journey: () => (journey ??= openJourney({ home, lessonsDir, pack: selection.progress, allowHost, command: verb, log: err, verbose: !json, catalogCache: join(projectRoot(), 'node_modules', '.cache', 'workshop-lessons.json') })),
  };
  const needs = needsOf(resolved.path);
  if (needs.root) requireRoot(cli.line);
  if (needs.vm) await requireVm(allowHost, needs.vm);
  if (needs.privateTmp && process.env['WORKSHOP_PRIVATE_TMP'] !== '1') {
    const { rerunWithPrivateTmp } = await import('../engine/private-tmp.ts');
    const code = await rerunWithPrivateTmp(argv, [home, lessonsDir, projectRoot()], [home]);
    if (code !== null) return code;
  }
  const command = spec.run;
  try {
    const code = needs.lock ? await withLock(workspace(home).lockPath, verb, () => command(cli), { onWait: (o) => err(`waiting for workshop ${o.command} (pid ${o.pid})…`) }) : await command(cli);
    // the instructor's messages (issue 22) show on the learner's next command; status shows them itself
    if (!json && verb !== 'classroom' && verb !== 'status') for (const line of newMessages(home)) err(line);
    return code;
  } finally {
    await journey?.settle();
  }
}

/** Best effort: the error being reported may be that stdout cannot be written (`> /dev/full`). */
function tryWrite(write: (t: string) => void, text: string): void {
  try {
    write(text);
  } catch {
    // nowhere left to say it; the exit code still does
  }
}

/**
 * Errors of the machine that reach here from any command: a relative path after the current
 * folder was deleted (`process.cwd()` fails in Node's own path code). They are exit 3, not a bug.
 */
function environmental(err: unknown): unknown {
  if (err instanceof Error && 'syscall' in err && err.syscall === 'uv_cwd') {
    return new WorkshopError('environment', 'the current folder no longer exists (it was deleted), so a relative path cannot be resolved', 'cd to a folder that exists (cd ~), or give the path as an absolute one');
  }
  return err;
}

function report(err: unknown, json: boolean): number {
  const debug = (process.env['DEBUG'] ?? '').split(',').includes('workshop');
  if (err instanceof WorkshopError) {
    if (json) tryWrite(writeOut, `${JSON.stringify({ error: { kind: err.kind, message: err.message, hint: err.hint ?? null } }, null, 2)}\n`);
    const width = isTerminal(2) ? terminalWidth() : Number.POSITIVE_INFINITY;
    tryWrite(writeErr, `${wrapText(`error: ${err.message}`, width)}\n${err.hint ? `${wrapText(`hint: ${err.hint}`, width)}\n` : ''}`);
    if (debug) tryWrite(writeErr, `${err.stack ?? ''}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (json) tryWrite(writeOut, `${JSON.stringify({ error: { kind: 'internal', message: e.message, hint: null } }, null, 2)}\n`);
  tryWrite(writeErr, `error: ${e.message}\n${debug ? `${e.stack ?? ''}\n` : 'hint: this is a bug in workshop; DEBUG=workshop shows the stack\n'}`);
  return 70;
}

export async function runMain(argv: readonly string[]): Promise<void> {
  // `workshop list | head` closes the pipe early: that is the reader's choice, not an error
  // (output.ts ends quietly on EPIPE; process.stdout is not touched here, as building it is slow).
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    code = report(environmental(err), argv.includes('--json'));
  }
  process.exitCode = code;
  // Lesson code that timed out may keep the event loop alive for ever. stdout and stderr are
  // synchronous for files and pipes on Linux, so nothing printed is lost.
  if (abandoned.work) process.exit(code);
}
