// Bad lesson packs and bad input through the built binary: each is reported with file:line or a
// short usage error, never a crash, a silent skip or a pasted payload.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, progressOf, REPO, type TestJson, workshop } from '../helpers/workshop.ts';
import { makePack, oneStep, type PackChapter } from '../helpers/pack.ts';

const good = oneStep('fine', "[defineCheck('ok', () => pass('ok'))]");

/** A one-step chapter with its verify, solve and top-level code as given (verify is on line 7). */
const lesson = (id: string, o: { verify?: string; solve?: string; top?: string; setup?: string }): PackChapter => ({
  md: `# ${id}\n\n## The step {#step}\n\nDo it.\n`,
  ts: `import { defineChapter, defineCheck, pass, fail } from 'workshop/lesson';
import { execFileSync } from 'node:child_process';
${o.top ?? ''}
export default defineChapter({
  formatVersion: 1, id: '${id}', title: '${id}',
  steps: { step: {
    verify: (ctx) => ${o.verify ?? "[defineCheck('ok', () => fail('done', 'not yet'))]"},
    solve: ${o.solve ?? 'async () => {}'},
    hints: ['none'] } },
  cleanup: async () => {},${o.setup === undefined ? '' : `\n  setup: ${o.setup},`}
});
`,
});
const withMd = (id: string, md: string): PackChapter => ({ ...oneStep(id, "[defineCheck('ok', () => pass('ok'))]"), md });

describe('bad lesson packs and bad input', () => {
  const home = mkdtempSync('/tmp/ws-badpack-home-');
  const packs: Array<{ dispose(): void }> = [];
  const pack = (chapters: Record<string, PackChapter>) => {
    const p = makePack(chapters);
    packs.push(p);
    return p.dir;
  };
  afterAll(() => {
    for (const p of packs) p.dispose();
    rmSync(home, { recursive: true, force: true });
  });
  const lint = async (dir: string) => workshop(home, ['lint', dir]);

  it('an empty chapter.md is a problem at chapter.md:1, for lint and for status', async () => {
    const dir = pack({ '01-fine': good, '02-empty': withMd('empty', '') });
    const l = await lint(dir);
    expect(l.stdout).toContain('02-empty/chapter.md:1: chapter.md must start with "# Title"');
    expect(l.stdout).toContain('02-empty/chapter.md:1: no steps');
    expect(l.code).toBe(4);
    const only = pack({ '01-empty': withMd('empty', '') });
    const s = await workshop(home, ['--lessons', only, 'status']);
    expect(s.stderr).toMatch(/01-empty\/chapter\.md:1: /);
    expect(s.code).toBe(4);
  });

  it('a binary chapter.md is named as binary, at its line', async () => {
    const l = await lint(pack({ '01-bin': withMd('bin', '# Bin\n\n\u0000\u0001\u0002ELF') }));
    expect(l.stdout).toMatch(/01-bin\/chapter\.md:3: chapter\.md is not text \(binary data, \d+ bytes\)/);
    expect(l.code).toBe(4);
  });

  it('a symlink loop is a symlink loop, not "missing chapter.md"', async () => {
    const dir = pack({ '01-fine': good });
    mkdirSync(path.join(dir, '02-loop'));
    writeFileSync(path.join(dir, '02-loop/steps.ts'), readFileSync(path.join(dir, '01-fine/steps.ts')));
    symlinkSync('chapter.md', path.join(dir, '02-loop/chapter.md'));
    const l = await lint(dir);
    expect(l.stdout).toContain('02-loop/chapter.md:1: chapter.md is a symlink loop');
    expect(l.stdout).not.toContain('missing chapter.md');
  });

  it('an uppercase chapter folder is reported, not ignored', async () => {
    const l = await lint(pack({ '01-fine': good, '02-Greeting': withMd('greeting', '# G\n\n## S {#step}\n') }));
    expect(l.stdout).toContain('"02-Greeting" is not a chapter folder name');
    expect(l.code).toBe(4);
  });

  it('a duplicate {#id} is a lint error and list shows the step once', async () => {
    const dup = withMd('dup', '# Dup\n\n## One {#step}\n\nA.\n\n## Again {#step}\n\nB.\n');
    const dir = pack({ '01-dup': dup });
    expect((await lint(dir)).stdout).toContain('01-dup/chapter.md:7: duplicate step id "step" (first at line 3)');
    const l = await workshop(home, ['--lessons', dir, 'list'], { env: { NO_COLOR: '1' } });
    expect(l.stdout.match(/▶/g)?.length).toBe(1);
  });

  it.skipIf(!isRoot)('an emoji step id is refused by lint, status, goto and check alike', async () => {
    const emo = withMd('emo', '# Emo\n\n## Fine {#step}\n\nA.\n\n## Smile {#🙂}\n\nB.\n');
    const dir = pack({ '01-emo': emo });
    expect((await lint(dir)).stdout).toContain('step id "🙂" must be lowercase letters, digits and dashes');
    const s = await workshop(home, ['--lessons', dir, 'status', '--json']);
    expect(s.stdout).not.toContain('🙂');
    for (const verb of ['goto', 'check']) {
      const r = await workshop(home, ['--lessons', dir, verb, 'emo/🙂']);
      expect(r.stderr, verb).toContain('unknown step "emo/🙂"');
      expect(r.code, verb).toBe(2);
    }
  });

  it('show refuses an address with more than two parts', async () => {
    const r = await workshop(home, ['show', 'preflight/vm/extra']);
    expect(r.code).toBe(2);
  });

  it('a 100 KB argument is not echoed back whole', async () => {
    const r = await workshop(home, ['show', 'x'.repeat(100_000)]);
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeLessThan(2000);
  });

  it('--help --json and --version --json print JSON', async () => {
    for (const args of [['--help', '--json'], ['--version', '--json'], ['status', '--help', '--json']]) {
      const r = await workshop(home, args);
      expect(() => JSON.parse(r.stdout), args.join(' ')).not.toThrow();
    }
  });

  it.skipIf(!isRoot)('a nonce edited into state.json is never pasted into a command', async () => {
    const h = mkdtempSync('/tmp/ws-nonce-home-');
    try {
      const lessons = path.join(REPO, 'test/fixtures/lessons/good');
      expect((await workshop(h, ['--lessons', lessons, 'goto', 'greeting/greet'])).code).toBe(0);
      const file = progressOf(h, lessons).statePath;
      const state = readFileSync(file, 'utf8');
      const nonce = /"nonce":\s*"([^"]+)"/.exec(state)?.[1] ?? '';
      expect(nonce).not.toBe('');
      writeFileSync(file, state.replaceAll(nonce, '$(touch /tmp/ws-pwned)'));
      const r = await workshop(h, ['--lessons', lessons, 'show'], { env: { NO_COLOR: '1' } });
      expect(r.stdout + r.stderr).not.toContain('$(touch /tmp/ws-pwned)');
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });
});

