// What xterm.js sends by itself, not from a key: its answers to the terminal's queries. The
// tmux client of a lab asks its terminal for device attributes (ESC[c, ESC[>c) and the like when
// it attaches. The learner's own page answers; the instructor's page sees the same bytes (live or
// in the backlog), and its answers, sent during a take-over, reached the shell as typed text
// ("1;2c0;276;0c": command not found).

const REPORTS = [
  /^\x1b\[[?>=]?[\d;]*[cnt]$/, // device attributes (DA1, DA2, DA3), status, window reports (not R: Shift+F3 is ESC[1;2R)
  /^\x1b\[\??[\d;]*\$y$/, // DECRQM: a mode's state
  /^\x1bP[\s\S]*\x1b\\$/, // DCS answers (XTVERSION, DECRQSS)
  /^\x1b\][\s\S]*(?:\x07|\x1b\\)$/, // OSC answers (colours)
];

/** True when `data` from xterm.js's onData is an answer to a query, which no key produces. */
export const isTerminalReport = (data) => REPORTS.some((re) => re.test(data));
