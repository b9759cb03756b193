// Bad lesson packs and bad input through the built binary: each is reported with file:line or a
// short usage error, never a crash, a silent skip or a pasted payload.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, REPO, workshop } from '../helpers/workshop.ts';
import { makePack, oneStep, type PackChapter } from '../helpers/pack.ts';

const good = oneStep('fine', "[defineCheck('ok', () => pass('ok'))]");
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
      const file = path.join(h, 'state.json');
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
