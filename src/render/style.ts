// Minimal ANSI styling, on only when the caller says so (a TTY, no NO_COLOR, no --json).
const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof codes;

export function styler(color: boolean): (style: Style, text: string) => string {
  return (style, text) => (color ? `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m` : text);
}

export function progressBar(done: number, total: number, width = 20): string {
  const n = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}

/** Character-device majors of terminals (the kernel's devices.txt): BSD and Unix98 ptys, virtual and serial consoles, /dev/tty, USB and hypervisor consoles. */
const TERMINAL_MAJORS = new Set([3, 4, 5, 136, 137, 138, 139, 140, 141, 142, 143, 166, 188, 204, 229]);

/**
 * Whether `fd` is a terminal, without building Node's stream for it: `process.stdout.isTTY` costs
 * ~30M instructions on a terminal (tty.WriteStream loads net and streams), as much again as all of
 * `workshop status`. A character device with a terminal's major number is one; a device we do not
 * know is taken for none, which costs only colour.
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    const st = process.getBuiltinModule('node:fs').fstatSync(fd);
    return st.isCharacterDevice() && TERMINAL_MAJORS.has(Math.floor(st.rdev / 256) & 0xfff);
  } catch {
    return false;
  }
}

/**
 * The terminal's width, or undefined when stdout is not a terminal. Reading process.stdout.columns
 * builds Node's stdout stream (~31M instructions under callgrind, a third of what `workshop status`
 * costs over `node -e 0`), so a file, a pipe or the memory devices (/dev/null, major 1: where
 * hyperfine and cron send output) are told apart first by fstat, and only a character device that
 * may be a terminal asks Node.
 */
export function stdoutColumns(): number | undefined {
  try {
    if (!isTerminal(1)) return undefined;
  } catch {
    return undefined;
  }
  return process.stdout.columns;
}

/**
 * The width the learner reads at: the terminal's, also when stdout goes into a pager or `head`
 * on that terminal (stderr still is the terminal); undefined when neither is one (a file, CI).
 */
export function readingColumns(): number | undefined {
  const out = stdoutColumns();
  if (out !== undefined) return out;
  return isTerminal(2) ? process.stderr.columns : undefined;
}
