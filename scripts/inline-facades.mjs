// A pass of the build (scripts/build.mjs) over the CLI's chunks. test/unit/inline-facades.test.ts
// holds it to its promises.
import ts from 'typescript';

/** What a module imports statically and exports by name ({exported: local}). */
function shape(text, fileName) {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const imports = [];
  const exports = new Map();
  let onlyReexports = true;
  for (const s of file.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const named = s.importClause?.namedBindings;
      const names = named && ts.isNamedImports(named) ? named.elements.map((e) => ({ local: e.name.text, imported: (e.propertyName ?? e.name).text })) : [];
      imports.push({ from: s.moduleSpecifier.text, names });
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier === undefined && s.exportClause && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) exports.set(e.name.text, (e.propertyName ?? e.name).text);
    } else onlyReexports = false;
  }
  return { imports, exports, onlyReexports };
}

/**
 * The hot commands' `load: () => import("./chunk-F.js").then((m) => m.default)` in the core chunk,
 * where chunk-F.js is a facade (imports and one export list, no code) whose default is a function
 * of the core chunk itself: esbuild writes one for each lazily imported command that it put in the
 * core chunk. The import becomes `Promise.resolve(thatFunction)`: the same value, without the ES
 * module loader's resolve, read, compile and link of the facade (~1.6M instructions of `hint`,
 * issue 26). Only where every module the facade imports is imported by the core chunk already, so
 * that the same modules are loaded, in the same order, either way.
 *
 * `files`: {name: text} of the bundle's modules; returns the names it changed, with their new text.
 */
export function inlineFacades(files) {
  const changed = {};
  for (const [name, text] of Object.entries(files)) {
    let own;
    const out = text.replace(/import\("\.\/(chunk-[A-Za-z0-9]+\.js)"\)\.then\(\(m\) => m\.default\)/g, (call, facadeName) => {
      const facadeText = files[facadeName];
      if (facadeText === undefined) return call;
      own ??= shape(text, name);
      const facade = shape(facadeText, facadeName);
      const local = facade.exports.get('default');
      const from = facade.imports.find((i) => i.names.some((n) => n.local === local));
      const imported = from?.names.find((n) => n.local === local)?.imported;
      const target = imported === undefined ? undefined : own.exports.get(imported);
      const alreadyLoaded = facade.imports.every((i) => i.from === `./${name}` || own.imports.some((o) => o.from === i.from));
      if (!facade.onlyReexports || from?.from !== `./${name}` || target === undefined || !alreadyLoaded) return call;
      return `Promise.resolve(${target})`;
    });
    if (out !== text) changed[name] = out;
  }
  return changed;
}
