// `workshop record PACK/CHAPTER/STEP`: the use case. It takes a snapshot of the objects in scope
// (snapshot.ts), runs a recorded bash in a fresh chapter folder (or the lab's namespace), or the
// commands of --script in it, takes a second snapshot, and writes the draft of the difference
// (diff.ts, objects.ts, draft.ts) into the pack. cleanRecording removes what the recording made,
// by the draft's own cleanup, so that `workshop test` starts from the state the machine had.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { labUp } from '../../checks/lab.ts';
import { envError, lessonError, usageError } from '../../errors.ts';
import { readCatalog } from '../../lessons/catalog.ts';
import { loadChapter } from '../../lessons/load.ts';
import { run, runAttached } from '../../sys/exec.ts';
import { newNonce } from '../progress.ts';
import { cleanupChapter } from '../runner.ts';
import { diffSnapshots, type Change } from './diff.ts';
import { DRAFT_MARKER, LAB_NETNS, writeDraft, type Draft, type RecordPlace } from './draft.ts';
import { draftItem } from './objects.ts';
import { takeSnapshot, type KernelSnapshot } from './snapshot.ts';

export { DRAFT_MARKER, type RecordPlace } from './draft.ts';

/** Where the draft goes: PACK/CHAPTER/STEP, the chapter folder found or made (`NN-id`). */
export interface RecordTarget {
  pack: string;
  chapterId: string;
  /** the chapter's folder in the pack (absolute) */
  folder: string;
  step: string;
  /** what is there now: nothing, or an earlier draft of record (which --force replaces) */
  existing: 'none' | 'draft';
}

const ID = /^[a-z0-9][a-z0-9-]*$/;
const FOLDER = /^(\d+)-([a-z0-9][a-z0-9-]*)$/;

/** Parses and checks PACK/CHAPTER/STEP; refuses to overwrite an author's chapter, and a draft without --force. */
export function recordTarget(target: string, force: boolean, cwd = process.cwd()): RecordTarget {
  const parts = target.replace(/\/+$/, '').split('/');
  const step = parts.pop() ?? '';
  const chapter = parts.pop() ?? '';
  const usage = 'usage: workshop record PACKDIR/CHAPTER/STEP [--script FILE], e.g. workshop record ./my-pack/overlay/mount';
  if (parts.length === 0 || chapter === '' || step === '') throw usageError(`"${target}" is not PACKDIR/CHAPTER/STEP`, usage);
  if (!ID.test(step)) throw usageError(`step id "${step}": use lowercase letters, digits and dashes`, usage);
  const pack = resolve(cwd, parts.join('/') || '/');
  const named = FOLDER.exec(chapter);
  const chapterId = named?.[2] ?? chapter;
  if (!ID.test(chapterId)) throw usageError(`chapter "${chapter}": use an id (overlay) or a folder name (01-overlay), lowercase letters, digits and dashes`, usage);
  const names = existsSync(pack) ? readdirSync(pack) : [];
  const found = names.find((n) => FOLDER.exec(n)?.[2] === chapterId);
  const numbers = names.flatMap((n) => { const m = FOLDER.exec(n); return m ? [Number(m[1])] : []; });
  const folder = join(pack, found ?? (named ? chapter : `${String(Math.max(0, ...numbers) + 1).padStart(2, '0')}-${chapterId}`));
  const stepsTs = join(folder, 'steps.ts');
  if (!existsSync(folder) || (!existsSync(stepsTs) && !existsSync(join(folder, 'chapter.md')))) return { pack, chapterId, folder, step, existing: 'none' };
  const isDraft = existsSync(stepsTs) && readFileSync(stepsTs, 'utf8').includes(DRAFT_MARKER);
  if (!isDraft) throw usageError(`${folder} is an author's chapter: record never overwrites it`, 'record the step into a new chapter (another CHAPTER name), then copy what you keep');
  if (!force) throw usageError(`${folder} holds a draft already`, 'add --force to replace it with a new recording');
  return { pack, chapterId, folder, step, existing: 'draft' };
}

export interface RecordRequest {
  target: RecordTarget;
  home: string;
  /** a file of commands to run instead of an interactive shell */
  script?: string;
  place: RecordPlace;
  log: (line: string) => void;
}

export interface Recording {
  target: RecordTarget;
  /** the chapter folder the shell ran in (removed by cleanRecording) */
  dir: string;
  startedAt: number;
  nonce: string;
  commands: string[];
  /** the shell's exit code */
  exit: number;
  changes: Change[];
  draft: Draft;
  files: { chapterMd: string; stepsTs: string };
}

/** The commands of a script or a history file: its lines, without blank lines, comments and the final `exit`. */
export function commandsOf(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  while (lines.length > 0 && /^\s*(exit|logout)(\s+\d+)?\s*$/.test(lines.at(-1) ?? '')) lines.pop();
  return lines;
}

/**
 * argv that runs bash where the recording happens: the chapter folder, inside a lab namespace if
 * asked. A script's output goes to stderr: stdout is record's own report (--json).
 */
export function shellArgv(place: RecordPlace, dir: string, inner: readonly string[], opts: { outputToStderr?: boolean } = {}): string[] {
  const bash = ['bash', '-c', `cd "$0" && exec "$@"${opts.outputToStderr === true ? ' >&2' : ''}`, dir, 'bash', ...inner];
  return place === 'folder' ? bash : ['nsenter', `--net=/run/netns/${LAB_NETNS[place]}`, '--', ...bash];
}

