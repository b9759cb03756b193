// The text is proven, not only the solutions (issue 12): `workshop test --as-written` types each
// step's own code blocks from chapter.md as a learner does, and `workshop next` must pass at once.
// Plus a scripted learner of chapter 02 for issue 12's item 4.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/check.ts';
import type { AsWrittenChapterReport } from '../../src/engine/aswritten.ts';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isRoot, openWorkshop, REPO, workshop, type Workshop } from '../helpers/workshop.ts';

/**
 * The chapters whose text passes as written on this machine kind (Debian 12, cgroup v1, no
 * device-mapper). Authors: once `sudo workshop test --as-written --chapter ID` passes for your
 * chapter, add its id here, so that CI keeps it passing. A chapter this machine cannot run is
 * skipped with its reason, and the test accepts that.
 */
const PROVEN_AS_WRITTEN = ['preflight', 'chroot', 'overlayfs', 'wafers', 'btrfs', 'namespaces', 'networking', 'cgroups', 'capstone'];

interface AsWrittenJson {
  chapters: AsWrittenChapterReport[];
}

const failures = (c: AsWrittenChapterReport): string[] =>
  c.steps.flatMap((s) =>
    s.status === 'pass'
      ? []
      : [
          `${c.id}/${s.id} ${s.status}: ${Object.entries(s.phases)
            .filter(([, p]) => p.status !== 'pass')
            .map(([n, p]) => `${n}: ${p.detail ?? ''}`)
            .join('; ')}`,
          ...(s.failedChecks ?? []).map((r) => `  ✘ ${r.check}`),
          ...Object.entries(s.transcript ?? {}).flatMap(([t, lines]) => [`  ${t}:`, ...lines.slice(-15).map((l) => `    | ${l}`)]),
        ],
  );