// Issue 19, items 11, 12 and 8: lesson code runs in the lesson host, a child process that
// workshop kills, so it can neither end nor freeze workshop, nor pass a step by exiting.
describe.skipIf(!isRoot)('lesson code that exits, hangs or prints', () => {
  const home = mkdtempSync('/tmp/ws-hostile-home-');
  const packs: Array<{ dispose(): void }> = [];
  const pack = (id: string, o: Parameters<typeof lesson>[1]): string => {
    const p = makePack({ [`01-${id}`]: lesson(id, o) });
    packs.push(p);
    return p.dir;
  };
  afterAll(() => {
    for (const p of packs) p.dispose();
    rmSync(home, { recursive: true, force: true });
  });
  const run = (dir: string, args: readonly string[], timeoutMs = 60_000) =>
    workshop(home, ['--lessons', dir, '--allow-host', ...args], { env: { NO_COLOR: '1' }, timeoutMs });
  const noCrash = (r: { code: number | null; stderr: string }) => {
    expect(r.stderr).not.toContain('bug in workshop');
    expect(r.stderr).not.toContain('unsettled top-level await');
    expect(r.code === null ? 'killed' : r.code).not.toBe(70);
  };

  it('a check that calls process.exit(0) is an error row naming its line: check and next exit 1', async () => {
    const dir = pack('exits', { verify: "[defineCheck('it leaves', () => process.exit(0)), defineCheck('a quick one', () => pass('fine'))]" });
    const c = await run(dir, ['check']);
    noCrash(c);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(/it leaves[\s\S]*it calls process\.exit\(0\) at \/tmp\/ws-pack-\w+\/01-exits\/steps\.ts:7/);
    expect(c.stdout).toContain('a quick one');
    const n = await run(dir, ['next']);
    expect(n.code, n.stdout + n.stderr).toBe(1);
    expect(n.stdout).toContain('exits/step is not done yet');
  });

  it('a solution that calls process.exit(0) fails solve, and test does not pass its chapter', async () => {
    const dir = pack('quits', { solve: 'async () => { process.exit(0); }' });
    const s = await run(dir, ['solve']);
    noCrash(s);
    expect(s.code, s.stdout + s.stderr).toBe(1);
    expect(s.stdout).toMatch(/the solution of quits\/step failed: it calls process\.exit\(0\) at \/tmp\/ws-pack-\w+\/01-quits\/steps\.ts:8/);
    const t = await run(dir, ['test', '--json'], 120_000);
    noCrash(t);
    expect(t.code, t.stderr).toBe(1);
    const report = JSON.parse(t.stdout) as TestJson;
    expect(report.chapters[0]?.status).toBe('fail');
    expect(report.chapters[0]?.steps[0]?.phases['solve']?.detail).toMatch(/process\.exit\(0\)/);
  });

  it('a setup that exits or never settles is a lesson error (exit 4) naming its file; one whose command fails is the machine (exit 3)', async () => {
    for (const [id, setup, want] of [
      ['setexit', 'async () => { process.exit(0); }', /it calls process\.exit\(0\) at \/tmp\/ws-pack-\w+\/01-setexit\/steps\.ts:11/],
      ['sethang', 'async () => { await new Promise(() => {}); }', /never finished: it waits for a promise that nothing settles .*\(\/tmp\/ws-pack-\w+\/01-sethang\/steps\.ts\)/],
    ] as const) {
      const dir = pack(id, { setup });
      const c = await run(dir, ['check']);
      noCrash(c);
      expect(c.code, c.stderr).toBe(4);
      expect(c.stderr).toMatch(want);
      expect(c.stderr).toContain(`hint: fix the setup in ${dir}/01-${id}/steps.ts`);
    }
    const failing = await run(pack('setfalse', { setup: 'async ({ $ }) => { await $`false`; }' }), ['check']);
    expect(failing.code, failing.stderr).toBe(3);
    // the hint carries the one-off --lessons, so that it acts on this pack as typed
    expect(failing.stderr).toMatch(/hint: run `workshop --lessons \/tmp\/\S+ doctor`/);
  });

  it('process.reallyExit(0) in a solution cannot end workshop either', async () => {
    const s = await run(pack('really', { solve: 'async () => { process.reallyExit(0); }' }), ['solve']);
    noCrash(s);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain('it calls process.reallyExit(0)');
  });

  it("process.abort() in a check is an error row naming its line, and prints none of Node's stacks", async () => {
    const c = await run(pack('aborts', { verify: "[defineCheck('it aborts', () => process.abort())]" }), ['check']);
    noCrash(c);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(/it aborts[\s\S]*it calls process\.abort\(\) at \/tmp\/ws-pack-\w+\/01-aborts\/steps\.ts:7/);
    expect(c.stdout + c.stderr).not.toMatch(/stack trace -----|^\s+at /m);
  });

  it('a solution that never settles fails at once, not with exit 13', async () => {
    const t0 = Date.now();
    const s = await run(pack('stuck', { solve: 'async () => { await new Promise(() => {}); }' }), ['solve']);
    noCrash(s);
    expect(s.code, s.stdout + s.stderr).toBe(1);
    expect(s.stdout).toMatch(/the solution of stuck\/step failed: never finished: it waits for a promise that nothing settles .*\(\/tmp\/ws-pack-\w+\/01-stuck\/steps\.ts\)/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  // (a worker thread could not be stopped inside execFileSync: terminate() waits for the call to return)
  it.each([
    ['spins', 'in an endless loop', '() => { for (;;) {} }'],
    ['blocks', 'blocked in a system call (execFileSync)', "() => { execFileSync('sleep', ['8']); return pass('late'); }"],
  ])('a check that %s (%s) is stopped from outside at its limit: check exits 1, and its host is gone', async (id, _what, probe) => {
    const top = "import { writeFileSync } from 'node:fs';\nwriteFileSync(new URL('./host.pid', import.meta.url), String(process.pid));";
    const dir = pack(id, { top, verify: `[defineCheck('it ${id}', ${probe}, { timeoutMs: 300 }), defineCheck('a quick one', () => pass('fine'))]` });
    const t0 = Date.now();
    const c = await run(dir, ['check'], 30_000);
    noCrash(c);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(new RegExp(`it ${id}[\\s\\S]*did not finish within [\\d.]+ s: the lesson code stopped answering`));
    // well before the 8 s of the sleep, or for ever
    expect(Date.now() - t0).toBeLessThan(7000);
    const pid = Number(readFileSync(path.join(dir, `01-${id}`, 'host.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(await gone(pid)).toBe(true);
  });

  it('a verify that throws an error whose message getter throws is an error row, not a bug in workshop', async () => {
    const top = "const odd = new Error('x'); Object.defineProperty(odd, 'message', { get() { throw new Error('no message for you'); } });";
    const c = await run(pack('odd', { top, verify: '(() => { throw odd; })()' }), ['check']);
    noCrash(c);
    expect(c.code, c.stdout + c.stderr).toBe(1);
    expect(c.stdout).toMatch(/verify of odd\/step[\s\S]*cannot be shown/);
    const o = await run(pack('odder', { verify: "[defineCheck('odd probe', () => { throw { get message() { throw new Error('boom'); }, toString() { throw new Error('boom'); } }; })]" }), ['check']);
    noCrash(o);
    expect(o.code, o.stdout + o.stderr).toBe(1);
    expect(o.stdout).toContain('odd probe');
  });

  it('what a steps.ts and its checks print goes to stderr, so --json stays one document', async () => {
    const top = "console.log('hello from steps.ts'); process.stdout.write('more\\n');";
    const dir = pack('chatty', { top, verify: "[defineCheck('it talks', () => { console.log('checking'); return pass('fine'); })]" });
    const l = await run(dir, ['list', '--json']);
    expect(() => JSON.parse(l.stdout), l.stdout).not.toThrow();
    expect(l.stderr).toContain('hello from steps.ts');
    const c = await run(dir, ['check', '--json']);
    expect(c.code).toBe(0);
    expect(() => JSON.parse(c.stdout), c.stdout).not.toThrow();
    expect(c.stderr).toContain('checking');
  });
});

/** The process has ended (a zombie is given a moment to be reaped). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const stat = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (stat === '' || / Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
