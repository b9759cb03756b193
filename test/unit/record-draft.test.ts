// workshop record's draft writer (engine/record/objects.ts, draft.ts), on the diffs of snapshots
// recorded on this machine: the steps.ts it writes loads, verifies with the library's checks and
// their parameters, and each mutant's diagnosis matches its check's own failing row, and only it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineCheck, fail, pass, runChecks, type CheckContext } from '../../src/checks/check.ts';
import type { ChapterDef } from '../../src/lessons/define.ts';
import { failureText } from '../../src/engine/runner.ts';
import { diffSnapshots } from '../../src/engine/record/diff.ts';
import { DRAFT_MARKER, diagnosisOf, writeDraft, type RecordPlace } from '../../src/engine/record/draft.ts';
import { buildCheck, checkCode, draftItem, lit, nearCidr, nearLimit, shellCode } from '../../src/engine/record/objects.ts';
import { commandsOf } from '../../src/engine/record/record.ts';
import type { KernelSnapshot } from '../../src/engine/record/snapshot.ts';
import { draftMarker } from '../../src/engine/lint-rules.ts';
import type { LintChapter } from '../../src/engine/lint.ts';

const fixture = (name: string): { before: KernelSnapshot; after: KernelSnapshot } =>
  JSON.parse(readFileSync(new URL(`../fixtures/record/${name}.json`, import.meta.url), 'utf8')) as { before: KernelSnapshot; after: KernelSnapshot };
const script = (name: string): string[] => commandsOf(readFileSync(new URL(`../fixtures/record/${name}.sh`, import.meta.url), 'utf8'));

function draftOf(name: string, step: string, place: RecordPlace) {
  const { before, after } = fixture(name);
  const changes = diffSnapshots(before, after);
  const items = changes.map((c) => draftItem(c, after.dir, after.loops, changes));
  return { items, draft: writeDraft({ chapterId: name, title: `Draft: ${name}`, step, commands: script(name), place, items, recordedAt: '2026-12-07' }) };
}

