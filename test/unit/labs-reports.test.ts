// The instructor's page drops xterm.js's answers to terminal queries during a take-over (CI, stop
// 32: the backlog's device-attribute queries of the learner's tmux client were answered, and the
// answers reached the shell as "1;2c0;276;0c"). Keys, pastes and text must still go through.
import { describe, expect, it } from 'vitest';
import { isTerminalReport } from '../../src/classroom/page/labs-reports.js';

describe('isTerminalReport', () => {
  it("knows xterm.js's answers to the queries a tmux client sends", () => {
    // what xterm.js 5 answers to ESC[c and ESC[>c (the CI screen showed them with ESC[? / ESC[> eaten)
    for (const d of ['\x1b[?1;2c', '\x1b[>0;276;0c', '\x1b[0n', '\x1b[?2004;1$y', '\x1bP>|xterm.js(5.5.0)\x1b\\', '\x1b]11;rgb:1d1d/1f1f/2121\x1b\\', '\x1b]10;rgb:e0e0/e0e0/e0e0\x07'])
      expect(isTerminalReport(d), JSON.stringify(d)).toBe(true);
  });

  it('lets every key, paste and text through', () => {
    const keys = ['a', 'echo the-instructor-was-here', '\r', '\x03', '\x7f', '\t', '\x1b', '\x1b[A', '\x1bOB', '\x1b[15~', '\x1b[1;5C', '\x1b[1;2R', '\x1bP', '\x1b]', '\x1bc', '1;2c', '\x1b[200~ls\x1b[201~'];
    for (const d of keys) expect(isTerminalReport(d), JSON.stringify(d)).toBe(false);
  });
});
