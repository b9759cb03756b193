// ctr: a mini container runtime, the reference solution of the capstone.
//
//   ctr run NAME    start a container in the background; prints NAME, its PID and its address
//   ctr rm NAME     stop it and remove everything it made
//
// Run it with Node 24 (it strips these types): `node ctr.ts run web`. It uses only what the
// chapters taught: an overlay on `base`, unshare, pivot_root, a pids cgroup, and a veth on br0
// in the lab's ws-host.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = join(HERE, 'base');
const CONTAINERS = join(HERE, 'containers');
const HOST_NS = 'ws-host';
const BRIDGE = 'br0';
const GATEWAY = '10.0.0.1';
const PIDS_MAX = 32;

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const trySh = (cmd: string, ...args: string[]): boolean => {
  try {
    sh(cmd, ...args);
    return true;
  } catch {
    return false;
  }
};
/** Blocks this (synchronous) script for ms without starting a process for it. */
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** Running, and not a zombie (a killed process stays one until its parent reaps it). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILL; a process that ended between the check and the kill (ESRCH) is what was wanted. */
function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** cgroup v2 has cgroup.controllers at the top; v1 (and hybrid) has one tree per controller. */
function cgroupDir(name: string): string {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? `/sys/fs/cgroup/ws-ctr-${name}` : `/sys/fs/cgroup/pids/ws-ctr-${name}`;
}

/** The lowest free address of 10.0.1.0/24 (10.0.0.x is left to chapter 07's ws-box). */
function freeAddress(): string {
  const used = new Set(existsSync(CONTAINERS) ? readdirSync(CONTAINERS).map((n) => (existsSync(join(CONTAINERS, n, 'ip')) ? readFileSync(join(CONTAINERS, n, 'ip'), 'utf8').trim() : '')) : []);
  for (let i = 2; i < 255; i++) if (!used.has(`10.0.1.${i}`)) return `10.0.1.${i}`;
  throw new Error('no free address left in 10.0.1.0/24');
}

function run(name: string): void {
  const dir = join(CONTAINERS, name);
  if (existsSync(dir)) throw new Error(`container ${name} exists already: ctr rm ${name}`);
  if (!trySh('ip', '-n', HOST_NS, 'link', 'show', BRIDGE)) throw new Error(`no ${BRIDGE} in ${HOST_NS}: run workshop lab up, and make the bridge of chapter 07`);
  const merged = join(dir, 'merged');
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });

  // 1. The layer: the image stays read-only, the container writes into its own upper folder.
  sh('mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${BASE},upperdir=${dir}/upper,workdir=${dir}/work`, merged);
  mkdirSync(join(merged, 'proc'), { recursive: true });
  mkdirSync(join(merged, '.oldroot'), { recursive: true });

  // 2. The limit: a pids cgroup that the container joins before it forks anything.
  const cg = cgroupDir(name);
  if (cg.startsWith('/sys/fs/cgroup/ws-') && !readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').includes('pids')) writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+pids');
  mkdirSync(cg, { recursive: true });
  writeFileSync(join(cg, 'pids.max'), String(PIDS_MAX));

  // 3. The namespaces and pivot_root. The inner script runs as PID 1 of the new PID namespace.
  const init = [
    `hostname ${name}`,
    'mount --make-rprivate /',
    `cd ${merged}`,
    'pivot_root . .oldroot',
    'cd /',
    "exec /bin/busybox sh -c 'mount -t proc proc /proc && umount -l /.oldroot && rmdir /.oldroot && exec sleep 2147483647'",
  ].join(' && ');
  const log = openSync(join(dir, 'log'), 'a');
  const child = spawn('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec unshare --uts --ipc --net --mount --pid --fork sh -c "$0"`, init], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const outer = child.pid;
  if (outer === undefined) throw new Error('could not start unshare');
  // unshare's child is the container's PID 1; wait until it has its new root.
  let pid = 0;
  for (let i = 0; i < 500 && pid === 0; i++) {
    const kids = existsSync(`/proc/${outer}/task/${outer}/children`) ? readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
    const k = Number(kids[0] ?? 0);
    // Its last exec is `sleep`: by then it has pivoted, mounted /proc and dropped the old root.
    if (k > 0 && alive(k) && readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'sleep') pid = k;
    else if (!alive(outer)) break;
    else sleep(10);
  }
  if (pid === 0) throw new Error(`the container did not start; see ${dir}/log`);
  writeFileSync(join(dir, 'pid'), String(pid));

  // 4. The network: a veth from br0 in ws-host to eth0 in the container.
  const ip = freeAddress();
  writeFileSync(join(dir, 'ip'), ip);
  const hostEnd = `vc-${name}`;
  sh('ip', '-n', HOST_NS, 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid));
  sh('ip', '-n', HOST_NS, 'link', 'set', hostEnd, 'master', BRIDGE, 'up');
  // Inside, one ip reads its commands from stdin (-batch -): one nsenter instead of four.
  const inside = ['link set lo up', `addr add ${ip}/16 dev eth0`, 'link set eth0 up', `route add default via ${GATEWAY}`];
  execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', '-batch', '-'], { input: `${inside.join('\n')}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  process.stdout.write(`${name} ${pid} ${ip}\n`);
}

function rm(name: string): void {
  const dir = join(CONTAINERS, name);
  const cg = cgroupDir(name);
  if (!existsSync(dir) && !existsSync(cg)) throw new Error(`no container ${name}`);
  // Killing PID 1 of a PID namespace kills every process in it; the cgroup tells when all are gone.
  const pidFile = join(dir, 'pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (pid > 0 && alive(pid)) kill(pid);
  const procs = (): string[] => (existsSync(cg) ? readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean) : []);
  for (let i = 0; i < 500 && procs().some((p) => alive(Number(p))); i++) {
    for (const p of procs()) if (alive(Number(p))) kill(Number(p));
    sleep(10);
  }
  // The veth goes with the container's network namespace; a leftover host end is removed.
  trySh('ip', '-n', HOST_NS, 'link', 'del', `vc-${name}`);
  const merged = join(dir, 'merged');
  if (readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === merged)) sh('umount', merged);
  // rmdir fails (EBUSY) until the last process has left the cgroup.
  for (let i = 0; i < 100 && existsSync(cg); i++) {
    try {
      rmdirSync(cg);
    } catch {
      sleep(10);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

const [verb, name] = process.argv.slice(2);
try {
  if ((verb !== 'run' && verb !== 'rm') || name === undefined) {
    process.stderr.write('usage: ctr run NAME | ctr rm NAME\n');
    process.exit(2);
  }
  if (!/^[a-z0-9][a-z0-9-]{0,11}$/.test(name)) throw new Error('NAME: up to 12 of a-z, 0-9 and -');
  if (verb === 'run') {
    try {
      run(name);
    } catch (err) {
      try {
        rm(name);
      } catch {
        // best effort: the first error is the one to show
      }
      throw err;
    }
  } else rm(name);
} catch (err) {
  process.stderr.write(`ctr: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
