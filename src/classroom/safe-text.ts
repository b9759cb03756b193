// Text that came from the network, made safe for where it goes. A class server, a learner's rows
// and a hostile server's answers are untrusted: before a terminal, a CSV file or a log line sees
// them, every control character becomes a visible escape, so no byte can set a window title,
// clear a screen, move the cursor or reorder a line (the bidi controls). Pure, no imports.

/** C0 (tab, CR and LF included), DEL, C1, the zero-width and bidi controls, the line/paragraph separators, the BOM. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One line of text with every control character shown as an escape: `\e]0;x\x07` for ESC ] 0 ; x BEL. */
export function visible(s: string): string {
  return s.replace(CONTROLS, escapeOne);
}

/** Like `visible`, but keeps line breaks (LF, and CR LF): for text that is several lines, such as a CSV document. */
export function visibleLines(s: string): string {
  return s
    .split(/\r?\n/)
    .map((line) => visible(line))
    .join('\n');
}

/** CONTROLS but the JSON whitespace: in valid JSON, a tab, CR or LF is outside every string. */
const JSON_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Valid JSON text for a terminal: the controls JSON.stringify leaves raw (DEL, C1, the Unicode
 * ones) become \uXXXX escapes, which mean the same characters. Only strings can hold them, so the
 * result is valid JSON with the same value.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Starts a formula in a spreadsheet (Excel, LibreOffice, Google Sheets), in ASCII or fullwidth. */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/**
 * One CSV field (RFC 4180). Controls become visible escapes, and a field that a spreadsheet would
 * run as a formula gets a leading apostrophe: names and check output come from the network.
 */
export function csvField(v: string | number | boolean | null): string {
  let s = v === null ? '' : String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  s = visible(s);
  return /[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cuts to at most `chars` characters, marking the cut. */
export const shorten = (s: string, chars: number): string => (s.length <= chars ? s : `${s.slice(0, chars - 1)}…`);
