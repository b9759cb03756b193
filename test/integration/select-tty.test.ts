// `workshop select` in a real terminal (tmux): Ctrl-C and Escape close the menu quietly with exit
// 130, and the steps of a chapter this machine cannot do are shown, marked, and cannot be chosen.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, NODE, REPO } from '../helpers/workshop.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

const NEVER_MD = `# Never here

## Impossible {#impossible}

Needs a tool that no machine has.
`;
const NEVER_TS = `import { defineChapter, fileContains, tool } from 'workshop/lesson';
export default defineChapter({
  formatVersion: 1,
  id: 'never',
  title: 'Never here',
  requires: [tool('ws-no-such-tool')],
  steps: { impossible: { verify: () => [fileContains('x', 'y')], solve: async () => {}, hints: ['none'] } },
  cleanup: async () => {},
});
`;

describe.skipIf(!isRoot || !hasTmux)('workshop select on a terminal', () => {
  let pack = '';
  let home = '';
  beforeAll(() => {
    pack = mkdtempSync('/tmp/ws-select-pack-');
    home = mkdtempSync('/tmp/ws-select-home-');
    cpSync(path.join(REPO, 'test/fixtures/lessons/good/01-greeting'), path.join(pack, '01-greeting'), { recursive: true });
    mkdirSync(path.join(pack, '02-never'));
    writeFileSync(path.join(pack, '02-never/chapter.md'), NEVER_MD);
    writeFileSync(path.join(pack, '02-never/steps.ts'), NEVER_TS);
  });
  afterAll(() => {
    rmSync(pack, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  const open = (tag: string): Tmux => {
    const t = Tmux.start(tag, { cwd: '/tmp', width: 100, height: 30 });
    t.type(`${NODE} ${CLI} --lessons ${pack} --home ${home} select; echo "rc=$?"`);
    return t;
  };

  it('exits 130 on Ctrl-C, says where you are as Escape does, with no error and no "bug in workshop"', async () => {
    const t = open('select-c');
    try {
      await t.waitFor(/Where do you want to work\?/);
      t.keys('C-c');
      const screen = await t.waitFor(/rc=\d+/);
      expect(screen).toMatch(/rc=130/);
      // issue 21 item 17: Ctrl-C said nothing, Escape said this
      expect(screen).toContain('Cancelled: you are still at greeting/greet.');
      expect(screen).not.toMatch(/error:|bug in workshop|force closed/);
    } finally {
      t.kill();
    }
  });

  it('cancels on Escape with exit 130, says where you are, and moves nothing', async () => {
    const t = open('select-esc');
    try {
      await t.waitFor(/Where do you want to work\?/);
      t.keys('Down');
      t.keys('Escape');
      const screen = await t.waitFor(/rc=\d+/, 5000);
      expect(screen).toMatch(/rc=130/);
      expect(screen).toContain('Cancelled: you are still at greeting/greet.');
      expect(screen).not.toMatch(/error:|bug in workshop/);
    } finally {
      t.kill();
    }
  });

  it('does not wrap from the first step to the last one on Up (issue 21 item 17)', async () => {
    const t = open('select-up');
    try {
      await t.waitFor(/Where do you want to work\?[\s\S]*never/);
      // the menu opens on the current step, the first: Up stays there (it wrapped to greeting/freeze)
      t.keys('Up', 'Enter');
      const screen = await t.waitFor(/rc=\d+/);
      expect(screen).toMatch(/rc=0/);
      expect(screen).toContain('Step 1/2');
      expect(screen).not.toContain('Step 2/2');
    } finally {
      t.kill();
    }
  });

  it('shows a skipped chapter with its reason, and never lands on it', async () => {
    const t = open('select-skip');
    try {
      const menu = await t.waitFor(/Where do you want to work\?[\s\S]*never/);
      expect(menu).toMatch(/- never 1\. Impossible.*skipped: .*ws-no-such-tool/);
      // Down past the last step of greeting: the disabled step is jumped over, so Enter stays in greeting.
      t.keys('Down', 'Down', 'Down', 'Enter');
      const screen = await t.waitFor(/rc=\d+/);
      expect(screen).toMatch(/rc=0/);
      expect(screen).not.toContain('never/impossible');
    } finally {
      t.kill();
    }
  });
});
