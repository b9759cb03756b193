// Issue 25: `workshop clean` did not find Container the Hard Way's /littlebox. A chapter names what
// its tutorial makes outside the workspace (madeOutside); clean lists what of it exists, for the
// learner to remove, and never removes it. A pack here declares a folder under /tmp, so that the
// test touches nothing in the machine's /.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, REPO, workshop } from '../helpers/workshop.ts';

let home = '';
let pack = '';
let outside = '';
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-it-outside-home-'));
  pack = mkdtempSync(join(tmpdir(), 'ws-it-outside-pack-'));
  outside = join(mkdtempSync(join(tmpdir(), 'ws-it-outside-')), 'littlebox');
  cpSync(join(REPO, 'test/fixtures/lessons/good/01-greeting'), join(pack, '01-greeting'), { recursive: true });
  const file = join(pack, '01-greeting/steps.ts');
  const declared = `madeOutside: [{ path: ${JSON.stringify(outside)}, madeBy: "a tutorial's docs/04 (mkdir -p ${outside})", remove: ${JSON.stringify(`rmdir ${outside}`)} }],\n  cleanup:`;
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\n  cleanup:/, `\n  ${declared}`));
});
afterAll(() => {
  for (const d of [home, pack, join(outside, '..')]) rmSync(d, { recursive: true, force: true });
});

const clean = (json: boolean) => workshop(home, ['--allow-host', '--lessons', pack, ...(json ? ['--json'] : []), 'clean']);

describe.skipIf(!isRoot)("clean and what a chapter's tutorial makes outside the workspace", () => {
  it('says nothing of a declared path that does not exist', async () => {
    const r = await clean(true);
    expect((JSON.parse(r.stdout) as { outside: unknown[] }).outside).toEqual([]);
    expect((await clean(false)).stdout).not.toContain('Outside the workspace');
  });

  it('names it for the learner, with the command that removes it, and leaves it where it is', async () => {
    mkdirSync(outside, { recursive: true });
    const r = await clean(false);
    expect(r.stdout).toContain('Outside the workspace, for you to remove (workshop never removes what lies outside it):');
    expect(r.stdout).toContain(`  ${outside}  made by a tutorial's docs/04 (mkdir -p ${outside}) (chapter greeting): rmdir ${outside}`);
    expect(r.code).toBe(0); // not residue of the workshop: it lies outside it
    expect(existsSync(outside)).toBe(true);
    const j = JSON.parse((await clean(true)).stdout) as { outside: unknown[]; clean: boolean };
    expect(j).toMatchObject({ clean: true, outside: [{ path: outside, chapter: 'greeting', remove: `rmdir ${outside}` }] });
    expect(existsSync(outside)).toBe(true);
  });
});
