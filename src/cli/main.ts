// The entry point: parse argv, dispatch lazily, and the single place that prints an uncaught
// error or exits. A user mistake prints `error: …` and a hint; a stack only with DEBUG=workshop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { abandoned, didYouMean, usageError, WorkshopError, EXIT } from '../errors.ts';
import { requireRoot, requireVm } from '../engine/guard.ts';
import type { Journey } from '../engine/journey.ts';
import { withLock } from '../sys/lock.ts';
import { absolute, resolveHome, workspace } from '../engine/workspace.ts';
import { openJourney } from './journey.ts';
import { GLOBAL_FLAGS, parseArgv, type FlagTable } from './args.ts';
import { writeErr, writeOut } from './output.ts';
import { isTerminal } from '../render/style.ts';
import { terminalWidth, wrapText } from '../render/wrap.ts';
import { flagString, projectRoot, type Cli, type Command } from './cli.ts';

/** What main.ts does before a command runs, so that no command file repeats it. */
export interface Needs {
  /** refuse without root (exit 3) */
  root?: true;
  /** refuse outside a VM unless --allow-host: the words complete "refusing to …" */
  vm?: string;
  /** hold the workspace lock for the whole command (it changes the system, not only progress) */
  lock?: true;
  /** run in a mount namespace with empty /tmp and /var/tmp of its own (engine/private-tmp.ts) */
  privateTmp?: true;
}

interface CommandSpec {
  summary: string;
  usage: string;
  flags?: FlagTable;
  /** positional arguments accepted at most */
  maxArgs: number;
  /** more help text, after the summary (subcommands) */
  details?: string;
  /** subcommands with a --help of their own, by their words ("image build") */
  subcommands?: Readonly<Record<string, { usage: string; summary: string }>>;
  needs?: Needs;
  load: () => Promise<{ default: Command }>;
}

const chapterFlag: FlagTable = { chapter: { type: 'string', multiple: true, value: 'ID', describe: 'only this chapter (repeatable)' } };