describe.skipIf(!isRoot)('workshop test --as-written', () => {
  for (const id of PROVEN_AS_WRITTEN) {
    it(`types chapter ${id} as written, and every step passes on the first try with no residue`, async () => {
      const ws = await openWorkshop(join(tmpdir(), 'ws-it-aw-'), { allowHost: true });
      try {
        const r = await ws.cli(['--json', 'test', '--as-written', '--chapter', id], { timeoutMs: 170_000 });
        const report = JSON.parse(r.stdout) as AsWrittenJson;
        const c = report.chapters[0];
        expect(c?.id).toBe(id);
        if (!c || c.status === 'skipped') return; // this machine cannot run it; the reason is in the report
        expect(failures(c).join('\n')).toBe('');
        expect(c.steps.every((s) => s.status === 'pass')).toBe(true);
        expect(c.residue).toEqual([]);
        expect({ status: c.status, code: r.code }).toEqual({ status: 'pass', code: 0 });
      } finally {
        await ws.dispose();
      }
    });
  }

  // Issue 21 item 4: after a restore into the middle, the overlay was in chapters/overlayfs/c-<hex>
  // and the text's /tmp/$nonce/... failed. The restore builds in /tmp and prints `nonce=…` to paste.
  it('types overlayfs from its middle, after goto overlayfs/whiteout --restore and the line it prints to paste', async () => {
    const ws = await openWorkshop(join(tmpdir(), 'ws-it-aw-'), { allowHost: true });
    try {
      const r = await ws.cli(['--json', 'test', '--as-written', '--chapter', 'overlayfs', '--from', 'whiteout'], { timeoutMs: 170_000 });
      const c = (JSON.parse(r.stdout) as AsWrittenJson).chapters[0];
      if (!c || c.status === 'skipped') return; // this machine cannot run it; the reason is in the report
      expect(failures(c).join('\n')).toBe('');
      expect(c.steps.map((s) => Object.keys(s.phases)[0])).toEqual(['restored', 'restored', 'restored', 'blocks', 'blocks', 'blocks', 'blocks']);
      expect(c.residue).toEqual([]);
      expect({ status: c.status, code: r.code }).toEqual({ status: 'pass', code: 0 });
    } finally {
      await ws.dispose();
    }
  });

  it('fails a step whose block fails, naming chapter.md:LINE, the command and its exit code', async () => {
    // What chapter 00 did before: a command that cannot run as written (`sudo -i` on a VM with no sudo).
    const pack = mkdtempSync(join(tmpdir(), 'ws-it-aw-pack-'));
    cpSync(join(REPO, 'test/fixtures/lessons/good'), pack, { recursive: true });
    const md = join(pack, '01-greeting/chapter.md');
    const text = readFileSync(md, 'utf8');
    writeFileSync(md, text.replace('```bash\n', '```bash\nno-such-command-ws --flag\n'));
    const home = mkdtempSync(join(tmpdir(), 'ws-it-aw-'));
    try {
      const r = await workshop(home, ['--lessons', pack, '--allow-host', '--json', 'test', '--as-written'], { timeoutMs: 120_000 });
      const c = (JSON.parse(r.stdout) as AsWrittenJson).chapters[0];
      const line = text.split('\n').indexOf('```bash') + 1;
      expect(c?.steps[0]?.phases['blocks']?.detail).toBe(`01-greeting/chapter.md:${line}: \`no-such-command-ws --flag\` exited 127`);
      expect(c?.steps[0]?.transcript?.['terminal 1']).toContain('[exit 127: no-such-command-ws --flag]');
      expect(c?.steps.map((s) => s.status)).toEqual(['fail', 'not-run']);
      expect(r.code).toBe(1);
    } finally {
      await workshop(home, ['--lessons', pack, '--allow-host', 'clean']);
      rmSync(home, { recursive: true, force: true });
      rmSync(pack, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!isRoot)('a scripted learner in chapter 02 (issue 12, item 4)', () => {
  let ws: Workshop;
  beforeAll(async () => {
    ws = await openWorkshop(join(tmpdir(), 'ws-it-aw-leak-'), { allowHost: true });
    expect((await ws.cli(['goto', 'overlayfs'])).code).toBe(0);
    expect((await ws.cli(['solve', 'overlayfs/script'])).code).toBe(0); // writes the seed's container.sh
  });
  afterAll(async () => ws.dispose());

  const check = async (): Promise<CheckResult[]> => {
    const r = await ws.cli(['--json', 'check', 'overlayfs/proc-leak']);
    return (JSON.parse(r.stdout) as { results: CheckResult[] }).results;
  };

  // The text keeps $nonce from step 1, and step 6 runs container.sh twice: the learner's overlay
  // is then the oldest of three on rootfs.
  const learner = (procAt: string) => `
    set +o pipefail # a learner's shell has no pipefail: tr gets SIGPIPE from head
    nonce=$(</dev/urandom tr -dc A-Za-z0-9 | head -c 10)
    mkdir -p /tmp/$nonce/upper /tmp/$nonce/workdir /tmp/$nonce/overlay
    mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/$nonce/upper,workdir=/tmp/$nonce/workdir none /tmp/$nonce/overlay
    ./container.sh rootfs < /dev/null
    ./container.sh rootfs < /dev/null
    mkdir -p ${procAt}
    mount -t proc none ${procAt}
    echo $nonce`;

  it("passes with proc in the learner's own overlay, though container.sh made two newer ones", async () => {
    const r = await ws.shell('overlayfs', learner('/tmp/$nonce/overlay/proc'));
    expect(r.code, r.stderr).toBe(0);
    const nonce = r.stdout.trim().split('\n').at(-1) ?? '';
    const results = await check();
    expect(results.map((x) => [x.check, x.status])).toEqual([
      ['proc is mounted inside the container', 'pass'],
      ["it shows the host's processes", 'pass'],
    ]);
    expect(results[0]?.status === 'pass' && results[0].actual).toBe(`proc at /tmp/${nonce}/overlay/proc`);
    expect((await ws.cli(['clean'])).code).toBe(0);
  });

  it('names every overlay on rootfs when proc was mounted on the image instead', async () => {
    expect((await ws.cli(['goto', 'overlayfs'])).code).toBe(0);
    expect((await ws.cli(['solve', 'overlayfs/script'])).code).toBe(0);
    const r = await ws.shell('overlayfs', learner('rootfs/proc'));
    expect(r.code, r.stderr).toBe(0);
    const nonce = r.stdout.trim().split('\n').at(-1) ?? '';
    const [first] = await check();
    expect(first?.status).toBe('fail');
    if (first?.status !== 'fail') return;
    expect(first.expected).toBe('proc mounted at proc/ inside one of your 3 overlay(s) on rootfs');
    // proc on rootfs shows through each overlay's lower layer, but is mounted in none of them
    const rows = first.actual.split('; ');
    expect(rows).toContain(`/tmp/${nonce}/overlay/proc: nothing is mounted there`);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^\/tmp\/[A-Za-z0-9_-]{10}\/overlay\/proc: nothing is mounted there$/);
    expect(first.hint).toBe('mkdir -p /tmp/$nonce/overlay/proc; mount -t proc none /tmp/$nonce/overlay/proc');
  });
});

describe.skipIf(!isRoot)('a scripted learner in chapter 01 (issue 12, item 8)', () => {
  it('names the missing folders when --install -s ran before they were made, and the hint makes them first', async () => {
    const ws = await openWorkshop(join(tmpdir(), 'ws-it-aw-links-'), { allowHost: true });
    try {
      expect((await ws.cli(['goto', 'chroot'])).code).toBe(0);
      // The seed's trap: only bin/ exists, so busybox installs /bin's links, prints errors, and exits 0.
      const r = await ws.shell('chroot', 'mkdir -p rootfs/bin && cp /bin/busybox rootfs/bin/busybox && chroot rootfs /bin/busybox --install -s 2>/dev/null');
      expect(r.code, r.stderr).toBe(0);
      const c = await ws.cli(['--json', 'check', 'chroot/symlinks']);
      const rows = (JSON.parse(c.stdout) as { results: CheckResult[] }).results;
      expect(rows.map((x) => [x.check, x.status])).toEqual([
        ['rootfs/bin/sh is a symlink to /bin/busybox', 'pass'],
        ['rootfs/bin/ls is a symlink to /bin/busybox', 'pass'],
        ['rootfs/sbin/ifconfig is a symlink to /bin/busybox', 'fail'],
        ['rootfs/usr/bin/env is a symlink to /bin/busybox', 'fail'],
        ['rootfs/usr/sbin/chroot is a symlink to /bin/busybox', 'fail'],
      ]);
      const env = rows[3];
      expect(env?.status === 'fail' && [env.actual, env.hint]).toEqual([
        'nothing there: the folder rootfs/usr/bin is missing (missing: rootfs/sbin, rootfs/usr/bin, rootfs/usr/sbin), so --install -s skipped every link that belongs in it',
        'busybox cannot make folders. Create them, then install again: mkdir -p rootfs/sbin rootfs/usr/bin rootfs/usr/sbin; chroot rootfs /bin/busybox --install -s',
      ]);
      // The hint, followed, fixes it.
      expect((await ws.shell('chroot', 'mkdir -p rootfs/sbin rootfs/usr/bin rootfs/usr/sbin; chroot rootfs /bin/busybox --install -s')).code).toBe(0);
      expect((await ws.cli(['check', 'chroot/symlinks'])).code).toBe(0);
    } finally {
      await ws.dispose();
    }
  });
});
