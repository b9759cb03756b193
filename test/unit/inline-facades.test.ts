// The build's pass that lets the hot commands reach their code in the core chunk without importing
// the facade chunk esbuild writes for each (scripts/inline-facades.mjs).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

let inlineFacades: (files: Record<string, string>) => Record<string, string>;
beforeAll(async () => {
  ({ inlineFacades } = (await import(pathToFileURL(join(import.meta.dirname, '..', '..', 'scripts', 'inline-facades.mjs')).href)) as { inlineFacades: typeof inlineFacades });
});

const CORE = `import {
  shared
} from "./chunk-SHARED.js";
import "./chunk-SIDE.js";
var hint = async function hint2(cli) { return shared(cli); };
var hint_default = { run: hint };
var COMMANDS = {
  hint: { hot: true, load: () => import("./chunk-HINT.js").then((m) => m.default) },
  solve: { load: () => import("./chunk-SOLVE.js").then((m) => m.default) },
  odd: { load: () => import("./chunk-ODD.js").then((m) => m.default) }
};
export {
  COMMANDS,
  hint_default as hintCommand
};
`;
const facade = (extra = '') => `import {
  hintCommand
} from "./chunk-CORE.js";
import "./chunk-SHARED.js";
import "./chunk-SIDE.js";${extra}
export {
  hintCommand as default
};
`;

describe('inlineFacades', () => {
  it('answers a facade of the core chunk with its own value, and leaves a chunk with code of its own alone', () => {
    const solve = 'import { shared } from "./chunk-SHARED.js";\nvar solve_default = { run: shared };\nexport {\n  solve_default as default\n};\n';
    const out = inlineFacades({ 'chunk-CORE.js': CORE, 'chunk-HINT.js': facade(), 'chunk-SOLVE.js': solve });
    expect(Object.keys(out)).toEqual(['chunk-CORE.js']);
    expect(out['chunk-CORE.js']).toContain('hint: { hot: true, load: () => Promise.resolve(hint_default) },');
    expect(out['chunk-CORE.js']).toContain('solve: { load: () => import("./chunk-SOLVE.js").then((m) => m.default) },');
    // a chunk that is not there is left to the loader
    expect(out['chunk-CORE.js']).toContain('odd: { load: () => import("./chunk-ODD.js").then((m) => m.default) }');
  });

  it('keeps the import when the facade would load a module the core chunk does not', () => {
    const out = inlineFacades({ 'chunk-CORE.js': CORE, 'chunk-HINT.js': facade('\nimport "./chunk-MORE.js";') });
    expect(out).toEqual({});
  });

  it('keeps the import when the facade has code of its own', () => {
    const out = inlineFacades({ 'chunk-CORE.js': CORE, 'chunk-HINT.js': facade('\nconsole.log("side effect");') });
    expect(out).toEqual({});
  });
});
