// Every `workshop …` prompt printed while a pack is in use works as typed (issue 27), in a real
// terminal (tmux): each prompt the commands print is typed back exactly as printed, and must act on
// the pack, never on the built-in lessons; the step is then played to the end with no flag. With a
// one-off --lessons, every prompt carries it.
//
//   sudo flock /tmp/workshop-system.lock npx vitest run test/integration/pack-prompts-tty.test.ts
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, NODE, REPO, workshop } from '../helpers/workshop.ts';
import { hasTmux, Tmux } from '../helpers/tmux.ts';

/** Prompts that open something interactive or long, or that need what this test does not give. */
const NOT_TYPED = /^workshop (?:select|shell|watch|classroom|drill|lab|test|pack add|reset --all)\b|</;
const PROMPT = /`(workshop(?: [^`\n]*)?)`/g;

describe.skipIf(!isRoot || !hasTmux)('the prompts printed with a pack in use, typed as printed', () => {
  let base = '';
  let home = '';
  let other = '';
  let t: Tmux | undefined;
  beforeAll(async () => {
    base = mkdtempSync('/tmp/ws-pack-tty-');
    home = path.join(base, 'home');
    other = path.join(base, 'other');
    cpSync(path.join(REPO, 'test/fixtures/lessons/good'), other, { recursive: true });
    const env = { WORKSHOP_ALLOW_HOST: '1' };
    expect((await workshop(home, ['pack', 'add', path.join(REPO, 'test/fixtures/lessons/good'), '--no-test'], { env })).code).toBe(0);
    expect((await workshop(home, ['pack', 'use', 'good'], { env })).code).toBe(0);
    mkdirSync(path.join(base, 'bin'));
    writeFileSync(path.join(base, 'bin/workshop'), `#!/bin/sh\nexec ${NODE} ${CLI} "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => {
    t?.kill();
    rmSync(base, { recursive: true, force: true });
  });

  /** Types a line and returns what it printed. */
  async function typed(line: string): Promise<string> {
    if (!t) throw new Error('no terminal');
    t.clear();
    t.type(`${line}; echo "<<rc=$?>>"`);
    const screen = await t.waitFor(/<<rc=\d+>>/, 60_000);
    return screen.slice(screen.indexOf('<<rc=$?>>"') + 10);
  }

  it('every prompt acts on the pack in use, and the chapter plays to its end with no flag', async () => {
    t = Tmux.start('pack-tty', { cwd: base, width: 250, height: 50, env: { PATH: `${base}/bin:${process.env['PATH'] ?? ''}`, WORKSHOP_HOME: home, NO_COLOR: '1', WORKSHOP_ALLOW_HOST: '1' } });
    // the learner's PATH finds this build's workshop (the machine may have another installed)
    await typed(`export PATH=${base}/bin:$PATH`);
    expect(await typed('command -v workshop')).toContain(`${base}/bin/workshop`);
    const seen = new Set<string>();
    const queue: string[] = [];
    const collect = (out: string) => {
      for (const m of out.matchAll(PROMPT)) {
        const p = m[1] ?? '';
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p);
        }
      }
    };
    const outputs = new Map<string, string>();
    const play = async (line: string) => {
      const out = await typed(line);
      outputs.set(line, out);
      // the built-in lessons begin with preflight: a prompt that reached them left the pack
      expect(out, line).not.toMatch(/preflight|bug in workshop|error: unknown|not found/);
      collect(out);
      return out;
    };
    const drain = async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) if (!NOT_TYPED.test(p)) await play(p);
    };
    await play('workshop');
    await drain();
    // the chapter's own text: cd $(workshop path), then its command with the nonce filled in
    expect(await play('cd $(workshop path) && pwd')).toContain(path.join(home, 'progress/good/chapters/greeting'));
    const show = await play('workshop show');
    const echo = /echo "hello \w+" > greeting.txt/.exec(show)?.[0] ?? '';
    expect(echo).not.toBe('');
    await play(echo);
    expect(await play('workshop next')).toMatch(/<<rc=0>>/);
    await drain();
    await play('chmod 0444 greeting.txt');
    expect(await play('workshop next')).toMatch(/<<rc=0>>/);
    await drain();
    const typedPrompts = [...seen].filter((p) => !NOT_TYPED.test(p));
    // at least status's, next's failure (next again, hint), path and the end's clean
    for (const p of ['workshop show', 'workshop next', 'workshop hint', 'workshop clean']) expect(typedPrompts).toContain(p);
    expect(outputs.get('workshop hint')).toContain('echo writes text');
    // clean ran the pack's own cleanup (the greeting is gone) and kept its progress
    expect(outputs.get('workshop clean')).toMatch(/the cleanup of chapter greeting[\s\S]*progress kept: 2 steps done/);
  });

  it('with a one-off --lessons, every prompt printed carries it and works as printed', async () => {
    if (!t) throw new Error('no terminal');
    await typed('cd /');
    const out = await typed(`workshop --lessons ${other} next`);
    const prompts = [...out.matchAll(PROMPT)].map((m) => m[1] ?? '');
    expect(prompts.length).toBeGreaterThan(1);
    for (const p of prompts) expect(p).toMatch(new RegExp(`^workshop --lessons ${other} `));
    const hint = prompts.find((p) => p.endsWith(' hint'));
    expect(hint).toBeDefined();
    expect(await typed(hint ?? '')).toContain('echo writes text');
  });

  it('select shows the packs side by side, and a step of another pack makes it the pack in use', async () => {
    if (!t) throw new Error('no terminal');
    t.clear();
    t.type('workshop goto greeting/freeze >/dev/null; workshop select; echo "<<rc=$?>>"');
    const menu = await t.waitFor(/Pack builtin/);
    expect(menu).toMatch(/Pack good \(in use\)[\s\S]*greeting 2\. Make it read-only[\s\S]*Pack builtin \(a step here makes it the pack in use\)/);
    // Down from the last step of the pack in use skips the heading to the built-in lessons' first step
    t.keys('Down');
    t.keys('Enter');
    const after = await t.waitFor(/<<rc=\d+>>/, 60_000);
    expect(after).toContain('Now using the built-in lessons.');
    expect(after).toMatch(/<<rc=0>>/);
    expect(await typed('workshop pack list')).toMatch(/▶ builtin/);
    expect(await typed('workshop path')).toContain(path.join(home, 'chapters/preflight'));
  });
});
