// The build's last pass over each module it wrote (scripts/build.mjs). test/unit/eager-functions.test.ts
// holds it to its promises.
import ts from 'typescript';

/**
 * Makes each top-level function declaration of a bundle module compile eagerly, so that its
 * bytecode is in Node's compile cache.
 *
 * Node makes a module's code cache right after compiling it (src/compile_cache.cc), and V8 then
 * holds only what it compiled eagerly: the module's top level. Every function that runs later is
 * parsed and compiled again on every start: ~36M instructions of a files-only `next` (a whole
 * `node -e 0` is ~94M), in 262 functions of the core chunks and the lesson API. V8 compiles a
 * function eagerly when a `(` precedes it (its heuristic for a function called at once), so
 * `function f() {}` becomes `var f = (function f() {});`, moved to the start of the module: a
 * declaration is bound when its module is instantiated, before any code runs, and at the start
 * it is again bound before any of the module's code runs. (Arrow functions, methods and nested
 * functions stay lazy: V8 takes no such hint for them; converting top-level arrows gained nothing.)
 *
 * What this cannot keep is a declaration's value before its module evaluates, which a module in
 * an import cycle could see; `assertNoImportCycle` fails the build on such a cycle.
 *
 * `keep(module, name)` says which declarations to move (module: the source path, `src/x.ts`). An
 * eager function that never runs is not free: its bytecode is read back from the cache on every
 * start (issue 26: the CLI's chunks hold ~400 functions, of which the hot commands run ~200).
 */
export function eagerFunctions(text, fileName, keep = () => true) {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const moduleAt = sourceModules(text);
  const moved = [];
  let out = '';
  let at = 0;
  let insertAt;
  for (const s of file.statements) {
    if (insertAt === undefined && !ts.isImportDeclaration(s)) insertAt = out.length + (s.getStart(file) - at);
    if (!ts.isFunctionDeclaration(s) || s.name === undefined || s.body === undefined) continue;
    if (s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword)) continue;
    const start = s.getStart(file);
    if (!keep(moduleAt(start), s.name.text)) continue;
    moved.push(`var ${s.name.text} = (${text.slice(start, s.end)});\n`);
    out += text.slice(at, start);
    at = s.end;
  }
  out += text.slice(at);
  if (moved.length === 0 || insertAt === undefined) return { text, moved: 0 };
  return { text: out.slice(0, insertAt) + moved.join('') + out.slice(insertAt), moved: moved.length };
}

/**
 * Which source module each offset of a bundle module comes from: esbuild heads each module's code
 * with a `// src/x.ts` line. Returns a function from offset to that path ('' before the first).
 */
export function sourceModules(text) {
  const heads = [...text.matchAll(/^\/\/ ((?:src|lessons|node_modules)\/\S+)$/gm)].map((m) => [m.index, m[1]]);
  return (offset) => {
    let found = '';
    for (const [at, path] of heads) {
      if (at > offset) break;
      found = path;
    }
    return found;
  };
}

/**
 * A `keep` for eagerFunctions from the list of hot functions (scripts/hot-functions.txt: `module
 * name` per line). esbuild renames a function whose name another module of the chunk also uses
 * (`load` becomes `load2`): such a name is looked up without its digits too.
 */
export function hotFunctions(listText) {
  const hot = new Set(listText.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  return (module, name) => hot.has(`${module} ${name}`) || hot.has(`${module} ${name.replace(/\d+$/, '')}`);
}

/** The relative modules a bundle module imports statically (`import … from "./x.js"`, `import "./x.js"`). */
export function staticImports(text, fileName) {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const found = [];
  for (const s of file.statements) {
    const spec = (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : undefined;
    if (spec?.startsWith('./')) found.push(spec.slice(2));
  }
  return found;
}

/** Throws if the static imports among the bundle's modules ({name: [imported names]}) form a cycle. */
export function assertNoImportCycle(graph) {
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') throw new Error(`an import cycle in the bundle: ${[...path, name].join(' -> ')}; eagerFunctions (scripts/eager-functions.mjs) needs none`);
    state.set(name, 'open');
    for (const dep of graph[name] ?? []) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(graph)) visit(name, []);
}