const out = mkdtempSync(join(tmpdir(), 'ws-record-draft-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Loads a written steps.ts as the lesson host would (workshop/lesson is vitest's alias of src/lesson.ts). */
async function load(name: string, text: string): Promise<ChapterDef> {
  const file = join(out, `${name}.steps.ts`);
  writeFileSync(file, text);
  return ((await import(file)) as { default: ChapterDef }).default;
}

describe('the draft of each recorded step', () => {
  const cases = [
    { name: 'overlayfs', step: 'mount', place: 'folder' as const, checks: ["overlayWithLowerMounted('rootfs', { writable: true })", "directoryExists('rootfs')", "fileExists('rootfs/etc/motd')"], mutants: ['drop-overlay-on-rootfs', 'read-only-overlay-on-rootfs', 'drop-rootfs', 'drop-rootfs-etc-motd'] },
    { name: 'btrfs', step: 'snapshot', place: 'folder' as const, checks: ["loopMountOf('store', 'store.img')", "isSubvolume('store/base')", "isSubvolume('store/base-snapshot')", "subvolumeIsReadOnly('store/base-snapshot')", "fileExists('store.img')"], mutants: ['drop-mount-store', 'drop-subvolume-store-base', 'drop-subvolume-store-base-snapshot', 'writable-store-base-snapshot', 'drop-store-img'] },
    {
      name: 'veth', step: 'veth', place: 'host' as const,
      checks: ["netnsExists('ws-box')", "linkIn('ws-box', 'veth1', { kind: 'veth' })", "linkIn('ws-host', 'br0', { kind: 'bridge', up: true })", "linkIn('ws-host', 'veth0', { kind: 'veth', master: 'br0', up: true })", "addressOn('ws-host', 'br0', '10.0.0.1/16')"],
      mutants: ['drop-netns-ws-box', 'drop-link-veth1-ws-box', 'drop-link-br0-ws-host', 'down-br0-ws-host', 'drop-link-veth0-ws-host', 'down-veth0-ws-host', 'no-master-veth0-ws-host', 'drop-address-br0-ws-host', 'near-address-br0-ws-host'],
    },
    { name: 'cgroups', step: 'limit', place: 'folder' as const, checks: ["cgroupExists('/sys/fs/cgroup/pids/ws-rec-demo')", "cgroupLimit('/sys/fs/cgroup/pids/ws-rec-demo', 'pids.max', '20')"], mutants: ['drop-cgroup-pids-ws-rec-demo', 'near-pids-max-pids-ws-rec-demo'] },
    { name: 'processes', step: 'start', place: 'folder' as const, checks: ["processRunning('sleep', ['mnt', 'uts'])", "fileExists('holder.pid')", "directoryExists('rootfs')"], mutants: ['stop-sleep', 'drop-holder-pid', 'drop-rootfs'] },
  ];
  for (const c of cases) {
    it(`${c.name}: verify has one library check per object, with its parameters, and the steps.ts loads with them`, async () => {
      const { draft } = draftOf(c.name, c.step, c.place);
      expect(draft.checks.map(checkCode)).toEqual(c.checks);
      expect(draft.mutants.map((m) => m.name)).toEqual(c.mutants);
      expect(draft.stepsTs.split('\n')[0]).toContain(DRAFT_MARKER);
      expect(draft.chapterMd.split('\n')[0]).toContain(DRAFT_MARKER);
      const def = await load(c.name, draft.stepsTs);
      const step = def.steps[c.step];
      expect(def.id).toBe(c.name);
      expect(step?.verify({} as never).map((k) => k.name)).toEqual(draft.checks.map((s) => buildCheck(s).name));
      expect(step?.hints).toHaveLength(2);
      expect(step?.hints[1]).toBe(script(c.name).join('; '));
      expect(Object.keys(step?.mutants ?? {})).toEqual(c.mutants);
      for (const m of Object.values(step?.mutants ?? {})) expect(typeof m === 'object' && m.diagnosis instanceof RegExp).toBe(true);
      // the text: the commands as a block, then the closing section
      expect(draft.chapterMd).toContain(`\`\`\`bash\n${script(c.name).join('\n')}\n\`\`\``);
      expect(draft.chapterMd).toMatch(/\n## What you built\n/);
    });
  }

  it('solves a lab step inside the lab namespace, after bringing the lab up, and takes the lab down in its cleanup', () => {
    const { draft } = draftOf('veth', 'veth', 'host');
    expect(draft.stepsTs).toContain('await labUp(');
    expect(draft.stepsTs).toContain('nsenter --net=/run/netns/ws-host -- bash -c ${COMMANDS}');
    expect(draft.stepsTs).toMatch(/cleanup: async \(ctx\) => \{\n\s+await undo\(ctx\);\n\s+await labDown\(\);/);
  });

  it('undoes in order: links, then subvolumes, then mounts inside out, then loop devices, then files', () => {
    const { draft } = draftOf('btrfs', 'snapshot', 'folder');
    const undo = draft.stepsTs.slice(draft.stepsTs.indexOf('async function undo'), draft.stepsTs.indexOf('export default'));
    const order = ['btrfs subvolume delete ${\'store/base-snapshot\'}', 'btrfs subvolume delete ${\'store/base\'}', 'umount ${\'store\'}', 'losetup -d', 'rm -rf ${\'store.img\'}'].map((s) => undo.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe("a mutant's diagnosis", () => {
  const ctx = { chapter: 'x', dir: '/nonexistent-ws-record', home: '/', nonce: 'n', startedAt: 0, path: (...p: string[]) => join('/nonexistent-ws-record', ...p), run: () => Promise.reject(new Error('no')) } as CheckContext;

  it("matches its check's failing row, and not the row of another failing check or of the check passing", async () => {
    const spec = { fn: 'fileExists' as const, args: ['store.img'] as [string] };
    const other = { fn: 'directoryExists' as const, args: ['store.img.d'] as [string] };
    const rows = await runChecks([buildCheck(spec), buildCheck(other)], ctx);
    expect(diagnosisOf(spec).test(failureText(rows))).toBe(true);
    expect(diagnosisOf(spec).test(failureText(rows.slice(1)))).toBe(false);
    const passing = await runChecks([defineCheck(buildCheck(spec).name, () => pass('there')), defineCheck('something else', () => fail('a', 'b'))], ctx);
    expect(diagnosisOf(spec).test(failureText(passing))).toBe(false);
  });

  it('escapes the check name: a path with regex characters matches only itself', () => {
    const spec = { fn: 'isSubvolume' as const, args: ['store/base+1 (x)'] as [string] };
    const re = diagnosisOf(spec);
    expect(re.test(`✘ ${buildCheck(spec).name}`)).toBe(true);
    expect(re.test(`✘ store/basee1 x is a btrfs subvolume (inode 256)`)).toBe(false);
  });
});

describe('the pieces', () => {
  it('lit writes TypeScript literals that keep quotes, backslashes and newlines', () => {
    const s = "it's a \\ path\nnext";
    expect(lit(s)).toBe("'it\\'s a \\\\ path\\nnext'");
    expect(new Function(`return ${lit(s)}`)()).toBe(s);
    expect(lit({ kind: 'veth', master: undefined, up: true })).toBe("{ kind: 'veth', up: true }");
  });

  it('shellCode passes every argument through zx, never into the shell text', () => {
    expect(shellCode('ip -n % link del %', ['ws-host', 'br0; rm -rf /'], { nothrow: true })).toBe("await ctx.$`ip -n ${'ws-host'} link del ${'br0; rm -rf /'}`.nothrow();");
  });

  it('nearLimit moves a count by one and a size by a page, and leaves other values alone', () => {
    expect(nearLimit('20')).toBe('21');
    expect(nearLimit('33554432')).toBe('33558528');
    expect(nearLimit('100000 100000')).toBeNull();
  });

  it('nearCidr moves the address by one within its network', () => {
    expect(nearCidr('10.0.0.1/16')).toBe('10.0.0.2/16');
    expect(nearCidr('10.0.0.254/24')).toBe('10.0.0.253/24');
    expect(nearCidr('fe80::1/64')).toBe('fe80::1/64');
  });

  it('commandsOf keeps the commands as typed, without blank lines, comments and the final exit', () => {
    expect(commandsOf('# setup\nmkdir -p a\n\n  ls a  \nexit\n')).toEqual(['mkdir -p a', '  ls a']);
  });

  it('lint reports the draft marker of both files at its line, until the author deletes it', async () => {
    const { draft } = draftOf('overlayfs', 'mount', 'folder');
    const entry = { mdPath: 'chapter.md', stepsPath: 'steps.ts' } as LintChapter['entry'];
    const problems = await draftMarker({ entry, md: `\n${draft.chapterMd}`, source: draft.stepsTs, loaded: {} as LintChapter['loaded'] });
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual(['chapter.md:2', 'steps.ts:1']);
    expect(await draftMarker({ entry, md: '# Done\n', source: '// reviewed\n', loaded: {} as LintChapter['loaded'] })).toEqual([]);
  });
});
