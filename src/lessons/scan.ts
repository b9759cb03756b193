// Finds the step keys of `steps: { … }` in a steps.ts source, with their lines, without
// importing it: a JS object literal silently keeps the last of two equal keys, so duplicates
// and file:line positions can only be seen in the text. A small tokenizer that skips strings,
// template literals and comments is enough for the shape defineChapter asks for.

export interface KeyAt {
  key: string;
  line: number;
}

export function lineOf(source: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index && i < source.length; i++) if (source.charCodeAt(i) === 10) n++;
  return n;
}

/** Index just past the string/comment/template starting at i, or i when none starts there. */
function skip(src: string, i: number): number {
  const c = src[i];
  if (c === '/' && src[i + 1] === '/') {
    const e = src.indexOf('\n', i);
    return e < 0 ? src.length : e;
  }
  if (c === '/' && src[i + 1] === '*') {
    const e = src.indexOf('*/', i + 2);
    return e < 0 ? src.length : e + 2;
  }
  if (c === '"' || c === "'" || c === '`') {
    let j = i + 1;
    let depth = 0;
    while (j < src.length) {
      const d = src[j];
      if (d === '\\') j += 2;
      else if (c === '`' && d === '$' && src[j + 1] === '{') {
        depth++;
        j += 2;
      } else if (c === '`' && depth > 0 && d === '}') {
        depth--;
        j++;
      } else if (d === c && depth === 0) return j + 1;
      else j++;
    }
    return src.length;
  }
  return i;
}

/** Keys at depth 1 of the object literal after `steps:`; [] when there is none. */
export function scanStepKeys(source: string): KeyAt[] {
  const m = /\bsteps\s*:\s*\{/.exec(source);
  if (!m) return [];
  const keys: KeyAt[] = [];
  let depth = 1;
  let i = m.index + m[0].length;
  let expectKey = true;
  while (i < source.length && depth > 0) {
    const j = skip(source, i);
    if (j !== i) {
      if (depth === 1 && expectKey && (source[i] === '"' || source[i] === "'")) {
        const rest = source.slice(j).match(/^\s*:/);
        if (rest) keys.push({ key: source.slice(i + 1, j - 1), line: lineOf(source, i) });
        expectKey = false;
      }
      i = j;
      continue;
    }
    const c = source[i] ?? '';
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (depth === 1 && c === ',') expectKey = true;
    else if (depth === 1 && expectKey && /[A-Za-z_$]/.test(c)) {
      const id = /^[A-Za-z_$][\w$]*/.exec(source.slice(i))?.[0] ?? c;
      if (/^\s*:/.test(source.slice(i + id.length))) keys.push({ key: id, line: lineOf(source, i) });
      expectKey = false;
      i += id.length;
      continue;
    } else if (depth === 1 && !/\s/.test(c)) expectKey = false;
    i++;
  }
  return keys;
}

/** The line where `name` first appears as a property (e.g. formatVersion), or 1. */
export function propertyLine(source: string, name: string): number {
  const m = new RegExp(`\\b${name}\\s*:`).exec(source);
  return m ? lineOf(source, m.index) : 1;
}
