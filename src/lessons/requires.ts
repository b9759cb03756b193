// Requirements: what a chapter needs from the machine. `doctor`, `list` and `test` show an
// unmet one as the reason a chapter is skipped, never as a silent pass.
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { run } from '../sys/exec.ts';
import type { Probe, Requirement } from './define.ts';

const ok: Probe = { ok: true };
const no = (reason: string): Probe => ({ ok: false, reason });

/** Finds an executable in PATH (plus the sbin folders, which a non-login root shell may lack). */
export async function which(cmd: string): Promise<string | undefined> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const knownFs = (text: string, fs: string): boolean => text.split('\n').some((l) => l.split('\t').pop() === fs);

/**
 * Loads a module the way the kernel would on first use (`mount -t overlay` asks for fs-overlay).
 * A freshly booted Debian 13 has not loaded overlay, btrfs or dm-thin-pool yet (seen in the qemu
 * guest), so "not loaded" must not read as "not there". Needs root; where modules cannot be
 * loaded at all (this build machine has no /lib/modules) it is a quiet no-op.
 */
async function loadModule(name: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await run('modprobe', ['-q', name], { timeoutMs: 10_000 });
}

/** A file system type the kernel knows: in /proc/filesystems, after loading its module if needed. */
export function kernelFs(fs: string): Requirement {
  return {
    describe: `kernel file system ${fs}`,
    async probe() {
      if (knownFs(await readFile('/proc/filesystems', 'utf8'), fs)) return ok;
      await loadModule(fs);
      return knownFs(await readFile('/proc/filesystems', 'utf8'), fs) ? ok : no(`the kernel has no ${fs} file system (not in /proc/filesystems, and modprobe ${fs} did not add it)`);
    },
  };
}

/** A command on PATH; `pkg` names the Debian package that provides it. */
export function tool(cmd: string, pkg?: string): Requirement {
  return {
    describe: `command ${cmd}${pkg ? ` (${pkg})` : ''}`,
    async probe() {
      return (await which(cmd)) ? ok : no(`${cmd} is not installed${pkg ? `: apt-get install ${pkg}` : ''}`);
    },
  };
}

/** A file that must exist, e.g. /bin/busybox from busybox-static. */
export function file(path: string, pkg?: string): Requirement {
  return {
    describe: `file ${path}${pkg ? ` (${pkg})` : ''}`,
    async probe() {
      try {
        await access(path);
        return ok;
      } catch {
        return no(`${path} is missing${pkg ? `: apt-get install ${pkg}` : ''}`);
      }
    },
  };
}

/** A device-mapper target such as thin-pool, as listed by `dmsetup targets`. */
export function deviceMapperTarget(target: string): Requirement {
  const targets = () => run('dmsetup', ['targets'], { timeoutMs: 5000 });
  const listed = (stdout: string) => stdout.split('\n').some((l) => l.trim().split(/\s+/)[0] === target);
  return {
    describe: `device-mapper target ${target}`,
    async probe() {
      let r = await targets();
      if (r.code !== 0 || !listed(r.stdout)) {
        // dm-<target> is the module name the kernel asks for (dm-thin-pool); dm-mod brings the control device.
        await loadModule('dm-mod');
        await loadModule(`dm-${target}`);
        r = await targets();
      }
      // dmsetup prints five lines when the kernel has none; the first says why.
      if (r.code !== 0) return no(`no device-mapper: dmsetup targets failed (${r.stderr.trim().split('\n')[0] || `exit ${r.code ?? 'signal'}`})`);
      return listed(r.stdout) ? ok : no(`device-mapper has no ${target} target (dmsetup targets)`);
    },
  };
}

/** The chapter needs workshop to run as root. */
export function root(): Requirement {
  return {
    describe: 'running as root',
    async probe() {
      return process.getuid?.() === 0 ? ok : no('not running as root: use sudo');
    },
  };
}

export async function unmet(reqs: readonly Requirement[]): Promise<string[]> {
  const results = await Promise.all(reqs.map((r) => r.probe().catch((e: unknown) => no(`${r.describe}: ${String(e)}`))));
  return results.flatMap((p) => (p.ok ? [] : [p.reason]));
}
