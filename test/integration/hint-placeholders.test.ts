// A hint in steps.ts is text the learner reads and copies, like chapter.md: `workshop hint`
// fills in {{nonce}} and {{dir}} the same way (the outside author of issue 27 found it printed
// `{{nonce}}` as written).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, isRoot, workshop } from '../helpers/workshop.ts';

let home = '';
let pack = '';
const ws = (...args: string[]) => workshop(home, ['--allow-host', '--lessons', pack, ...args]);

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-it-hintvars-'));
  pack = join(home, 'pack');
  cpSync(join(REPO, 'test/fixtures/lessons/good'), pack, { recursive: true });
  // a check's own hint with the placeholders, as 05-lvm's fileInLv has them
  const steps = join(pack, '01-greeting/steps.ts');
  const code = readFileSync(steps, 'utf8');
  const changed = code.replace("`chmod 0444 ${p}`", "`chmod 0444 {{dir}}/${p} # {{nonce}}`");
  if (changed === code) throw new Error('the good pack no longer has the readOnly hint this test changes');
  writeFileSync(steps, changed);
});
afterAll(async () => {
  await ws('clean');
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('{{nonce}} and {{dir}} in hints', () => {
  it('fills them in in the hint that `workshop hint` prints, in text and in --json', async () => {
    expect((await ws('next')).code).toBe(1); // starts the chapter: its nonce and folder
    const env = Object.fromEntries([...(await ws('env')).stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]?.replace(/^'|'$/g, '')]));
    const nonce = env['WORKSHOP_NONCE'] ?? 'no WORKSHOP_NONCE';
    const dir = env['WORKSHOP_DIR'] ?? 'no WORKSHOP_DIR';
    expect(nonce).toMatch(/^[0-9a-f]{6,}$/);
    // a folder with shell characters (the loose pack's progress/@pack-TAG) is pasted single-quoted, as in chapter.md
    const shown = /^\/[\w.\/-]*$/.test(dir) ? dir : `'${dir}'`;
    expect(shown).toBe(`'${dir}'`);
    await ws('hint');
    const second = await ws('hint');
    expect(second.stdout).toContain(`echo "hello ${nonce}" > ${shown}/greeting.txt`);
    expect(second.stdout).not.toContain('{{');
    const json = JSON.parse((await ws('--json', 'hint')).stdout) as { hints: string[] };
    expect(json.hints.at(-1)).toBe(`echo "hello ${nonce}" > ${shown}/greeting.txt`);
  });

  it("fills them in in a failing check's hint row", async () => {
    expect((await ws('solve')).code).toBe(0); // greet passes: on to freeze
    const env = (await ws('--json', 'env')).stdout;
    const { WORKSHOP_NONCE: nonce, WORKSHOP_DIR: dir } = JSON.parse(env) as Record<string, string>;
    const n = await ws('next');
    expect(n.code).toBe(1);
    expect(n.stdout).toContain(`chmod 0444 '${dir}'/greeting.txt # ${nonce}`);
    expect(n.stdout).not.toContain('{{');
  });
});
