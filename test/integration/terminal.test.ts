// Issue 21's terminal items in a real terminal (tmux) at 80 and 120 columns: every step's `show`,
// every hint and every `--help` fit the width, prose broken only at word boundaries; code flush
// left in its own colour, so that a heredoc copied from the screen runs; the diagrams fit 80
// columns; plain output has no markdown marks; the status line numbers chapters as `list` does.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/lessons/catalog.ts';
import { codeBlocks } from '../../src/lessons/markdown.ts';
import { stepMarkdown } from '../../src/render/step.ts';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { CLI, isRoot, LESSONS, NODE, spawnCollect } from '../helpers/workshop.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (l: string): string => l.replace(ANSI, '');
const chapters = readCatalog(LESSONS).chapters;

let home = '';
/** the home of the 120-column pane's hints (a hint is shown once per step and home) */
let home120 = '';
let bin = '';
let counter = 0;
beforeAll(() => {
  home = mkdtempSync('/tmp/ws-it-term-');
  bin = join(home, 'bin');
  mkdirSync(bin);
  // a short name, so that the typed command line itself fits the pane
  home120 = mkdtempSync('/tmp/ws-it-term120-');
  for (const [name, at] of [['ws', home], ['ws120', home120]] as const) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec ${NODE} ${CLI} --lessons ${LESSONS} --home ${at} --allow-host "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
});
afterAll(async () => {
  await ws(['clean']);
  await spawnCollect(NODE, [CLI, '--lessons', LESSONS, '--home', home120, '--allow-host', 'clean']);
  rmSync(home120, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const open = (tag: string, width: number): Tmux => {
  const t = Tmux.start(`term-${tag}-${width}`, { cwd: '/tmp', width, height: 50, history: 200_000 });
  t.type(`export PATH=${bin}:$PATH PS1='$ '`);
  return t;
};

/** Types `command` into a cleared pane and returns what it printed, lines joined as a copy joins them. */
async function run(t: Tmux, command: string): Promise<string[]> {
  const n = ++counter;
  t.clear();
  t.type(`${command}; echo __E$((${n}+0))__`);
  await t.waitFor(new RegExp(`^__E${n}__$`, 'm'), 60_000);
  const lines = t.capture(true, true, true).split('\n');
  // the typed line and the marker are the test's, not workshop's
  const start = lines.findIndex((l) => visible(l).includes(`echo __E$((${n}+0))__`));
  const end = lines.findIndex((l) => visible(l) === `__E${n}__`);
  return lines.slice(start + 1, end);
}

const ws = (args: readonly string[]) => spawnCollect(NODE, [CLI, '--lessons', LESSONS, '--home', home, '--allow-host', ...args]);

describe.skipIf(!isRoot || !hasTmux)('the terminal at 80 and 120 columns (issue 21 items 11-14)', () => {
  for (const width of [80, 120]) {
    it(`every step's show fits ${width} columns: prose broken at words, code flush left`, async () => {
      const t = open('show', width);
      try {
        for (const c of chapters) {
          for (const [index, s] of c.text.steps.entries()) {
            const out = (await run(t, `ws show ${c.id}/${s.id} 2>/dev/null`)).map((l) => visible(l).trimEnd());
            expect(out.some((l) => l.includes(s.title)), `${c.id}/${s.id} was shown`).toBe(true);
            // the step's code as chapter.md has it, with the chapter's nonce and folder filled in
            const env = JSON.parse((await ws(['--json', 'env', c.id])).stdout) as Record<string, string>;
            const md = stepMarkdown({ chapter: c, index, nonce: env['WORKSHOP_NONCE'], dir: env['WORKSHOP_DIR'] ?? '' });
            const code = codeBlocks(md).flatMap((b) => b.lines.map((l) => l.trimEnd())).filter((l) => l !== '');
            // prose is broken at words within the width; only a command may be longer (a copy joins it)
            expect(out.filter((l) => l.length > width && !code.includes(l)), `${c.id}/${s.id} at ${width} columns`).toEqual([]);
            // headings without their markdown marks (marked-terminal printed `## Step 4/6: …`)
            expect(out.filter((l) => /^#{1,6} /.test(l) && !code.includes(l)), `${c.id}/${s.id}: a heading's ## shown`).toEqual([]);
            // every code line is there whole and flush left: an indented `  EOF` never ends a heredoc
            expect(code.filter((l) => !out.includes(l)), `${c.id}/${s.id}: code not flush left`).toEqual([]);
          }
        }
      } finally {
        t.kill();
      }
    }, 600_000);

    it(`--help of workshop and of every command fits ${width} columns`, async () => {
      const t = open('help', width);
      try {
        for (const verb of ['', ...Object.keys(COMMANDS)]) {
          const out = await run(t, `ws ${verb} --help`);
          expect(out.length, `ws ${verb} --help`).toBeGreaterThan(3);
          expect(out.filter((l) => visible(l).length > width), `ws ${verb} --help at ${width}`).toEqual([]);
        }
      } finally {
        t.kill();
      }
    }, 300_000);
  }

  it('every hint of every chapter this machine runs fits 80 and 120 columns, broken at words', async () => {
    const list = JSON.parse((await ws(['--json', 'list'])).stdout) as { chapters: Array<{ id: string; skipped?: string | null }> };
    const runs = new Set(list.chapters.filter((c) => !c.skipped).map((c) => c.id));
    // (joined, a line the terminal wrapped is longer than the pane: a word broken at the edge fails here)
    const panes = [{ width: 80, t: open('hint', 80), ws: 'ws' }, { width: 120, t: open('hint', 120), ws: 'ws120' }];
    try {
      for (const c of chapters.filter((x) => runs.has(x.id))) {
        for (const s of c.text.steps) {
          for (const p of panes) {
            const out = await run(p.t, `${p.ws} goto ${c.id}/${s.id} >/dev/null 2>&1; for i in 1 2 3 4; do ${p.ws} hint; done 2>&1`);
            expect(out.some((l) => visible(l).startsWith('Hint 1/')), `${c.id}/${s.id} has hints`).toBe(true);
            expect(out.filter((l) => visible(l).length > p.width), `${c.id}/${s.id}'s hints at ${p.width} columns`).toEqual([]);
          }
        }
      }
    } finally {
      for (const p of panes) p.t.kill();
    }
  }, 1_200_000);

  it('a heredoc copied from the screen runs: the script gets its #!/bin/sh and EOF ends it (item 11)', async () => {
    const t = open('copy', 80);
    const dir = mkdtempSync('/tmp/ws-it-term-copy-');
    try {
      const out = (await run(t, 'ws show overlayfs/script 2>/dev/null')).map(visible);
      const from = out.findIndex((l) => l.startsWith("cat > container.sh <<'EOF'"));
      const to = out.indexOf('chmod +x container.sh');
      expect([from > 0, to > from]).toEqual([true, true]);
      writeFileSync(join(dir, 'copied.sh'), `${out.slice(from, to + 1).join('\n')}\n`);
      const r = await spawnCollect('bash', ['copied.sh'], { cwd: dir });
      expect(r.stderr).not.toMatch(/here-document|delimited by end-of-file/);
      expect(r.code).toBe(0);
      expect(readFileSync(join(dir, 'container.sh'), 'utf8').split('\n')[0]).toBe('#!/bin/sh');
    } finally {
      t.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the diagrams of chapters 03, 04 and 07 are whole at 80 columns, not wrapped (item 12)', async () => {
    const t = open('diagrams', 80);
    try {
      for (const [step, line] of [
        ['wafers/base', 'three levels: C/data (upper) -> lowerdir = B/data:A/data (nearest parent first)'],
        ['btrfs/image', '  store/base-snapshot2  read-only snapshot, later  --send -p--> base-inc (diff)'],
        ['networking/bridge', '+-----------------------+   | ws-uplink 198.51.100.2 <-+---+-> ws-inet        |'],
      ] as const) {
        t.clear();
        t.type(`ws show ${step} 2>/dev/null | head -40`);
        // without -J: each row of the screen as it is drawn; a wrapped diagram line would be cut
        const screen = (await t.waitFor(new RegExp(line.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))).split('\n');
        expect(screen, step).toContain(line);
      }
    } finally {
      t.kill();
    }
  });

  it('plain output (NO_COLOR) has no markdown marks, and its code is flush left (item 13)', async () => {
    const t = open('plain', 80);
    try {
      const chroot = await run(t, 'NO_COLOR=1 ws show chroot/mutable 2>/dev/null');
      expect(chroot.join('\n')).not.toMatch(/\*view\*|^> /m);
      expect(chroot.join('\n')).toContain('different view of the same files');
      const script = await run(t, 'NO_COLOR=1 ws show overlayfs/script 2>/dev/null');
      expect(script).toContain('#!/bin/sh');
      expect(script).toContain('EOF');
      expect(script.some((l) => /^\s+(EOF|#!\/bin\/sh)/.test(l))).toBe(false);
      expect(script.filter((l) => l.length > 80 && !/^(mount|ls|nonce|chroot|PS1|\.\/)/.test(l))).toEqual([]);
      // a pipe is plain too
      const piped = await run(t, 'ws show chroot/mutable 2>/dev/null | cat');
      expect(piped.join('\n')).not.toMatch(/\*view\*|^> |\u001b\[/m);
      // `| head` on the terminal: prose and chapter 00's table wrapped to the pane, without the table's | marks
      const headed = (await run(t, 'ws show preflight/vm | head -40')).map(visible);
      expect(headed.filter((l) => l.length > 80)).toEqual([]);
      expect(headed.filter((l) => /^\|/.test(l))).toEqual([]);
      expect(headed).toContain('workshop solve  runs the reference solution for the step, printing each command,');
    } finally {
      t.kill();
    }
  });

  it("the status line numbers a chapter as list does: chapter 03 is 'Chapter 03' (item 14)", async () => {
    const t = open('status', 80);
    try {
      const out = (await run(t, 'ws goto wafers >/dev/null 2>&1; ws')).map(visible);
      expect(out[0]).toMatch(/^Chapter 03: Wafer stacks/);
      const list = (await run(t, 'ws list | grep -F "(wafers)"')).map(visible);
      expect(list[0]).toMatch(/^03 Wafer stacks/);
    } finally {
      t.kill();
    }
  });
});
