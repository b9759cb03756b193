// The build's pass that makes top-level functions compile eagerly (scripts/eager-functions.mjs):
// the module means the same, and V8 really compiles the functions with the module.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Pass {
  eagerFunctions: (text: string, fileName: string, keep?: (module: string, name: string) => boolean) => { text: string; moved: number };
  hotFunctions: (listText: string) => (module: string, name: string) => boolean;
  staticImports: (text: string, fileName: string) => string[];
  assertNoImportCycle: (graph: Record<string, string[]>) => void;
}
let pass: Pass;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ws-eager-'));
  pass = (await import(pathToFileURL(join(import.meta.dirname, '..', '..', 'scripts', 'eager-functions.mjs')).href)) as Pass;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A module as esbuild writes one: imports, code that calls a function declared further down, exports. */
const MODULE = `import { sep } from "node:path";
// the top level calls a function declared below it: hoisting must hold
var first = twice(2);
async function later(x) {
  return x + sep.length;
}
function twice(n) {
  function inner(m) { return m * 2; }
  return inner(n);
}
export function kept() { return "exported declarations stay"; }
export { first, later, twice };
`;

describe('eagerFunctions', () => {
  it('moves each top-level declaration, in a parenthesis, to the start after the imports', () => {
    const { text, moved } = pass.eagerFunctions(MODULE, 'm.js');
    expect(moved).toBe(2);
    expect(text.split('\n').slice(0, 4)).toEqual(['import { sep } from "node:path";', '// the top level calls a function declared below it: hoisting must hold', 'var later = (async function later(x) {', '  return x + sep.length;']);
    expect(text).toContain('var twice = (function twice(n) {\n  function inner(m) { return m * 2; }\n  return inner(n);\n});');
    expect(text).toContain('export function kept()');
  });

  it('leaves a module that means the same', async () => {
    const file = join(dir, 'same.mjs');
    writeFileSync(file, pass.eagerFunctions(MODULE, 'm.js').text);
    const m = (await import(pathToFileURL(file).href)) as { first: number; later: (x: number) => Promise<number>; twice: (n: number) => number; kept: () => string };
    expect(m.first).toBe(4);
    expect(await m.later(1)).toBe(2);
    expect(m.twice.name).toBe('twice');
    expect(m.kept()).toBe('exported declarations stay');
  });

  it('moves only what the list of hot functions names, by source module, renamed or not', () => {
    const bundle = `// src/a.ts
function load() { return 'a'; }
function cold() { return 'cold'; }

// src/b.ts
function load2() { return 'b'; }
function warm() { return 'warm'; }
export { cold, load, load2, warm };
`;
    const keep = pass.hotFunctions('# a comment\nsrc/a.ts load\nsrc/b.ts load\nsrc/a.ts warm\n');
    const { text, moved } = pass.eagerFunctions(bundle, 'chunk.js', keep);
    expect(moved).toBe(2);
    expect(text).toContain("var load = (function load() { return 'a'; });");
    expect(text).toContain("var load2 = (function load2() { return 'b'; });");
    // warm is listed under another module, cold under none
    expect(text).toContain("\nfunction warm() { return 'warm'; }");
    expect(text).toContain("\nfunction cold() { return 'cold'; }");
  });

  it('leaves a module without declarations as it was', () => {
    const text = 'import "./chunk-A.js";\nvar f = () => 1;\nexport { f };\n';
    expect(pass.eagerFunctions(text, 'a.js')).toEqual({ text, moved: 0 });
  });

  it('makes V8 compile the moved functions with the module, not on their first call', () => {
    // --log-function-events logs a lazily compiled function as parse-function when it first runs
    const body = 'function called(a) { let s = 0; for (const x of a) s += x; return s; }\nconsole.log(called([1, 2]));\n';
    const parsedLazily = (name: string, text: string): boolean => {
      const file = join(dir, `${name}.mjs`);
      const log = join(dir, `${name}.log`);
      writeFileSync(file, text);
      execFileSync(process.execPath, ['--log-function-events', `--logfile=${log}`, '--no-logfile-per-isolate', file]);
      return readFileSync(log, 'utf8')
        .split('\n')
        .some((l) => l.startsWith('function,parse-function,') && l.endsWith(',called'));
    };
    expect(parsedLazily('lazy', body)).toBe(true);
    expect(parsedLazily('eager', pass.eagerFunctions(body, 'e.js').text)).toBe(false);
  });
});

describe('the bundle has no import cycle', () => {
  it('reads static imports and re-exports of sibling modules only', () => {
    const text = 'import { a } from "./chunk-A.js";\nimport "./chunk-B.js";\nimport { join } from "node:path";\nexport { c } from "./chunk-C.js";\nconst d = () => import("./chunk-D.js");\n';
    expect(pass.staticImports(text, 'x.js')).toEqual(['chunk-A.js', 'chunk-B.js', 'chunk-C.js']);
  });

  it('accepts a graph without cycles and names the modules of a cycle', () => {
    expect(() => pass.assertNoImportCycle({ 'cli.js': ['a.js', 'b.js'], 'a.js': ['b.js'], 'b.js': [] })).not.toThrow();
    expect(() => pass.assertNoImportCycle({ 'cli.js': ['a.js'], 'a.js': ['b.js'], 'b.js': ['a.js'] })).toThrow(/a\.js -> b\.js -> a\.js/);
  });
});
