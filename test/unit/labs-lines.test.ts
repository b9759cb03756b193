import { describe, expect, it } from 'vitest';
import { LineTracker, timeline, type TypedLine } from '../../src/classroom/labs-lines.ts';

function tracked(now = { t: 0 }): { t: LineTracker; lines: TypedLine[] } {
  const lines: TypedLine[] = [];
  return { t: new LineTracker((l) => lines.push(l), () => now.t), lines };
}

describe('the command lines of a lab terminal', () => {
  it('takes a line typed key by key and echoed, with backspaces applied', () => {
    const { t, lines } = tracked();
    for (const ch of 'mount -t overlax\x7fy') {
      t.input(ch);
      if (ch !== '\x7f') t.output(ch === 'y' ? '\b \by' : ch);
    }
    t.input('\r');
    expect(lines).toEqual([{ text: 'mount -t overlay', edited: false }]);
  });

  it('waits for the echo of a pasted line, and drops a line never echoed (a password)', () => {
    const now = { t: 0 };
    const { t, lines } = tracked(now);
    t.input('echo pasted\r');
    expect(lines).toEqual([]);
    t.output('\x1b[1mecho\x1b[0m pasted\r\n');
    expect(lines).toEqual([{ text: 'echo pasted', edited: false }]);
    t.output('Password: ');
    t.input('hunter2\r');
    now.t = 10_000;
    t.output('\r\nhunter2 is not shown, but this output comes after the wait\r\n');
    expect(lines.map((l) => l.text)).toEqual(['echo pasted']);
  });

  it('marks a line edited with arrows or completion, and makes none of a line from the history', () => {
    const { t, lines } = tracked();
    t.output('# ');
    t.input('\x1b[A\r');
    t.output('ls\r\n');
    t.input('cat /etc/os\t');
    t.output('cat /etc/os-release');
    t.input('\r');
    expect(lines).toEqual([{ text: 'cat /etc/os', edited: true }]);
  });

  it('links a failed check to the commands since the check before it, the last first', () => {
    const tl = timeline([
      { t: 1, label: '$ cd /x' },
      { t: 2, label: 'preflight/vm attempted fail' },
      { t: 3, label: '$ echo kvm > vm.txt' },
      { t: 4, label: '$ workshop next' },
      { t: 5, label: 'preflight/vm attempted fail' },
      { t: 6, label: 'instructor took over' },
      { t: 7, label: 'preflight/vm passed' },
    ]);
    expect(tl.filter((e) => e.kind === 'check')).toEqual([
      { t: 2, kind: 'check', label: 'preflight/vm attempted fail', outcome: 'fail', commands: ['cd /x'] },
      { t: 5, kind: 'check', label: 'preflight/vm attempted fail', outcome: 'fail', commands: ['workshop next', 'echo kvm > vm.txt'] },
      { t: 7, kind: 'check', label: 'preflight/vm passed', outcome: 'pass' },
    ]);
  });
});