/** The explicit command table: nothing is discovered from the file system. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  status: { summary: 'where you are: chapter, step n/m, progress, what to do next', usage: 'status', maxArgs: 0, load: () => import('./commands/status.ts') },
  show: { summary: 'show a step (default: the current one)', usage: 'show [chapter/step]', maxArgs: 1, load: () => import('./commands/show.ts') },
  next: { summary: 'verify the current step; on pass, record it and show the next one', usage: 'next', maxArgs: 0, needs: { root: true }, load: () => import('./commands/next.ts') },
  check: { summary: 'verify a step without advancing', usage: 'check [chapter/step]', maxArgs: 1, needs: { root: true }, load: () => import('./commands/check.ts') },
  hint: { summary: 'show the next hint of the current step', usage: 'hint', maxArgs: 0, load: () => import('./commands/hint.ts') },
  solve: { summary: "run the step's reference solution, then verify", usage: 'solve [chapter/step] [--through]', maxArgs: 1, needs: { root: true, vm: 'run a solution', lock: true }, flags: { through: { type: 'boolean', describe: 'first catch up every earlier step of the chapter' } }, load: () => import('./commands/solve.ts') },
  watch: { summary: 're-verify on a timer and on workspace changes', usage: 'watch [--advance] [--interval SECONDS]', maxArgs: 0, needs: { root: true }, flags: { advance: { type: 'boolean', describe: 'advance when the step passes' }, interval: { type: 'string', value: 'SECONDS', describe: 're-check every SECONDS (default 2)' }, once: { type: 'boolean', describe: 'check once and exit (for scripts)' } }, load: () => import('./commands/watch.ts') },
  select: { summary: 'choose a step from a menu', usage: 'select', maxArgs: 0, needs: { root: true }, load: () => import('./commands/select.ts') },
  goto: {
    summary: 'go to a chapter or step; --restore rewinds the chapter to the start of that step',
    usage: 'goto <chapter|chapter/step> [--restore [--yes]]',
    maxArgs: 1,
    needs: { root: true, lock: true },
    flags: { restore: { type: 'boolean', describe: "clean the chapter up, then replay the reference solutions of the steps before it" }, yes: { type: 'boolean', short: 'y', describe: 'do not ask before --restore removes things (needed without a terminal)' } },
    load: () => import('./commands/goto.ts'),
  },
  list: { summary: 'chapters and steps: done, current, todo, skipped', usage: 'list', maxArgs: 0, load: () => import('./commands/list.ts') },
  reset: {
    summary: "clean a chapter's resources and mark its steps undone; --all forgets all progress",
    usage: 'reset [chapter | --all] [--yes]',
    maxArgs: 1,
    needs: { root: true, vm: 'reset a chapter', lock: true },
    flags: { all: { type: 'boolean', describe: "every chapter: run each one's cleanup and forget all progress (without a terminal it needs --yes)" }, yes: { type: 'boolean', short: 'y', describe: 'do not ask first (a terminal asks, listing what will go)' } },
    load: () => import('./commands/reset.ts'),
  },
  clean: { summary: 'remove everything workshop or you created for it, keep your progress; print the residue before and after', usage: 'clean', maxArgs: 0, needs: { root: true, vm: 'clean up', lock: true }, load: () => import('./commands/clean.ts') },
  doctor: { summary: 'check the VM, root, kernel features and tools per chapter', usage: 'doctor [--fresh]', maxArgs: 0, flags: { fresh: { type: 'boolean', describe: 'probe everything again (the answers are otherwise kept until the next boot, an install or a changed steps.ts)' } }, load: () => import('./commands/doctor.ts') },
  test: { summary: 'the author self-test: fail-first, solve, pass, idempotent, mutants, no residue', usage: 'test [--as-written] [--chapter ID]...', maxArgs: 0, needs: { root: true, vm: 'run the self-test', lock: true, privateTmp: true }, flags: { ...chapterFlag, 'as-written': { type: 'boolean', describe: "type each step's own code blocks from chapter.md as a learner does, then `next` must pass at once" }, 'require-diagnosis': { type: 'boolean', describe: 'every mutant must declare its diagnosis (always on for the built-in lessons)' }, from: { type: 'string', value: 'STEP', describe: 'with --as-written: restore to STEP first (goto --restore), paste the line it prints, then type the text from there' } }, load: () => import('./commands/test.ts') },
  lint: { summary: 'validate a lesson pack (ids, pairing, verify/solve), with file:line errors', usage: 'lint [DIR]', maxArgs: 1, load: () => import('./commands/lint.ts') },
  state: { summary: "draw what you have really built in a chapter: overlay stacks, subvolumes, namespaces, the lab network…", usage: 'state [chapter]', maxArgs: 1, needs: { root: true }, load: () => import('./commands/state.ts') },
  path: { summary: "print the current chapter's folder (cd $(workshop path))", usage: 'path [chapter]', maxArgs: 1, load: () => import('./commands/path.ts') },
  env: { summary: "print export lines for the chapter's variables (eval $(workshop env))", usage: 'env [chapter]', maxArgs: 1, load: () => import('./commands/env.ts') },
  lab: {
    summary: "the lab network of the network chapters (up, down, status); the hosted labs' VM image (image build)",
    usage: 'lab up|down|status | lab image build ...',
    details: 'subcommands:\n  lab up|down|status   the lab network (ws-host, ws-net) of chapter 07\n  lab image build      the hosted labs\' VM image (workshop lab image build --help)',
    maxArgs: 2,
    needs: { root: true },
    flags: {
      arch: { type: 'string', value: 'amd64|arm64', describe: "image build: the guest's architecture (default: this machine's)" },
      out: { type: 'string', value: 'FILE', describe: 'image build: also copy the disk to FILE (with FILE.vmlinuz, FILE.initrd.img, FILE.json)' },
    },
    subcommands: {
      'image build': {
        usage: 'lab image build [--lessons DIR] [--arch amd64|arm64] [--out FILE]',
        summary: "build (or find in the cache) the hosted labs' base image: a qcow2 Debian 13 disk with its kernel, workshop, the lesson pack (default: the built-in lessons) and the labs' guest agent. Needs root, debootstrap and qemu-utils (qemu-user-static for a foreign --arch); takes minutes the first time, seconds from the cache",
      },
    },
    load: () => import('./commands/lab.ts'),
  },
  shell: { summary: 'a shell, or one command, inside a lab namespace (host, net or box)', usage: 'shell host|net|box [-- CMD...]', maxArgs: Number.POSITIVE_INFINITY, needs: { root: true }, load: () => import('./commands/shell.ts') },
  classroom: {
    summary: 'a class: serve the live dashboard (instructor), or join one (learner)',
    usage: 'classroom serve|status|export|remove|free|join|leave ...',
    details: [
      'subcommands:',
      '  classroom serve [--host H] [--port P] [--db FILE|URL] [--stuck-after 10m] [--stuck-attempts 3] [--tls-cert F --tls-key F] [--json]',
      '      start the class server; prints the instructor URL (with its token) and the join code',
      '  classroom status [--url URL] [--token T] [--json]   who is where, who is stuck, the common failures',
      '  classroom export [--format csv|json] [--url URL] [--token T]   the class on stdout',
      '  classroom remove NAME   remove a learner: their reports are deleted, the name is free',
      '  classroom free NAME   free a name: the next join under it takes that learner over (a rebuilt VM)',
      '  classroom join URL CODE --name NAME   join a class: next, check, solve, hint and reset report to it',
      '  classroom leave   stop reporting and forget the token',
    ].join('\n'),
    maxArgs: 3,
    flags: {
      host: { type: 'string', value: 'H', describe: 'serve: the address to listen on (default 0.0.0.0, every interface)' },
      port: { type: 'string', value: 'P', describe: 'serve: the port (default 7878; 0 picks a free one)' },
      db: { type: 'string', value: 'FILE|URL', describe: 'serve: the database (default WORKSHOP_HOME/classroom.db; postgres://… for PostgreSQL)' },
      'stuck-after': { type: 'string', value: 'TIME', describe: 'serve: a learner this long on one step is stuck (default 10m)' },
      'stuck-attempts': { type: 'string', value: 'N', describe: 'serve: N failed attempts on one step is stuck (default 3)' },
      'tls-cert': { type: 'string', value: 'FILE', describe: 'serve: TLS certificate (PEM), with --tls-key' },
      'tls-key': { type: 'string', value: 'FILE', describe: 'serve: TLS private key (PEM)' },
      'learner-storage': { type: 'string', value: 'SIZE', describe: "serve: what one learner's reports may take in the database (default 8MiB)" },
      'class-storage': { type: 'string', value: 'SIZE', describe: 'serve: what the whole class may take (default 512MiB)' },
      'joins-per-address': { type: 'string', value: 'N', describe: 'serve: joins a minute from one address (default 30; raise it for a room behind one NAT)' },
      'joins-per-class': { type: 'string', value: 'N', describe: 'serve: new learners at once, then N in 5 minutes (default 300)' },
      name: { type: 'string', value: 'NAME', describe: 'join: your name on the dashboard (1-64 letters, digits, space . _ -)' },
      url: { type: 'string', value: 'URL', describe: 'status, export, remove, free: the instructor URL (default: the server started from this home)' },
      token: { type: 'string', value: 'T', describe: 'status, export, remove, free: the instructor token, if --url does not carry it' },
      format: { type: 'string', value: 'csv|json', describe: 'export: the format (default csv)' },
    },
    load: () => import('./commands/classroom.ts'),
  },
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function flagLines(table: FlagTable): string[] {
  return Object.entries(table).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`;
    return `  ${left.padEnd(24)} ${s.describe}`;
  });
}

function helpText(verb: string | undefined, positionals: readonly string[] = []): string {
  const spec = verb ? COMMANDS[verb] : undefined;
  const sub = spec?.subcommands?.[positionals.join(' ')];
  if (spec && sub) return [`usage: workshop ${sub.usage}`, '', sub.summary, ...(spec.flags ? ['', 'options:', ...flagLines(spec.flags)] : []), '', 'global options:', ...flagLines(GLOBAL_FLAGS)].join('\n');
  if (verb && spec) {
    return [`usage: workshop ${spec.usage}`, '', spec.summary, ...(spec.details ? ['', spec.details] : []), ...(spec.flags ? ['', 'options:', ...flagLines(spec.flags)] : []), '', 'global options:', ...flagLines(GLOBAL_FLAGS)].join('\n');
  }
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'workshop: hands-on Linux container internals, checked against the real kernel',
    '',
    'usage: workshop [command] [options]      (no command: status)',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'exit codes: 0 ok, 1 a check failed or residue is left, 2 usage, 3 environment, 4 lesson error',
    'workshop <command> --help shows the options of a command.',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgv(argv, (v) => COMMANDS[v]?.flags ?? (COMMANDS[v] ? {} : undefined));
  const { flags } = parsed;
  const json = flags['json'] === true;
  let verb = parsed.verb;
  let positionals = parsed.positionals;
  if (verb === 'help') {
    verb = positionals[0];
    positionals = [];
    flags['help'] = true;
  }
  if (flags['version']) {
    writeOut(json ? `${JSON.stringify({ version: version() })}\n` : `${version()}\n`);
    return EXIT.ok;
  }
  // `workshop --help` is the whole command list, as `workshop help` is; only a named verb narrows it
  if (flags['help'] && (verb === undefined || COMMANDS[verb])) {
    const text = helpText(verb, positionals);
    // on a terminal, wrapped at word boundaries under each column (the terminal's wrap broke `spin|ners`)
    writeOut(json ? `${JSON.stringify(verb ? { command: verb, usage: COMMANDS[verb]?.usage, help: text } : { commands: Object.keys(COMMANDS), help: text }, null, 2)}\n` : `${wrapText(text, terminalWidth())}\n`);
    return EXIT.ok;
  }
  verb ??= 'status';
  const spec = COMMANDS[verb];
  if (!spec) {
    const guess = didYouMean(verb, Object.keys(COMMANDS));
    throw new WorkshopError('usage', `unknown command "${verb.length > 40 ? `${verb.slice(0, 40)}…` : verb}"`, guess ? `did you mean "workshop ${guess}"? (workshop --help lists the commands)` : 'workshop --help lists the commands');
  }
  if (positionals.length > spec.maxArgs) {
    const extra = positionals.slice(spec.maxArgs).join(' ');
    throw new WorkshopError('usage', `too many arguments: ${extra.length > 60 ? `${extra.slice(0, 60)}…` : extra}`, `usage: workshop ${spec.usage}`);
  }

  const color = !json && flags['no-color'] !== true && !process.env['NO_COLOR'] && isTerminal(1) && process.env['TERM'] !== 'dumb';
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
  const lessonsDir = lessons === undefined ? join(projectRoot(), 'lessons') : absolute(lessons, '--lessons');
  const err = (t = '') => writeErr(`${t}\n`);
  const cli: Cli = {
    verb,
    positionals,
    flags,
    json,
    color,
    allowHost,
    home,
    lessonsDir,
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
    journey: () => (journey ??= openJourney({ home, lessonsDir, allowHost, command: verb, log: err, verbose: !json, catalogCache: join(projectRoot(), 'node_modules', '.cache', 'workshop-lessons.json') })),
  };
  const needs = spec.needs ?? {};
  if (needs.root) requireRoot(cli.line);
  if (needs.vm) await requireVm(allowHost, needs.vm);
  if (needs.privateTmp && process.env['WORKSHOP_PRIVATE_TMP'] !== '1') {
    const { rerunWithPrivateTmp } = await import('../engine/private-tmp.ts');
    const code = await rerunWithPrivateTmp(argv, [home, lessonsDir, projectRoot()], [home]);
    if (code !== null) return code;
  }
  const { default: command } = await spec.load();
  try {
    return needs.lock ? await withLock(workspace(home).lockPath, verb, () => command(cli), { onWait: (o) => err(`waiting for workshop ${o.command} (pid ${o.pid})…`) }) : await command(cli);
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
