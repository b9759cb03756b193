// Bundles the CLI, and apart from it the lesson host with the lesson API, with esbuild. One
// bundle starts far faster than many modules (measured: 1.13x vs 1.5x `node -e 0`). Commands are
// split into chunks that load lazily; the heavy packages (marked-terminal, execa, zx, inquirer)
// stay in node_modules and are imported only by the commands that need them.
import { build } from 'esbuild';
import { access, chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertNoImportCycle, eagerFunctions, hotFunctions, staticImports } from './eager-functions.mjs';
import { fsPromisesLite } from './fs-promises-lite.mjs';
import { inlineFacades } from './inline-facades.mjs';

// An other output folder (`node scripts/build.mjs /tmp/x`) lets several people build at once;
// such a build finds the lessons with --lessons.
const outdir = process.argv[2] ?? 'dist';
const MAIN = resolve('src/cli/main.ts');
const QUICK = resolve('src/cli/quick.ts');
/** bin.ts starts the lesson host with it before main.ts loads: it must not pull main.ts in */
const HOST_SPAWN = resolve('src/lessons/host-spawn.ts');
/**
 * The commands a learner types all day (`hot` in src/cli/commands/index.ts) go into the core chunk
 * with main.ts, so that each of them loads no chunk of its own (issue 14: status ≤ 1.3x `node -e 0`).
 * Node 24 reads the list as it is (type stripping); it imports no command.
 */
const { COMMANDS } = await import(pathToFileURL(resolve('src/cli/commands/index.ts')).href);
const HOT = Object.entries(COMMANDS)
  .filter(([, c]) => c.hot)
  .map(([name]) => resolve(`src/cli/commands/${name}.ts`));
for (const h of HOT) await access(h).catch(() => Promise.reject(new Error(`${h}: a hot command's file is commands/NAME.ts`)));

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
};
const entryPoints = { cli: 'src/cli/bin.ts' };
/**
 * The lesson host (src/lessons/host-child.ts, a child process of workshop that runs all lesson
 * code) and the lesson API that steps.ts imports as `workshop/lesson`: a build of their own, so
 * that the host loads none of the CLI, and the API shares its chunks with the host.
 */
const hostEntryPoints = { 'lesson-host': 'src/lessons/host-child.ts', lesson: 'src/lesson.ts' };
/**
 * The built-in lessons' host in workshop's own process (host-inline.ts), with the whole lesson API,
 * as one file: in that process `workshop/lesson` names this file (host-hooks.ts), so that `next`
 * loads one module, not lesson.js and the eight chunks it shared with the host (issue 26).
 */
const inlineEntry = {
  contents: "export * from './src/lesson.ts';\nexport { inlineHost } from './src/lessons/host-inline.ts';\n",
  resolveDir: resolve('.'),
  sourcefile: 'lesson-inline.ts',
  loader: 'ts',
};

/**
 * esbuild puts each module in the chunk of the set of entries (dynamic imports count as entries)
 * that reach it, never knowing that every command runs after main.ts has loaded. So the modules
 * main.ts shares with some commands and not others land in a dozen small chunks, and `workshop
 * status` loaded 20 files. Every lazily imported module is therefore made to
 * import main.ts too (a no-op at run time: main.ts is loaded first and has no side effects; a
 * module that main.ts itself reaches only closes a cycle, which ESM allows); then everything
 * main.ts needs is reached by the same set of entries and becomes one chunk.
 */
async function lazyModules() {
  const r = await build({ ...common, entryPoints, outdir, splitting: true, write: false, metafile: true });
  const lazy = new Set();
  for (const input of Object.values(r.metafile.inputs)) {
    for (const i of input.imports) if (!i.external && i.kind === 'dynamic-import') lazy.add(resolve(i.path));
  }
  lazy.delete(MAIN);
  // the quick status must not load main.ts: that is what it is for
  lazy.delete(QUICK);
  lazy.delete(HOST_SPAWN);
  return lazy;
}

const lazy = await lazyModules();
const mainSpecifier = (from) => {
  const rel = relative(resolve(from, '..'), MAIN);
  return rel.startsWith('.') ? rel : `./${rel}`;
};
/** Appends the import of main.ts to each lazy module, and of the hot commands to main.ts. */
const oneCore = {
  name: 'one-core-chunk',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const isMain = args.path === MAIN;
      if (!isMain && !lazy.has(args.path)) return undefined;
      const source = await readFile(args.path, 'utf8');
      const extra = isMain ? HOT.map((h) => `import ${JSON.stringify(`./${relative(resolve(MAIN, '..'), h)}`)};`) : [`import ${JSON.stringify(mainSpecifier(args.path))};`];
      return { contents: `${source}\n${extra.join('\n')}\n`, loader: 'ts' };
    });
  },
};

