// `workshop record` drafts a step from its commands alone (issue 27): three built-in steps,
// recorded with --script from their own chapter.md (the shell blocks of the step and of the steps
// it builds on, as the text writes them), must give drafts that pass `workshop test` with at least
// two diagnosed mutants each, with no hand edits; and the machine is left as it was found.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeBlocks, runsAsWritten } from '../../src/lessons/markdown.ts';
import { isRoot, LESSONS, sh, workshop } from '../helpers/workshop.ts';

/** The shell blocks typed in the given steps of a built-in chapter, in order; `workshop …` lines (lab up, shell) left out. */
export function stepCommands(chapterFolder: string, steps: readonly string[]): string[] {
  const md = readFileSync(join(LESSONS, chapterFolder, 'chapter.md'), 'utf8');
  const heads = [...md.matchAll(/^## .*?(?:\{#([a-z0-9-]+)\})?\s*$/gm)].map((m) => ({ id: m[1], line: md.slice(0, m.index).split('\n').length }));
  const blocks = codeBlocks(md).filter(runsAsWritten);
  return steps.flatMap((id) => {
    const at = heads.findIndex((h) => h.id === id);
    if (at < 0) throw new Error(`${chapterFolder} has no step ${id}`);
    const from = heads[at]?.line ?? 0;
    const to = heads[at + 1]?.line ?? Infinity;
    return blocks.filter((b) => b.line > from && b.line < to).flatMap((b) => b.lines).filter((l) => !/^\s*(workshop |cd \$\(workshop path\))/.test(l));
  });
}

interface RecordJson {
  checks: number;
  mutants: Array<{ name: string; rejected: boolean; diagnosed: boolean; recovered: boolean }>;
  lint: Array<{ message: string }>;
  test: { status: string; ms: number } | null;
  draft: { stepsTs: string; chapterMd: string };
}

const CASES = [
  // chapter 02's setup builds rootfs; a new chapter has none, so the script makes a small one first
  { name: 'overlayfs/mount', chapter: '02-overlayfs', steps: ['dirs', 'mount'], prelude: ['mkdir -p rootfs/etc rootfs/var/www', 'echo hello > rootfs/etc/motd'], place: [] },
  { name: 'btrfs/snapshot', chapter: '04-btrfs', steps: ['image', 'mount', 'subvolume', 'snapshot'], prelude: [], place: [] },
  // chapter 07 types its commands in `workshop shell host`: --in host records there
  { name: 'networking/veth', chapter: '07-networking', steps: ['bridge', 'netns', 'veth'], prelude: [], place: ['--in', 'host'] },
] as const;

/** What in scope could be left behind: mounts and loop devices of these folders, ws- network namespaces. */
async function leftovers(dirs: readonly string[]): Promise<string> {
  const r = await sh('/', `findmnt -rn -o TARGET,OPTIONS | grep -F -e ${dirs.map((d) => `'${d}'`).join(' -e ')}; losetup -l -n | grep -F -e ${dirs.map((d) => `'${d}'`).join(' -e ')}; ip netns list | grep -o '^ws-box' ; true`);
  return r.stdout.trim();
}

describe.skipIf(!isRoot)('workshop record, on three built-in steps', () => {
  const home = mkdtempSync('/tmp/ws-record-home-');
  const pack = mkdtempSync('/tmp/ws-record-pack-');
  const scripts = mkdtempSync('/tmp/ws-record-scripts-');
  const netnsBefore = sh('/', 'ip netns list');
  afterAll(async () => {
    // whatever a failed run left: the drafts' own cleanup ran already when it could
    await sh('/', `for m in $(findmnt -rn -o TARGET | grep -F -e '${home}' -e '${pack}' | sort -r); do umount -l "$m"; done; true`);
    if (!(await netnsBefore).stdout.includes('ws-box')) await sh('/', 'ip netns del ws-box 2>/dev/null; true');
    for (const d of [home, pack, scripts]) rmSync(d, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`drafts ${c.name} from its text; the draft passes workshop test with diagnosed mutants, and nothing is left`, async () => {
      const script = join(scripts, `${c.name.replace('/', '-')}.sh`);
      const commands = [...c.prelude, ...stepCommands(c.chapter, c.steps)];
      writeFileSync(script, `${commands.join('\n')}\n`);
      const [chapter, step] = c.name.split('/');
      const t0 = performance.now();
      const r = await workshop(home, ['--json', 'record', `${pack}/${chapter ?? ''}/${step ?? ''}`, '--script', script, ...c.place], { timeoutMs: 170_000 });
      const ms = Math.round(performance.now() - t0);
      expect(r.stdout, r.stderr).toContain('"mutants"');
      const out = JSON.parse(r.stdout) as RecordJson;
      const diagnosed = out.mutants.filter((m) => m.rejected && m.diagnosed && m.recovered);
      console.log(`${c.name}: ${out.checks} checks, ${out.mutants.length} mutants, ${diagnosed.length} diagnosed; workshop test ${out.test?.status ?? 'not run'} in ${out.test?.ms ?? 0} ms; record in all ${ms} ms`);
      expect(out.test?.status, r.stderr).toBe('pass');
      expect(r.code).toBe(0);
      expect(out.checks).toBeGreaterThanOrEqual(2);
      expect(diagnosed.length).toBeGreaterThanOrEqual(2);
      // lint holds but for the two draft markers, which say the draft is one
      expect(out.lint.map((p) => p.message).every((m) => m.startsWith('workshop record: draft'))).toBe(true);
      expect(out.lint).toHaveLength(2);
      // the solve types the same commands as the text
      const steps = readFileSync(out.draft.stepsTs, 'utf8');
      for (const cmd of commands) expect(steps).toContain(cmd.replace(/\\/g, '\\\\').replace(/'/g, "\\'"));
      expect(await leftovers([home, pack])).toBe('');
    });
  }

  it("never overwrites an author's chapter, replaces a draft only with --force, and refuses a recording that made nothing", async () => {
    const mine = mkdtempSync('/tmp/ws-record-mine-');
    try {
      mkdirSync(join(mine, '01-authored'));
      writeFileSync(join(mine, '01-authored', 'chapter.md'), '# Mine\n');
      writeFileSync(join(mine, '01-authored', 'steps.ts'), '// an author wrote this\n');
      mkdirSync(join(mine, '02-drafted'));
      writeFileSync(join(mine, '02-drafted', 'chapter.md'), '# Draft\n');
      writeFileSync(join(mine, '02-drafted', 'steps.ts'), '// workshop record: draft, recorded on 2026-12-07\n');
      const authored = await workshop(home, ['record', `${mine}/authored/mount`, '--script', '/dev/null', '--force']);
      expect(authored.stderr).toMatch(/^error: .*01-authored is an author's chapter: record never overwrites it/m);
      expect(authored.code).toBe(2);
      const drafted = await workshop(home, ['record', `${mine}/drafted/mount`, '--script', '/dev/null']);
      expect(drafted.stderr).toMatch(/^error: .*02-drafted holds a draft already\nhint: add --force/m);
      expect(drafted.code).toBe(2);
      const nothing = await workshop(home, ['record', `${mine}/drafted/mount`, '--script', '/dev/null', '--force']);
      expect(nothing.stderr).toMatch(/^error: the 0 recorded command\(s\) changed nothing that the probes see/m);
      expect(nothing.code).toBe(2);
      expect(readFileSync(join(mine, '01-authored', 'steps.ts'), 'utf8')).toBe('// an author wrote this\n');
    } finally {
      rmSync(mine, { recursive: true, force: true });
    }
  });
});
