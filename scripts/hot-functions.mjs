// Writes scripts/hot-functions.txt: the top-level functions of the CLI's own bundle files that the
// commands a learner types all day run, which the build makes compile eagerly (issue 26; the
// reasons are in scripts/eager-functions.mjs). Run it as root after changing what those commands
// do; a list that has gone stale costs start-up time, never correctness:
//
//   sudo node scripts/hot-functions.mjs
//
// It builds the CLI with every function lazy into dist-hot/, runs status, show, hint, list,
// doctor, check and next (on chroot/rootfs-dirs, whose checks read only files, as bench/run does)
// and next with a class joined (a server that does not answer), each under V8's
// --log-function-events in a throw-away home, and lists each function that V8 compiled or ran.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sourceModules } from './eager-functions.mjs';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist-hot');
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'ws-hot-'));
const home = join(work, 'home');
const run = (args, h = home, logfile = undefined) =>
  execFileSync(node, [...(logfile ? ['--log-function-events', `--logfile=${logfile}`, '--no-logfile-per-isolate'] : []), join(out, 'cli.js'), ...args], { env: { ...process.env, WORKSHOP_HOME: h, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'ignore'] });

try {
  execFileSync(node, [join(root, 'scripts', 'build.mjs'), out], { cwd: root, env: { ...process.env, WORKSHOP_EAGER: 'none' }, stdio: 'inherit' });
  mkdirSync(home);
  run(['goto', 'chroot/rootfs-dirs']);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin']) mkdirSync(join(home, 'chapters', 'chroot', 'rootfs', d), { recursive: true });
  const saved = join(work, 'state.json');
  copyFileSync(join(home, 'state.json'), saved);
  const logs = [];
  const commands = [[], ['status'], ['status', '--json'], ['show'], ['hint'], ['list'], ['doctor'], ['check'], ['next']];
  for (const [i, args] of commands.entries()) {
    copyFileSync(saved, join(home, 'state.json'));
    logs.push(join(work, `${i}.log`));
    run(args, home, logs.at(-1));
  }
  // a class joined: port 47, where nothing listens; the sender it starts is ended below
  const classHome = join(work, 'class');
  mkdirSync(classHome);
  for (const f of readdirSync(home)) if (f !== 'lock') execFileSync('cp', ['-a', join(home, f), classHome]);
  writeFileSync(join(classHome, 'classroom.json'), `${JSON.stringify({ url: 'http://127.0.0.1:47', name: 'hot', token: 'unreachable-hot-token-xxxxxxxxxx', joinedAt: '' })}\n`, { mode: 0o600 });
  copyFileSync(saved, join(classHome, 'state.json'));
  logs.push(join(work, 'class.log'));
  try {
    run(['next'], classHome, logs.at(-1));
  } finally {
    // the detached sender takes its lock as it starts
    let pid;
    for (let i = 0; i < 100 && !pid; i++) {
      try {
        pid = /"pid":(\d+)/.exec(readFileSync(join(classHome, 'classroom-sender.lock'), 'utf8'))?.[1];
      } catch {
        execFileSync('sleep', ['0.05']);
      }
    }
    if (pid) process.kill(Number(pid));
    else console.error('hot-functions: the class sender did not start; its functions are not listed');
  }
  const found = new Set();
  for (const log of logs) {
    const urls = new Map();
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const f = line.split(',');
      if (f[0] === 'script-details') urls.set(f[1], f[2] ?? '');
      if (f[0] !== 'function' || !(f[1]?.startsWith('first-execution') || f[1] === 'interpreter' || f[1] === 'baseline')) continue;
      const url = urls.get(f[2]) ?? '';
      const name = url.startsWith(`file://${out}/`) ? url.slice(`file://${out}/`.length) : '';
      if (!(name === 'cli.js' || name.startsWith('chunk-')) || !f[7]) continue;
      found.add(`${name}\t${f[3]}\t${f[7]}`);
    }
  }
  const lines = new Set();
  const texts = new Map();
  for (const entry of found) {
    const [file = '', at = '0', name = ''] = entry.split('\t');
    if (!texts.has(file)) texts.set(file, sourceModules(readFileSync(join(out, file), 'utf8')));
    const module = texts.get(file)(Number(at));
    if (!module.startsWith('src/')) continue;
    // esbuild's renamed `load2` is listed under the name the source gives it
    const source = readFileSync(join(root, module), 'utf8');
    const plain = new RegExp(`function\\*?\\s+${name}\\s*[<(]`).test(source) ? name : name.replace(/\d+$/, '');
    lines.add(`${module} ${plain}`);
  }
  const header = '# The CLI functions that compile eagerly (scripts/build.mjs); written by scripts/hot-functions.mjs.\n';
  writeFileSync(join(root, 'scripts', 'hot-functions.txt'), header + [...lines].sort().join('\n') + '\n');
  console.log(`scripts/hot-functions.txt: ${lines.size} functions`);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
