import { readFile, stat } from 'node:fs/promises';

/** What the chapter's steps write into its folder. */
const FILES = ['vm.txt', 'uid.txt', 'tools.txt'];
import { defineChapter, diagnosed, defineCheck, pass, fail, fileExists, modifiedSince, runningInVm, runningAsRoot, ownedByRoot, verdictOf, which } from 'workshop/lesson';

/** What the later chapters run, and the Debian package of each. */
const TOOLS: Record<string, string> = {
  busybox: 'busybox-static',
  chroot: 'coreutils',
  mount: 'mount',
  findmnt: 'util-linux',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  getfattr: 'attr',
  btrfs: 'btrfs-progs',
  ip: 'iproute2',
  iptables: 'iptables',
  'systemd-nspawn': 'systemd-container',
};

const toolsListed = () =>
  defineCheck('tools.txt lists where each tool is', async (ctx) => {
    const text = await readFile(ctx.path('tools.txt'), 'utf8').catch(() => null);
    if (text === null) return fail('tools.txt with one path per tool', 'no tools.txt', 'Run the loop of this step in the chapter folder.');
    const listed = new Set(text.split('\n').map((l) => l.trim().split('/').pop() ?? ''));
    const missing = Object.keys(TOOLS).filter((t) => !listed.has(t));
    return missing.length === 0 ? pass(`${listed.size - 1} tools listed`) : fail('a path for each tool', `not listed: ${missing.join(', ')}`, `Install them: apt-get install ${[...new Set(missing.map((t) => TOOLS[t]))].join(' ')}`);
  });

const toolsInstalled = () =>
  defineCheck('every tool is installed', async () => {
    const missing = (await Promise.all(Object.keys(TOOLS).map(async (t) => ((await which(t)) ? [] : [t])))).flat();
    return missing.length === 0 ? pass(`${Object.keys(TOOLS).length} tools found`) : fail('all installed', `missing: ${missing.join(', ')}`, 'As root, from the workshop repository: bash vagrant/provision.sh installs them');
  });

/** What systemd-detect-virt names as a container (systemd-detect-virt(1)): printed without --vm, never with it. */
const CONTAINERS = new Set(['openvz', 'lxc', 'lxc-libvirt', 'systemd-nspawn', 'docker', 'podman', 'rkt', 'wsl', 'proot', 'pouch', 'container-other']);

/**
 * uid.txt made by root. Written again into by root, a file keeps its first owner (tee and > only
 * truncate it): the way out of a file made as a user removes it first.
 */
const uidFileOfRoot = () => {
  const plain = ownedByRoot('uid.txt');
  return defineCheck(plain.name, async (ctx) => {
    const v = await verdictOf(plain, ctx);
    if (v.ok || v.actual === 'nothing there') return v;
    return { ...v, actual: `${v.actual}: made as a user, and writing into it again keeps that owner`, hint: 'As root, remove it and make it again: rm uid.txt; id -u | tee uid.txt' };
  });
};

const vmRecorded = () =>
  defineCheck('vm.txt holds what systemd-detect-virt --vm says', async (ctx) => {
    const text = (await readFile(ctx.path('vm.txt'), 'utf8').catch(() => '')).trim();
    const now = (await ctx.run('systemd-detect-virt', ['--vm'])).stdout.trim() || 'none';
    if (!text) return fail(`vm.txt saying "${now}"`, 'no vm.txt, or it is empty');
    const first = text.split('\n')[0] ?? '';
    if (first === now) return pass(`"${now}"`);
    // the near-miss: --vm left out, and the machine also runs a container (here: /.dockerenv)
    const why = CONTAINERS.has(first) ? `: a container, which systemd-detect-virt names when --vm is left out; --vm names the VM under it` : '';
    return fail(`"${now}"`, `"${first}"${why}`, 'Run systemd-detect-virt --vm | tee vm.txt again.');
  });

export default defineChapter({
  formatVersion: 1,
  id: 'preflight',
  title: 'Preflight: is this machine ready?',
  steps: {
    vm: {
      verify: () => [runningInVm(), fileExists('vm.txt'), vmRecorded(), modifiedSince('vm.txt')],
      solve: async ({ $ }) => {
        await $`systemd-detect-virt --vm > vm.txt || true`;
      },
      hints: ['Ask systemd-detect-virt, with --vm, and keep its answer in vm.txt.', 'cd $(workshop path) && systemd-detect-virt --vm | tee vm.txt'],
      mutants: {
        wrongAnswer: diagnosed(async ({ $ }) => {
          await $`echo none > vm.txt`;
        }, /holds what systemd-detect-virt --vm says[\s\S]*actual\s+"none"/),
        // Seen in the walk: --vm left out on a VM that also looks like a Docker container.
        withoutVm: diagnosed(async ({ $ }) => {
          await $`echo docker > vm.txt`;
        }, /"docker": a container, which systemd-detect-virt names when --vm is left out/),
      },
    },
    root: {
      verify: () => [runningAsRoot(), fileExists('uid.txt'), uidFileOfRoot(), modifiedSince('uid.txt')],
      solve: async ({ $ }) => {
        await $`rm -f uid.txt`;
        await $`id -u > uid.txt`;
      },
      hints: ['Become root with sudo -i (skip it if your prompt already ends in #), then write your uid to uid.txt.', 'As root: cd $(workshop path); id -u | tee uid.txt'],
      mutants: {
        madeByAUser: diagnosed(async ({ $ }) => {
          await $`chown 65534 uid.txt`;
        }, /owner uid \d+: made as a user, and writing into it again keeps that owner[\s\S]*rm uid\.txt; id -u \| tee uid\.txt/),
      },
    },
    tools: {
      verify: () => [toolsInstalled(), toolsListed()],
      solve: async ({ $ }) => {
        await $`for t in ${Object.keys(TOOLS)}; do command -v $t; done > tools.txt`;
      },
      hints: ['command -v TOOL prints where a tool is.', `for t in ${Object.keys(TOOLS).join(' ')}; do command -v $t; done | tee tools.txt`],
      mutants: {
        oneMissing: diagnosed(async ({ $ }) => {
          await $`sed -i /getfattr/d tools.txt`;
        }, /not listed: getfattr/),
      },
    },
  },
  cleanup: async ({ $, path }) => {
    await $`rm -f ${FILES.map((f) => path(f))}`;
  },
  removes: async (ctx) => (await Promise.all(FILES.map(async (f) => ((await stat(ctx.path(f)).catch(() => null)) ? [f] : [])))).flat(),
});
