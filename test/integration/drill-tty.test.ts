// `workshop drill overlayfs` in a real terminal (tmux), as a learner meets it (issue 28): the drill
// starts unnamed, `next` draws the failing table, two hints (the area, then the check), the
// learner's own fix, and `next` ends with the summary; the chapter's progress is as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, LESSONS, NODE, openWorkshop, type Workshop } from '../helpers/workshop.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

let ws: Workshop;
beforeAll(async () => {
  ws = await openWorkshop('/tmp/ws-it-drilltty-', { allowHost: true });
});
afterAll(async () => {
  await ws.dispose();
});

const progress = (): string => {
  const s = JSON.parse(readFileSync(join(ws.home, 'state.json'), 'utf8')) as { current: unknown; chapters: unknown };
  return JSON.stringify({ current: s.current, chapters: s.chapters });
};

describe.skipIf(!isRoot || !hasTmux)('a drill in the learner’s terminal', () => {
  it('overlayfs: the table, two hints, the fix, the summary', { timeout: 240_000 }, async () => {
    const term = Tmux.start('drill', { cwd: '/tmp', width: 100, height: 50, history: 20_000 });
    try {
      // `workshop` as the learner's VM has it
      term.type(`workshop() { ${NODE} ${CLI} --lessons ${LESSONS} --home ${ws.home} --allow-host "$@"; }; PS1='$ '; clear`);
      term.type('workshop goto overlayfs > /dev/null; echo rc=$?');
      await term.waitFor(/rc=0/);
      const before = progress();
      term.clear();
      // seed 1: overlayfs/script, container.sh without its execute bit
      term.type('workshop drill overlayfs --seed 1 --yes; echo "drill rc=$?"');
      const started = await term.waitFor(/drill rc=\d+/, 180_000);
      expect(started).toContain('drill rc=0');
      expect(started).toMatch(/Drill on overlayfs\/script/);
      expect(started, 'the near-miss is not named').not.toMatch(/notExecutable|chmod/);
      // broken at words, never by the terminal inside one
      expect(started).toMatch(/in a way a learner\s+breaks it\./);
      expect(started).toMatch(/Your own files\s+elsewhere in the workspace are kept\./);

      term.type('cd "$(workshop path overlayfs)" && workshop next; echo "next rc=$?"');
      const table = await term.waitFor(/next rc=\d+/, 60_000);
      expect(table).toContain('next rc=1');
      expect(table).toMatch(/✘ drill overlayfs\/script: something is still wrong/);
      expect(table).toMatch(/✘ container\.sh is an executable file\n\s+expected\s+an execute bit \(x\) in its mode\n\s+actual\s+mode 0644/);
      expect(table).toMatch(/0\/2 checks passed/);
      // the hint's command in its row, under the values
      expect(table).toMatch(/\n {6}hint {6}chmod \+x container\.sh\n/);

      term.type('workshop hint; workshop hint; echo "hint rc=$?"');
      const hints = await term.waitFor(/hint rc=\d+/);
      expect(hints).toMatch(/Drill hint 1\/3:\s+Area: what the step "Script it: a fresh layer per run" built/);
      expect(hints).toMatch(/Drill hint 2\/3:\s+Check: "container\.sh is an executable file" fails/);
      expect(hints).not.toContain('Drill hint 3/3');

      term.type('chmod +x container.sh && workshop next; echo "fixed rc=$?"');
      const summary = await term.waitFor(/fixed rc=\d+/, 60_000);
      expect(summary).toContain('fixed rc=0');
      expect(summary).toMatch(/✔ drill passed: overlayfs\/script: fixed in \d+s, 1 failed next, 2 hint\(s\)\./);
      expect(progress(), "the chapter's progress is as it was").toBe(before);
      console.log(`a drill as the learner sees it (tmux, 100 columns):\n${term.capture(true).trimEnd()}`);
    } finally {
      term.kill();
    }
  });
});