/**
 * `import { readFileSync } from 'node:fs'` in an ES module costs ~61M instructions (callgrind; a
 * whole `node -e 0` is ~94M): Node builds an ESM facade of the module, which reads every export,
 * and fs.promises is a getter that loads fs/promises, streams and readline. The built-ins that
 * the hot path imports are therefore taken from process.getBuiltinModule, which builds no facade.
 * Their named exports are listed here at build time, without the getters (import node:fs/promises,
 * not fs.promises: a build that asks for a getter fails).
 */
const VIA_GETBUILTIN = new Set(['node:fs', 'node:fs/promises', 'node:path', 'node:url', 'node:module', 'node:os']);
const IDENT = /^[A-Za-z_$][\w$]*$/;
const builtins = {
  name: 'builtins-without-facade',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (VIA_GETBUILTIN.has(args.path) ? { path: args.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, async (args) => {
      const mod = await import(args.path);
      // A getter (fs.promises, fs.ReadStream, …) loads more modules when it is read: left out.
      const accessors = new Set(Object.entries(Object.getOwnPropertyDescriptors(mod.default)).flatMap(([k, d]) => (d.get ? [k] : [])));
      const names = Object.keys(mod).filter((k) => k !== 'default' && IDENT.test(k) && !accessors.has(k));
      const id = JSON.stringify(args.path);
      if (args.path === 'node:fs/promises') return { contents: fsPromisesLite(mod, names), loader: 'js' };
      // One pure export per name, so that esbuild drops the names that no module imports: reading
      // fs.Dir loads node:internal/fs/dir (1.5M instructions of `workshop status`).
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      return { contents: `const m = process.getBuiltinModule(${id});\nexport default m;\n${exports.join('\n')}\n`, loader: 'js' };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints,
  outdir,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  sourcemap: false,
  plugins: [oneCore, builtins],
});
await build({ ...common, entryPoints: hostEntryPoints, outdir, splitting: true, chunkNames: 'host-[hash]', sourcemap: false, plugins: [builtins] });
await build({ ...common, stdin: inlineEntry, outfile: `${outdir}/lesson-inline.js`, sourcemap: false, plugins: [builtins] });
await chmod(`${outdir}/cli.js`, 0o755);
// The same node:fs/promises for lesson code (steps.ts imports it; src/lessons/host-child.ts points
// the import there): the lesson host then loads no fs/promises at all.
const fsPromises = await import('node:fs/promises');
await writeFile(`${outdir}/fs-promises.js`, fsPromisesLite(fsPromises, Object.keys(fsPromises).filter((k) => k !== 'default' && IDENT.test(k))));

// The hot commands reach their own code in the core chunk without importing a facade chunk
// (scripts/inline-facades.mjs says why and when).
{
  const own = {};
  for (const name of await readdir(outdir)) if (name === 'cli.js' || (name.startsWith('chunk-') && name.endsWith('.js'))) own[name] = await readFile(`${outdir}/${name}`, 'utf8');
  for (const [name, text] of Object.entries(inlineFacades(own))) await writeFile(`${outdir}/${name}`, text);
}

// Top-level functions compiled eagerly, so that Node's compile cache holds them (issue 26: the
// reasons are in scripts/eager-functions.mjs); only safe without import cycles, so those fail here.
// In the CLI's own files (cli.js and its chunks) only the functions that the hot commands run
// (scripts/hot-functions.txt, written by scripts/hot-functions.mjs); in the lesson API and the
// host every one, as a learner's `next` may run any chapter's checks. WORKSHOP_EAGER=none leaves
// every function lazy (scripts/hot-functions.mjs records which ones run).
const lazyBuild = process.env['WORKSHOP_EAGER'] === 'none';
const hotList = await readFile(new URL('./hot-functions.txt', import.meta.url), 'utf8').catch(() => '');
// without a list (a checkout that lost it), every function, as before the list
const hot = hotList.trim() === '' ? undefined : hotFunctions(hotList);
const imports = {};
for (const name of await readdir(outdir)) {
  if (!name.endsWith('.js')) continue;
  const text = await readFile(`${outdir}/${name}`, 'utf8');
  imports[name] = staticImports(text, name);
  const cliOwn = name === 'cli.js' || name.startsWith('chunk-');
  const eager = lazyBuild ? { moved: 0 } : eagerFunctions(text, name, cliOwn ? hot : undefined);
  if (eager.moved > 0) await writeFile(`${outdir}/${name}`, eager.text);
}
assertNoImportCycle(imports);

// One non-ASCII character anywhere in a chunk (a regex of box-drawing characters did it) makes V8
// hold the whole file as UTF-16 and Node re-encode it for its compile cache: 2M instructions on
// every `next` (issue 14). Write such characters as \u escapes.
for (const name of await readdir(outdir)) {
  if (!name.endsWith('.js')) continue;
  const lines = (await readFile(`${outdir}/${name}`, 'utf8')).split('\n');
  const at = lines.findIndex((l) => /[^\x00-\x7f]/.test(l));
  if (at >= 0) throw new Error(`${outdir}/${name}:${at + 1}: a non-ASCII character in the bundle; write it as a \\u escape in the source:\n  ${lines[at]?.trim()}`);
}