async function runShell(req: RecordRequest, dir: string, script: string | undefined): Promise<{ commands: string[]; exit: number }> {
  if (req.script !== undefined && script !== undefined) {
    const [cmd = 'bash', ...args] = shellArgv(req.place, dir, ['--noprofile', '--norc', resolve(req.script)], { outputToStderr: true });
    return { commands: commandsOf(script), exit: await runAttached(cmd, args) };
  }
  const hist = join(dir, '..', `${basename(dir)}.history`);
  const rc = join(dir, '..', `${basename(dir)}.bashrc`);
  const { chapterId, step } = req.target;
  await writeFile(rc, [
    `PS1='[record ${chapterId}/${step}] \\w# '`,
    `HISTFILE='${hist}'`, 'HISTSIZE=100000', 'HISTFILESIZE=100000', 'HISTCONTROL=', 'HISTIGNORE=', "PROMPT_COMMAND='history -a'",
    `echo 'Recording ${chapterId}/${step}: type the step'"'"'s commands, then exit (Ctrl-D).'`,
    '',
  ].join('\n'));
  await writeFile(hist, '');
  const [cmd = 'bash', ...args] = shellArgv(req.place, dir, ['--rcfile', rc, '-i']);
  const exit = await runAttached(cmd, args);
  const commands = commandsOf(await readFile(hist, 'utf8').catch(() => ''));
  await rm(hist, { force: true });
  await rm(rc, { force: true });
  return { commands, exit };
}

/** Records one step and writes its draft into the pack. */
export async function recordStep(req: RecordRequest): Promise<Recording> {
  const { target, home, log } = req;
  const script = req.script === undefined ? undefined : await readFile(req.script, 'utf8').catch(() => {
    throw usageError(`cannot read the script ${req.script ?? ''}`, 'give --script a file of shell commands, one per line');
  });
  if (req.place !== 'folder') {
    const probe = await run('nsenter', ['--version']);
    if (probe.code !== 0) throw envError('nsenter is missing', 'apt-get install util-linux');
    await labUp((l) => log(`$ ${l}`));
  }
  const base = join(home, 'record');
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, `${target.chapterId}-`));
  const startedAt = Date.now();
  const before = await takeSnapshot(dir);
  const { commands, exit } = await runShell(req, dir, script);
  const after = await takeSnapshot(dir);
  const changes = diffSnapshots(before, after);
  if (changes.length === 0) {
    await rm(dir, { recursive: true, force: true });
    throw usageError(`the ${commands.length} recorded command(s) changed nothing that the probes see`, 'a step makes something: a mount, a subvolume, a link, a file in the chapter folder… (see `workshop record --help`)');
  }
  return writeRecording(req, { dir, startedAt, commands, exit, changes, loops: after.loops });
}

/** Drafts the recorded changes into the pack. */
async function writeRecording(req: RecordRequest, r: Pick<Recording, 'dir' | 'startedAt' | 'commands' | 'exit' | 'changes'> & { loops: KernelSnapshot['loops'] }): Promise<Recording> {
  const { target } = req;
  const { dir, commands, changes } = r;
  const items = changes.map((c) => draftItem(c, dir, r.loops, changes));
  const draft = writeDraft({ chapterId: target.chapterId, title: `Draft: ${target.chapterId}`, step: target.step, commands, place: req.place, items, recordedAt: new Date().toISOString().slice(0, 10) });
  await mkdir(target.folder, { recursive: true });
  const files = { chapterMd: join(target.folder, 'chapter.md'), stepsTs: join(target.folder, 'steps.ts') };
  await writeFile(files.chapterMd, draft.chapterMd);
  await writeFile(files.stepsTs, draft.stepsTs);
  return { target, dir, startedAt: r.startedAt, nonce: newNonce(), commands, exit: r.exit, changes, draft, files };
}

/**
 * Removes what the recording made, with the draft's own cleanup run in the recording's folder
 * (the lesson host, as `workshop clean` runs a chapter's), then the folder itself.
 */
export async function cleanRecording(rec: Recording, home: string, log: (line: string) => void): Promise<void> {
  // what is left when the draft's cleanup cannot run: every object but the folder's files
  const left = rec.changes.filter((c) => c.kind !== 'file').map((c) => `${c.kind} ${JSON.stringify(c.obj)}`);
  const stillThere = (why: string) => lessonError(why, `what the recording made is still there; remove it by hand:\n  ${left.join('\n  ')}`);
  const cat = readCatalog(rec.target.pack);
  const entry = cat.chapters.find((c) => c.id === rec.target.chapterId);
  if (!entry) throw stillThere(`the draft ${rec.target.folder} is not in the pack's index: ${cat.problems.map((p) => p.message).join('; ')}`);
  const ch = await loadChapter(entry, []);
  if (!ch) throw stillThere(`the draft ${rec.files.stepsTs} did not load (workshop lint ${rec.target.folder} says why)`);
  await cleanupChapter(ch, { chapter: rec.target.chapterId, dir: rec.dir, home, nonce: rec.nonce, startedAt: rec.startedAt }, log, false).catch((err: unknown) => {
    throw stillThere(`the draft's cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  // only now: a folder that still holds a mount is left as it is, for the author to see
  await rm(rec.dir, { recursive: true, force: true });
  await rmdir(dirname(rec.dir)).catch(() => {}); // only when empty
}
