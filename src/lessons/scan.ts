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
  if (c === '"' || c === "'" || c === '`') return skipString(src, i, c);
  return i;
}

/** What can end or nest a string: a backslash, its quote, and in a template `${` and `}`. */
const STRING_STOPS: Record<string, RegExp> = { '"': /["\\]/g, "'": /['\\]/g, '`': /[`\\}]|\$\{/g };

/**
 * Index just past the string or template starting at i (its quote, `q`). It jumps from stop to
 * stop with a regex: walking a steps.ts's long hints character by character cost `next` ~7M
 * instructions, cold, for chroot's 7 kB.
 */
function skipString(src: string, i: number, q: string): number {
  const re = STRING_STOPS[q] ?? /$/g;
  let depth = 0;
  let j = i + 1;
  for (;;) {
    re.lastIndex = j;
    const m = re.exec(src);
    if (!m) return src.length;
    const t = m[0];
    j = m.index + t.length;
    if (t === '\\') j++;
    else if (t === '${') depth++;
    else if (t === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0) return j;
  }
}

/** Index just past the regex literal starting at i (a `/` where an operand goes), or i. */
function skipRegex(src: string, i: number): number {
  let inClass = false;
  for (let j = i + 1; j < src.length; j++) {
    const d = src[j];
    if (d === '\\') j++;
    else if (d === '\n') return i; // no regex spans lines: it was a division after all
    else if (inClass) inClass = d !== ']';
    else if (d === '[') inClass = true;
    else if (d === '/') {
      for (j++; j < src.length && /[a-z]/i.test(src[j] ?? ''); j++);
      return j;
    }
  }
  return i;
}

/** After these a `/` starts a regex literal; after an operand (a name, a number, `)`, `]`), it divides. */
const BEFORE_REGEX = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const KEYWORD_BEFORE = /(?:^|[^\w$])(?:return|typeof|case|void|in|of|yield|await|delete|throw|new|else|do)$/;
/** Whether the `/` at i starts a regex literal, by the code before it. */
function regexStartsAt(src: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && /\s/.test(src[j] ?? '')) j--;
  const prev = src[j] ?? '';
  return BEFORE_REGEX.has(prev) || (/[\w$]/.test(prev) && KEYWORD_BEFORE.test(src.slice(Math.max(0, j - 11), j + 1)));
}

const COLON_AT = /\s*:/y;
const matchesAt = (re: RegExp, source: string, i: number): RegExpExecArray | null => {
  re.lastIndex = i;
  return re.exec(source);
};
/** What matters at depth 1: names (keys), strings (quoted keys), commas, brackets, and anything else that ends a key's place. */
const AT_TOP = /[A-Za-z_$][\w$]*|\S/g;
/** What matters deeper: only what opens or closes a bracket, a string, a comment or a regex. */
const DEEPER = /["'`/{}()[\]]/g;

/**
 * Keys at depth 1 of the object literal after `steps:`; [] when there is none. One pass, led by
 * regexes (with lines counted as it goes): `next` validates the chapter it loads, so this runs on
 * every `next`, cold. Regex literals are skipped as such: a `(` or a quote inside one
 * (`/found [\s\S]*\(lowerdir=/`) used to end the scan early, and the later steps had no line.
 */
export function scanStepKeys(source: string): KeyAt[] {
  const m = /\bsteps\s*:\s*\{/.exec(source);
  if (!m) return [];
  const keys: KeyAt[] = [];
  let counted = 0;
  let line = 1;
  const lineAt = (index: number): number => {
    for (; counted < index; counted++) if (source.charCodeAt(counted) === 10) line++;
    return line;
  };
  let depth = 1;
  let i = m.index + m[0].length;
  let expectKey = true;
  while (i < source.length && depth > 0) {
    const re = depth === 1 ? AT_TOP : DEEPER;
    re.lastIndex = i;
    const t = re.exec(source);
    if (!t) break;
    const token = t[0];
    i = t.index;
    const c = token[0] ?? '';
    if (token.length > 1 || /[A-Za-z_$]/.test(c)) {
      // a name at depth 1
      if (expectKey && matchesAt(COLON_AT, source, i + token.length)) keys.push({ key: token, line: lineAt(i) });
      expectKey = false;
      i += token.length;
      continue;
    }
    let j = skip(source, i);
    if (j === i && c === '/' && regexStartsAt(source, i)) j = skipRegex(source, i);
    if (j !== i) {
      if (depth === 1 && expectKey && (c === '"' || c === "'")) {
        if (matchesAt(COLON_AT, source, j)) keys.push({ key: source.slice(i + 1, j - 1), line: lineAt(i) });
        expectKey = false;
      } else if (depth === 1 && source[i + 1] !== '/' && source[i + 1] !== '*') expectKey = false;
      i = j;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (depth === 1) expectKey = c === ',';
    i++;
  }
  return keys;
}

/** The line where `name` first appears as a property (e.g. formatVersion), or 1. */
export function propertyLine(source: string, name: string): number {
  const m = new RegExp(`\\b${name}\\s*:`).exec(source);
  return m ? lineOf(source, m.index) : 1;
}
