// Lists the functions of src/ longer than a limit (100 lines by default), measured with the
// TypeScript compiler API: a function's lines run from its first token to its closing brace, so a
// comment above it does not count and a nested function counts in its parent too.
//
//   node scripts/function-length.mjs [--limit N] [--json] [DIR...]     (default DIR: src)
//
// Exit 0 when none is over the limit, 1 otherwise. The chapters' steps.ts data (lessons/) is not
// under src/ and is not measured.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** Every .ts, .js and .mjs file under dir, sorted, skipping node_modules and declaration files. */
function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(p));
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The name a reader would search for: `Journey.pass`, `startServer`, `(arrow in render)`. */
function nameOf(node, sf) {
  if (node.name && ts.isIdentifier(node.name)) {
    const holder = node.parent && (ts.isClassDeclaration(node.parent) || ts.isClassExpression(node.parent)) && node.parent.name ? `${node.parent.name.text}.` : '';
    return holder + node.name.text;
  }
  if (node.name) return node.name.getText(sf);
  // an arrow or a function expression: the variable, property or call it is written into
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

/** Functions of one file with their line counts. */
export function functionLengths(file, text = readFileSync(file, 'utf8')) {
  const kind = file.endsWith('.js') || file.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
      found.push({ file, name: nameOf(node, sf), line: start, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export function longFunctions(dirs, limit) {
  return dirs.flatMap((d) => sourceFiles(d)).flatMap((f) => functionLengths(f)).filter((f) => f.lines > limit);
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = process.argv.slice(2);
  let limit = 100;
  let json = false;
  const dirs = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--limit') limit = Number(args[++i]);
    else if (a === '--json') json = true;
    else dirs.push(a);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    process.stderr.write('function-length: --limit needs a whole number of lines\n');
    process.exit(2);
  }
  const long = longFunctions(dirs.length ? dirs : ['src'], limit);
  if (json) process.stdout.write(`${JSON.stringify({ limit, long }, null, 2)}\n`);
  else {
    for (const f of long) process.stdout.write(`${relative(process.cwd(), f.file)}:${f.line}  ${f.name}  ${f.lines} lines\n`);
    process.stdout.write(long.length ? `${long.length} function(s) over ${limit} lines\n` : `no function over ${limit} lines\n`);
  }
  process.exit(long.length ? 1 : 0);
}
