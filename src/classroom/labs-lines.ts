// The command lines a lab's terminal ran, for the replay's timeline: "which command turned the
// check red". Keystrokes are never recorded as such (a password typed at a prompt that does not
// echo must stay unrecorded): a line counts only when Enter ends it and the terminal echoed what
// was typed. Pure, no I/O.

/** Output kept per line to look for the echo in; a longer line's echo is looked for in its tail. */
const ECHO_BYTES = 16 * 1024;
/** A command line longer than this is cut (the marker's label is bounded too). */
export const LINE_CHARS = 160;

/** Terminal text without escape sequences and carriage returns, its backspaces applied. */
export function plainText(s: string): string {
  let t = s
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-9;?>=]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[=>78DEHMNOZc]/g, '')
    .replace(/[\r\x07]/g, '');
  for (let i = 0; i < 64 && /[^\x08\n]\x08/.test(t); i++) t = t.replace(/[^\x08\n]\x08/g, '');
  return t.replace(/\x08/g, '');
}

export interface TypedLine {
  text: string;
  /** the line was edited with keys this tracker cannot follow (arrows, history, completion): `text` is what was typed, not what ran */
  edited: boolean;
}

/** How long a line ended by Enter waits for its echo (a paste arrives before the echo does). */
const ECHO_WAIT_MS = 3000;

interface Pending extends TypedLine {
  /** the plain text shown while the line was typed, and after Enter until now */
  seen: string;
  deadline: number;
}

/**
 * Follows what is typed into one terminal and what it shows, and calls `onLine` with each line
 * that Enter ended once the terminal has echoed it (within a few seconds).
 */
export class LineTracker {
  private line = '';
  private edited = false;
  private echo = '';
  private pending: Pending[] = [];
  /** inside an escape sequence of the input (an arrow key: ESC [ A) */
  private escape: 'none' | 'esc' | 'csi' = 'none';
  private readonly onLine: (l: TypedLine) => void;
  private readonly now: () => number;

  constructor(onLine: (l: TypedLine) => void, now: () => number = Date.now) {
    this.onLine = onLine;
    this.now = now;
  }

  output(data: string): void {
    this.echo = (this.echo + data).slice(-ECHO_BYTES);
    if (this.pending.length === 0) return;
    const shown = plainText(data);
    const now = this.now();
    this.pending = this.pending.filter((p) => {
      if (p.deadline <= now) return false;
      p.seen = (p.seen + shown).slice(-ECHO_BYTES);
      if (p.seen.includes(p.text.slice(-40))) {
        this.onLine({ text: p.text, edited: p.edited });
        return false;
      }
      return true;
    });
  }

  input(data: string): void {
    for (const ch of data) {
      if (this.escape === 'esc') {
        this.escape = ch === '[' || ch === 'O' ? 'csi' : 'none';
        continue;
      }
      if (this.escape === 'csi') {
        if (ch >= '@' && ch <= '~') this.escape = 'none';
        continue;
      }
      if (ch === '\x1b') {
        this.escape = 'esc';
        this.edited = true;
      } else if (ch === '\r' || ch === '\n') this.finish();
      else if (ch === '\x7f' || ch === '\b') this.line = this.line.slice(0, -1);
      else if (ch === '\x03' || ch === '\x15') this.reset();
      else if (ch === '\t' || ch === '\x12' || ch === '\x10' || ch === '\x0e') {
        // completion, reverse search, history: the shell's line is not what was typed
        this.edited = true;
      } else if (ch >= ' ') {
        if (this.line.length < 4 * LINE_CHARS) this.line += ch;
      }
    }
  }

  /** Enter: the line waits for its echo; nothing typed (a line from the history) makes none. */
  private finish(): void {
    const text = this.line.trim().slice(0, LINE_CHARS);
    if (text !== '') {
      const p: Pending = { text, edited: this.edited, seen: plainText(this.echo), deadline: this.now() + ECHO_WAIT_MS };
      if (p.seen.includes(text.slice(-40))) this.onLine({ text: p.text, edited: p.edited });
      else if (this.pending.length < 16) this.pending.push(p);
    }
    this.reset();
  }

  private reset(): void {
    this.line = '';
    this.edited = false;
    this.echo = '';
  }
}

/** A marker's label for a command line: `$ mount -t overlay ...`. */
export const commandLabel = (l: TypedLine, by: 'learner' | 'instructor'): string => `$ ${by === 'instructor' ? '(instructor) ' : ''}${l.edited ? '(edited) ' : ''}${l.text}`;

export interface TimelineEntry {
  /** seconds into the recording */
  t: number;
  kind: 'command' | 'check';
  label: string;
  /** for a check: the outcome the marker names */
  outcome?: 'pass' | 'fail' | 'error';
  /** for a check that failed: the command lines since the previous check, the last one first */
  commands?: string[];
}

const CHECK = /^([A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)?) (started|attempted|passed|hinted|solved|reset)(?: (pass|fail|error))?$/;

/**
 * The timeline of a recording's markers: each command line, and each check event with, when it
 * failed, the commands that led to it (what the instructor looks at first).
 */
export function timeline(markers: ReadonlyArray<{ t: number; label: string }>): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  let since: string[] = [];
  for (const m of markers) {
    if (m.label.startsWith('$ ')) {
      out.push({ t: m.t, kind: 'command', label: m.label });
      since.push(m.label.slice(2));
      continue;
    }
    const c = CHECK.exec(m.label);
    if (!c) continue;
    const outcome = c[3] === 'pass' || c[3] === 'fail' || c[3] === 'error' ? c[3] : c[2] === 'passed' ? 'pass' : undefined;
    const e: TimelineEntry = { t: m.t, kind: 'check', label: m.label, ...(outcome ? { outcome } : {}) };
    if (outcome === 'fail' || outcome === 'error') e.commands = [...since].reverse().slice(0, 8);
    out.push(e);
    since = [];
  }
  return out;
}
