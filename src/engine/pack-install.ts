// `workshop pack add|remove|use`: a pack from a folder, a git repository or npm, fetched with the
// ordinary clients into a staging folder inside the packs folder, linted, proven by `workshop
// test`, and only then renamed into place with a record of where it came from. Whatever fails
// leaves nothing behind. The source is untrusted: its name never leaves the packs folder, its
// files are plain files and folders (a symlink is refused), and no package script runs.
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { envError, lessonError, usageError } from '../errors.ts';
import { run, type RunResult } from '../sys/exec.ts';
import { isRecord } from '../sys/lang.ts';
import { readCatalog } from '../lessons/catalog.ts';
import { formatProblem, lintPack } from './lint.ts';
import { BUILTIN, installed, inUsePath, packDir, packInUse, packsDir, PACK_NAME, readRecord, RECORD_FILE, type PackRecord } from './packs.ts';
import { writeJsonAtomic } from './progress.ts';

export type PackSource = { kind: 'dir'; path: string } | { kind: 'git'; url: string } | { kind: 'npm'; spec: string } | { kind: 'url'; url: string };

const GIT_URL = /^(?:(?:git\+)?(?:https?|ssh|git|file):\/\/|git@[\w.-]+:)|\.git\/?$/;
const NPM_NAME = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*(?:@[\w.^~<>=*|+-]+)?$/;
const TARBALL = /\.(?:tgz|tar\.gz)$/;
/** a tarball over HTTP(S), such as a class server's /api/pack.tgz?code=CODE */
const TARBALL_URL = /^https?:\/\/[^\s/?#]+\/[^\s?#]*\.(?:tgz|tar\.gz)(?:\?[^\s#]*)?$/;
/** the most a pack's tarball may weigh, fetched or handed out */
const TARBALL_LIMIT = 64 * 1024 * 1024;

/** What `pack add ARG` names: a folder or a tarball that exists, a git URL, or an npm package. */
export function classifySource(arg: string): PackSource {
  if (arg === '' || arg.startsWith('-')) throw usageError(`"${arg.slice(0, 60)}" is not a pack source`, 'give a folder, a git URL (https://…, file://…, ….git), an npm package name or tarball, or a tarball\'s URL (https://…/NAME.tgz)');
  const path = resolve(arg);
  if (existsSync(path) && statSync(path).isDirectory()) return { kind: 'dir', path };
  if (TARBALL.test(arg) && existsSync(path)) return { kind: 'npm', spec: path };
  if (TARBALL_URL.test(arg)) return { kind: 'url', url: arg };
  if (GIT_URL.test(arg)) return { kind: 'git', url: arg };
  if (NPM_NAME.test(arg) && !arg.includes('/', arg.startsWith('@') ? arg.indexOf('/') + 1 : 0)) return { kind: 'npm', spec: arg };
  throw usageError(`no such folder or tarball: ${arg.slice(0, 200)}`, 'give a folder of chapters (NN-name/), a git URL (https://…, file://…, ….git), or an npm package name or .tgz');
}

const whereFrom = (s: PackSource): string => (s.kind === 'dir' ? s.path : s.kind === 'npm' ? s.spec : s.url);

/** The pack name a source suggests: its package.json name (without a scope), or its folder's name. */
function suggestedName(root: string, source: PackSource): string {
  const pkgName = readPackageJson(root)?.name;
  if (typeof pkgName === 'string') return pkgName.replace(/^@[^/]*\//, '');
  const from = whereFrom(source);
  return basename(from.replace(/[#?].*$/, '').replace(/\/+$/, '')).replace(/\.git$/, '').replace(/\.(?:tgz|tar\.gz)$/, '');
}

function readPackageJson(root: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A name for the packs folder, or a usage error: never `..`, a slash, a dot file or BUILTIN. */
export function checkName(name: string, why: string): string {
  if (!PACK_NAME.test(name) || name === BUILTIN) {
    throw usageError(`"${name.slice(0, 60)}" cannot be a pack's name (${why})`, `a name is 1-40 lowercase letters, digits and dashes, and not "${BUILTIN}": give one with --name NAME`);
  }
  return name;
}

const failed = (r: RunResult): string => (r.timedOut ? 'it timed out' : (r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code ?? 'signal'}`));

/** What a pack's folder may hold that is not installed with it. */
const NOT_COPIED = ['.git', 'node_modules'];

/** The refusal of symlinks: a pack's files are its own, and a link could point anywhere on the machine. */
function refuseLinks(dir: string, under = ''): void {
  for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
    if (NOT_COPIED.includes(e.name)) continue;
    const rel = join(under, e.name);
    if (e.isSymbolicLink()) throw lessonError(`the pack holds a symbolic link, ${rel}: a pack is plain files and folders`, 'replace the link by the file it points to');
    if (e.isDirectory()) refuseLinks(dir, rel);
  }
}

/** Fetches the source into `dest` (a folder that does not exist yet); the commit when it is a git repository. */
async function fetchInto(source: PackSource, stage: string, dest: string): Promise<{ commit: string | null }> {
  if (source.kind === 'dir') {
    // a folder that is no pack at all (a typo, the home folder) is told so before anything is copied
    const cat = readCatalog(source.path);
    if (cat.chapters.length === 0) throw lessonError(`${source.path} is not a lesson pack: ${cat.problems.map((p) => p.message).join('; ').slice(0, 300)}`, 'a pack is a folder of chapters, NN-name/ with chapter.md and steps.ts in each (`workshop lint DIR`)');
    refuseLinks(source.path);
    cpSync(source.path, dest, { recursive: true, filter: (src) => !NOT_COPIED.includes(basename(src)) || src === source.path });
    return { commit: null };
  }
  if (source.kind === 'git') {
    // only the ordinary transports: git's ext:: and fd:: would run a command named in the URL
    const env = { GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh' };
    const r = await run('git', ['clone', '--quiet', '--depth', '1', '--no-recurse-submodules', '--', source.url, dest], { timeoutMs: 300_000, env });
    if (r.code !== 0) throw envError(`git clone ${source.url} failed: ${failed(r)}`, 'check the URL (git clone must work with it as typed), and that the repository can be reached');
    const head = await run('git', ['-C', dest, 'rev-parse', 'HEAD'], { env });
    rmSync(join(dest, '.git'), { recursive: true, force: true });
    refuseLinks(dest);
    return { commit: head.code === 0 ? head.stdout.trim() : null };
  }
  if (source.kind === 'url') {
    const file = join(stage, 'pack.tgz');
    await download(source.url, file);
    await untar(file, dest);
    return { commit: null };
  }
  // npm pack fetches a registry package or re-reads a tarball, and runs no script of it
  const r = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', stage, '--', source.spec], { timeoutMs: 300_000, cwd: stage });
  let file: unknown;
  try {
    file = (JSON.parse(r.stdout) as Array<{ filename?: unknown }>)[0]?.filename;
  } catch {
    file = undefined;
  }
  if (r.code !== 0 || typeof file !== 'string') throw envError(`npm pack ${source.spec} failed: ${failed(r)}`, 'check the package name (npm view NAME) or the tarball, and that the npm registry can be reached');
  await untar(join(stage, basename(file)), dest);
  return { commit: null };
}

/** Unpacks a tarball's one top folder into `dest` (which does not exist yet): plain files and folders only. */
async function untar(file: string, dest: string): Promise<void> {
  mkdirSync(dest);
  // GNU tar refuses members with `..` or a leading `/`; owners and modes are not taken from the archive
  const x = await run('tar', ['-xzf', file, '-C', dest, '--strip-components=1', '--no-same-owner', '--no-same-permissions'], { timeoutMs: 120_000 });
  if (x.code !== 0) throw envError(`cannot unpack ${basename(file)}: ${failed(x)}`, 'is it a gzipped tar of a pack (npm pack, or a class server\'s /api/pack.tgz)?');
  refuseLinks(dest);
}

/** The message of a refusal: a class server answers {"error": "..."}; anything else is cut short. */
async function refusalOf(res: Response): Promise<string> {
  const text = (await res.text().catch(() => '')).slice(0, 2000);
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && typeof v['error'] === 'string') return v['error'].slice(0, 300);
  } catch {
    // not JSON
  }
  return text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);
}

/** Fetches a tarball over HTTP(S) into `file`, at most TARBALL_LIMIT bytes: what comes from the network is untrusted. */
async function download(url: string, file: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause instanceof Error ? err.cause.message : '') || err.message) : String(err);
    throw envError(`cannot fetch ${url}: ${cause}`, 'check the address, and that this machine can reach it');
  }
  if (!res.ok || res.body === null) throw envError(`${url} answered ${res.status}${res.ok ? '' : `: ${await refusalOf(res)}`}`, 'check the address (a class server\'s needs the join code in ?code=)');
  const tooBig = () => envError(`${url} is more than ${TARBALL_LIMIT / 1024 / 1024} MB: no pack is that large`, 'check the address');
  if (Number(res.headers.get('content-length') ?? 0) > TARBALL_LIMIT) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > TARBALL_LIMIT) throw tooBig();
    chunks.push(Buffer.from(chunk));
  }
  writeFileSync(file, Buffer.concat(chunks));
}

export interface AddOptions {
  home: string;
  source: PackSource;
  /** the --name given, if any */
  name: string | undefined;
  /** `workshop test` on the staged pack (run by the command: the engine does not start the CLI); 'skip' for --no-test */
  prove: ((dir: string) => Promise<boolean>) | 'skip';
  log: (line: string) => void;
}

export interface AddOutcome {
  record: PackRecord;
  dir: string;
  chapters: string[];
  steps: number;
}

/** Fetches, lints, proves and installs a pack; nothing is left of it in the home when any of it fails. */
export async function addPack(o: AddOptions): Promise<AddOutcome> {
  const root = packsDir(o.home);
  mkdirSync(root, { recursive: true });
  if (o.name !== undefined) refuseTaken(o.home, checkName(o.name, 'from --name'));
  const stage = mkdtempSync(join(root, '.add-'));
  try {
    const staged = join(stage, 'pack');
    o.log(`fetching ${whereFrom(o.source)} (${o.source.kind})`);
    const { commit } = await fetchInto(o.source, stage, staged);
    const name = o.name ?? checkName(suggestedName(staged, o.source), 'taken from the source; --name NAME gives another');
    refuseTaken(o.home, name);
    const lint = await lintPack(staged);
    if (lint.problems.length > 0) throw lessonError(`${name} is not a lesson pack that workshop can use (workshop lint):\n  ${lint.problems.slice(0, 20).map(formatProblem).join('\n  ')}`, 'fix the pack and add it again; `workshop lint DIR` shows every problem');
    o.log(`lint: ${lint.chapters.length} chapter(s), ${lint.steps} step(s), no problems`);
    if (o.prove !== 'skip' && !(await o.prove(staged))) throw lessonError(`${name} did not pass \`workshop test\`: it was not installed`, 'the report above says which step failed; --no-test installs it unproven');
    const version = readPackageJson(staged)?.version;
    const record: PackRecord = { name, kind: o.source.kind, source: whereFrom(o.source), version: typeof version === 'string' ? version : null, commit, addedAt: new Date().toISOString(), tested: o.prove === 'skip' ? 'skipped' : 'passed' };
    writeJsonAtomic(join(staged, RECORD_FILE), record, 'the pack was not installed');
    refuseTaken(o.home, name);
    renameSync(staged, packDir(o.home, name));
    return { record, dir: packDir(o.home, name), chapters: lint.chapters, steps: lint.steps };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function refuseTaken(home: string, name: string): void {
  if (!existsSync(packDir(home, name))) return;
  const had = readRecord(home, name);
  throw usageError(`a pack named ${name} is installed already${had ? ` (from ${had.source})` : ''}`, `\`workshop pack remove ${name}\` first, or give this one another name with --name NAME`);
}

/**
 * Whether a pack's source is a place on this machine (a folder, a tarball, a file:// or plain-path
 * repository), which a learner elsewhere cannot reach: a class server hands out such a pack itself.
 */
export function isLocalSource(r: PackRecord): boolean {
  if (r.kind === 'dir') return true;
  if (r.kind === 'npm') return r.source.startsWith('/');
  if (r.kind === 'git') return r.source.startsWith('file:') || r.source.startsWith('/');
  return false;
}

/** The installed pack `name` as a gzipped tar of its folder, without the record of where it came from. */
export async function packTarball(home: string, name: string): Promise<Buffer> {
  const r = installed(home, name);
  const tmp = mkdtempSync(join(packsDir(home), '.tar-'));
  try {
    const file = join(tmp, `${r.name}.tgz`);
    const t = await run('tar', ['-czf', file, '--owner=0', '--group=0', '--numeric-owner', `--exclude=${r.name}/${RECORD_FILE}`, '-C', packsDir(home), r.name], { timeoutMs: 120_000 });
    if (t.code !== 0) throw envError(`cannot pack ${packDir(home, r.name)} to hand it to learners: ${failed(t)}`, 'check that the pack can be read');
    const size = statSync(file).size;
    if (size > TARBALL_LIMIT) throw usageError(`the pack ${r.name} is ${Math.round(size / 1e6)} MB packed: more than a class server hands out (${TARBALL_LIMIT / 1e6} MB)`, 'publish it (git, npm) and install it from there, so that learners fetch it from there');
    return readFileSync(file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Makes `name` (or BUILTIN) the pack every command uses. */
export function usePack(home: string, name: string): void {
  if (name !== BUILTIN) installed(home, name);
  mkdirSync(packsDir(home), { recursive: true });
  writeJsonAtomic(inUsePath(home), name, 'the pack in use did not change');
}

/** The installed pack `name`, if it may be removed: not the built-in lessons, and not the pack in use. */
export function removable(home: string, name: string): PackRecord {
  if (name === BUILTIN) throw usageError('the built-in lessons cannot be removed', '`workshop pack list` shows the packs that can');
  const record = installed(home, name);
  if (packInUse(home) === name) throw usageError(`${name} is the pack in use`, `\`workshop pack use ${BUILTIN}\` (or another pack) first, then remove it`);
  return record;
}

/** Removes an installed pack that is not in use; its progress (progress/NAME) is kept. Its cleanups are the command's to run first. */
export function removePack(home: string, name: string): PackRecord {
  const record = removable(home, name);
  const dir = packDir(home, name);
  if (!lstatSync(dir).isDirectory()) throw envError(`${dir} is not a folder`, 'remove it yourself');
  // renamed aside first: a pack half removed must not look installed
  const gone = join(packsDir(home), `.remove-${name}-${process.pid}`);
  renameSync(dir, gone);
  rmSync(gone, { recursive: true, force: true });
  return record;
}
