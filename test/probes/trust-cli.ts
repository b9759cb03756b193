// Probes of issue 19's CLI areas, through the built binary: home values, state.json shapes, lock
// shapes, signals during solve/next/goto --restore, a full disk (a small tmpfs under /tmp/ws-*),
// and odd CLI input. Every probe must end with an exit code in 0-4 or 130/137/143, print no stack
// trace and no "bug in workshop", lose no progress and leave nothing behind (temp files, a lock
// that blocks, mounts, processes, /run/workshop-oldtmp.*).
//
//   sudo flock /tmp/workshop-system.lock node_modules/.bin/node test/probes/trust-cli.ts [FAMILY...]
//
// Families: home state lock signals disk cli (default: all). It takes about 5 minutes (the signal
// probes wait for what they interrupted, two lock probes wait 10 s). Exit 0 only when every probe held.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateState } from '../../src/engine/progress.ts';
import { CLI, leftovers as leftoversIn, NODE, ProbeRecord, REPO, runCli, runFamilies, type Ran } from './record.ts';

const RACE = path.join(REPO, 'test/fixtures/lessons/race');
const BASE = mkdtempSync('/tmp/ws-probe-');

const rec = new ProbeRecord();
const run = runCli;
const sane = (r: Ran, limitMs?: number): string[] => rec.sane(r, limitMs);
const probe = (family: string, name: string, fn: () => Promise<string[]>): Promise<void> => rec.probe(family, name, fn);

/** What a command must never leave in a home: temp files, a takeover guard of its own. */
const leftovers = (home: string, allowed: readonly string[] = []): string[] => leftoversIn(home, (n) => /^lock\.\d+\.new$|^state\.json\.tmp-\d+$/.test(n) || (n === 'lock.takeover' && !allowed.includes(n)));

const oldtmpBefore = new Set(readdirSync('/run').filter((f) => f.startsWith('workshop-oldtmp.')));

const freshHome = (): string => mkdtempSync(path.join(BASE, 'h-'));
const doneSteps = (home: string): number | null => {
  try {
    const c = validateState(JSON.parse(readFileSync(path.join(home, 'state.json'), 'utf8').replace(/^\uFEFF/, '')));
    return c.ok ? Object.values(c.state.chapters).reduce((n, ch) => n + Object.values(ch.steps).filter((s) => s.done !== undefined).length, 0) : null;
  } catch {
    return null;
  }
};
const stateOf = (done: number, chapter = 'race'): string => {
  const steps = Object.fromEntries(['one', 'two', 'three', 'four', 'five'].slice(0, done).map((s) => [s, { attempts: 1, hintsShown: 0, done: { at: '2026-12-01T00:00:00.000Z', by: 'learner' } }]));
  return JSON.stringify({ formatVersion: 1, current: null, chapters: { [chapter]: { nonce: 'abc123', startedAt: 1, steps } } });
};

// ---- families --------------------------------------------------------------------------------

async function homes(): Promise<void> {
  const link = path.join(BASE, 'to-root');
  symlinkSync('/', link);
  symlinkSync('/usr', path.join(BASE, 'to-usr'));
  symlinkSync(link, path.join(BASE, 'to-to-root'));
  const harmful = ['/', '//', '/.', '/./', '/tmp/..', '/usr/..', '/usr', '/usr/', '/etc', '/var', '/home', '/root', '/boot', '/proc', '/sys', '/dev', '/run', '/tmp', '/srv', '/opt', '/mnt', '/media', '/bin', '/sbin', '/lib', '/lib64', link, path.join(BASE, 'to-usr'), path.join(BASE, 'to-to-root'), '/proc/1/root', '/proc/self/root', '/proc/1/ws-home', '/sys/kernel/ws-home', '/dev/shm/ws-home', '/dev/..', `${BASE}/../..`, '/proc/self/cwd'];
  // only commands that write nothing even if the refusal broke: `status` and `env` read, `lint` needs no home
  for (const h of harmful) {
    for (const [how, args, env] of [
      ['--home', ['--home', h, 'status'], {}],
      ['WORKSHOP_HOME', ['status'], { WORKSHOP_HOME: h }],
      ['--home env', ['--home', h, 'env'], {}],
    ] as const) {
      await probe('home', `${how} ${h}`, async () => {
        const r = await run(args, { env });
        const p = sane(r);
        if (r.code !== 2 || !r.stderr.includes("as the workshop's home")) p.push(`exit ${r.code} (want 2, refused): ${r.stderr.trim().slice(0, 160)}`);
        return p;
      });
    }
  }
  for (const [label, args, env] of [
    ["--home ''", ['--home', '', 'status'], {}],
    ["WORKSHOP_HOME=''", ['status'], { WORKSHOP_HOME: '' }],
  ] as const) {
    await probe('home', label, async () => {
      const r = await run(args, { env });
      return [...sane(r), ...(r.code === 2 ? [] : [`exit ${r.code} (want 2)`])];
    });
  }
  // odd but harmless homes: every command answers 0, 1 or 3, never a crash
  const file = path.join(BASE, 'a-file');
  writeFileSync(file, 'x');
  const fifo = path.join(BASE, 'a-fifo');
  spawnSync('mkfifo', [fifo]);
  const odd: Array<[string, () => string]> = [
    ['with spaces', () => path.join(freshHome(), 'my home')],
    ['unicode', () => path.join(freshHome(), 'héllo-wörld-ホーム')],
    ['a newline', () => path.join(freshHome(), 'a\nb')],
    ['not there yet, deep', () => path.join(freshHome(), 'a/b/c/d')],
    ['a file', () => file],
    ['a FIFO', () => fifo],
    ['under a file', () => path.join(file, 'x')],
    ['4000 characters', () => path.join(freshHome(), 'x'.repeat(4000))],
    ['a name of 300', () => path.join(freshHome(), 'y'.repeat(300))],
  ];
  for (const [label, mk] of odd) {
    for (const verb of ['status', 'list', 'hint', 'path']) {
      await probe('home', `${label}: ${verb}`, async () => {
        const h = mk();
        const r = await run(['--lessons', RACE, '--home', h, verb]);
        const p = sane(r);
        if (![0, 1, 3].includes(r.code)) p.push(`exit ${r.code} (want 0, 1 or 3): ${r.stderr.trim().slice(0, 160)}`);
        return [...p, ...leftovers(h)];
      });
    }
  }
  for (const verb of ['status', 'list', 'hint', 'lint']) {
    await probe('home', `a relative --home after the current folder was deleted: ${verb}`, async () => {
      const gone = mkdtempSync(path.join(BASE, 'cwd-'));
      const r = await new Promise<Ran>((resolve) => {
        const t0 = performance.now();
        const c = spawn('sh', ['-c', `cd "$0" && rmdir "$0" && exec "$@"`, gone, NODE, CLI, '--home', 'rel', verb], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }));
      });
      return [...sane(r), ...(r.code === 3 ? [] : [`exit ${r.code} (want 3)`])];
    });
  }
}

async function states(): Promise<void> {
  const shapes: Array<[string, string | Buffer, number | null]> = [
    ['empty', '', null],
    ['{}', '{}', null],
    ['null', 'null', null],
    ['[]', '[]', null],
    ['a number', '42', null],
    ['garbage bytes', Buffer.from([0, 1, 2, 255, 254, 10, 13]), null],
    ['half-written', stateOf(3).slice(0, 40), null],
    ['a BOM and 3 done', `\uFEFF${stateOf(3)}`, 3],
    ['a BOM and garbage', '\uFEFF{not json', null],
    ['a UTF-16 BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(stateOf(2), 'utf16le')]), null],
    ['3 done', stateOf(3), 3],
    ['formatVersion 99', JSON.stringify({ formatVersion: 99, current: null, chapters: {} }), null],
    ['formatVersion "1"', JSON.stringify({ formatVersion: '1', current: null, chapters: {} }), null],
    ['one bad step of 3', stateOf(3).replace('"attempts":1', '"attempts":-1'), 2],
    ['an unknown chapter', stateOf(2, 'no-such-chapter'), 2],
    ['current at an unknown step', stateOf(2).replace('"current":null', '"current":{"chapter":"race","step":"nine"}'), 2],
    ['current not an object', stateOf(2).replace('"current":null', '"current":"race/one"'), 2],
    ['a nonce with a shell', stateOf(2).replace('abc123', '$(reboot)'), null],
    ['NaN-ish startedAt', stateOf(2).replace('"startedAt":1', '"startedAt":1e999'), null],
    ['nested 100000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, null],
    ['10 MB of spaces then 2 done', `${' '.repeat(10 << 20)}${stateOf(2)}`, 2],
    ['10000 chapters', JSON.stringify({ formatVersion: 1, current: null, chapters: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`c${i}`, { nonce: 'abc123', startedAt: 1, steps: {} }])) }), 0],
    ['__proto__ as a chapter', '{"formatVersion":1,"current":null,"chapters":{"__proto__":{"nonce":"abc123","startedAt":1,"steps":{}}}}', null],
  ];
  for (const [label, content, want] of shapes) {
    for (const verb of ['status', 'list', 'hint']) {
      await probe('state', `${label}: ${verb}`, async () => {
        const h = freshHome();
        writeFileSync(path.join(h, 'state.json'), content);
        const r = await run(['--lessons', RACE, '--home', h, verb]);
        const p = sane(r);
        if (![0, 3].includes(r.code)) p.push(`exit ${r.code} (want 0 or 3)`);
        p.push(...leftovers(h));
        // nothing lost: valid progress stays; a file that is not read as progress is kept aside
        // (state.json.corrupt-*, .salvaged-*) or left as it was, never deleted
        const now = doneSteps(h);
        if (want !== null && (now === null || now < want)) p.push(`done steps ${want} became ${String(now)}`);
        const names = readdirSync(h);
        const kept = names.some((n) => n.startsWith('state.json.corrupt-') || n.startsWith('state.json.salvaged-')) || (names.includes('state.json') && readFileSync(path.join(h, 'state.json')).equals(Buffer.from(content)));
        if (want === null && !kept) p.push('the original state.json is neither kept aside nor left as it was');
        return p;
      });
    }
  }
  // files that are not regular files
  const special: Array<[string, (p: string) => void]> = [
    ['a FIFO', (p) => spawnSync('mkfifo', [p])],
    ['a directory', (p) => mkdirSync(p)],
    ['a symlink to /dev/zero', (p) => symlinkSync('/dev/zero', p)],
    ['a symlink to /dev/null', (p) => symlinkSync('/dev/null', p)],
    ['a symlink to /dev/urandom', (p) => symlinkSync('/dev/urandom', p)],
    ['a dangling symlink', (p) => symlinkSync('/nonexistent/x', p)],
    ['a symlink loop', (p) => symlinkSync(p, p)],
    ['a symlink to a FIFO', (p) => {
      spawnSync('mkfifo', [`${p}.fifo`]);
      symlinkSync(`${p}.fifo`, p);
    }],
    // bound and left: the file stays, nobody listens
    ['a socket', (p) => spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', p])],
    ['mode 000', (p) => {
      writeFileSync(p, stateOf(2));
      chmodSync(p, 0);
    }],
  ];
  for (const [label, make] of special) {
    for (const verb of ['status', 'list', 'hint']) {
      await probe('state', `state.json is ${label}: ${verb}`, async () => {
        const h = freshHome();
        make(path.join(h, 'state.json'));
        await new Promise((r) => setTimeout(r, 20));
        const r = await run(['--lessons', RACE, '--home', h, verb], { timeoutMs: 20_000 });
        const p = sane(r, 15_000);
        if (![0, 3].includes(r.code)) p.push(`exit ${r.code} (want 0 or 3)`);
        return [...p, ...leftovers(h)];
      });
    }
  }
}

async function locks(): Promise<void> {
  const future = new Date('2030-01-01T00:00:00Z');
  const past = new Date('2001-01-01T00:00:00Z');
  const dead = 2 ** 22 + 777;
  const shapes: Array<[string, (h: string) => void, { want: number[]; slow?: true; allowed?: string[] }]> = [
    ['garbage', (h) => writeFileSync(path.join(h, 'lock'), 'x'), { want: [0] }],
    ['garbage, future mtime', (h) => {
      writeFileSync(path.join(h, 'lock'), 'x');
      utimesSync(path.join(h, 'lock'), future, future);
    }, { want: [0] }],
    ['garbage, old mtime', (h) => {
      writeFileSync(path.join(h, 'lock'), 'x');
      utimesSync(path.join(h, 'lock'), past, past);
    }, { want: [0] }],
    ['empty, future mtime', (h) => {
      writeFileSync(path.join(h, 'lock'), '');
      utimesSync(path.join(h, 'lock'), future, future);
    }, { want: [0] }],
    ['a dead pid', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: dead, start: 1, command: 'next', at: 'x' })), { want: [0] }],
    ['a dead pid, future mtime', (h) => {
      writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: dead, start: 1, command: 'next', at: 'x' }));
      utimesSync(path.join(h, 'lock'), future, future);
    }, { want: [0] }],
    ['pid 1 with another start time', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: 1, start: 1, command: 'next', at: 'x' })), { want: [0] }],
    ['pid as a string', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: '1', command: 'next' })), { want: [0] }],
    ['pid negative', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: -1, start: null, command: 'next', at: 'x' })), { want: [0, 3], slow: true }],
    ['1 MB of JSON', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: dead, start: 1, command: 'x'.repeat(1 << 20), at: 'x' })), { want: [0] }],
    ['a FIFO', (h) => spawnSync('mkfifo', [path.join(h, 'lock')]), { want: [3] }],
    ['a directory', (h) => mkdirSync(path.join(h, 'lock')), { want: [3] }],
    ['a symlink to /dev/zero', (h) => symlinkSync('/dev/zero', path.join(h, 'lock')), { want: [3] }],
    ['a symlink to a FIFO', (h) => {
      spawnSync('mkfifo', [path.join(h, 'f')]);
      symlinkSync(path.join(h, 'f'), path.join(h, 'lock'));
    }, { want: [3] }],
    ['a dangling symlink', (h) => symlinkSync('/nonexistent/lock', path.join(h, 'lock')), { want: [0, 3] }],
    ['a takeover guard, future mtime', (h) => {
      writeFileSync(path.join(h, 'lock'), 'x');
      mkdirSync(path.join(h, 'lock.takeover'));
      utimesSync(path.join(h, 'lock.takeover'), future, future);
      utimesSync(path.join(h, 'lock'), future, future);
    }, { want: [0] }],
    ['a takeover guard that is a file', (h) => {
      writeFileSync(path.join(h, 'lock'), 'x');
      writeFileSync(path.join(h, 'lock.takeover'), '');
    }, { want: [0] }],
    ['a takeover guard that is not empty', (h) => {
      writeFileSync(path.join(h, 'lock'), 'x');
      mkdirSync(path.join(h, 'lock.takeover/x'), { recursive: true });
    }, { want: [3], slow: true, allowed: ['lock.takeover'] }],
    ['a live owner (this probe)', (h) => writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: process.pid, start: Number(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19]), command: 'solve', at: 'x' })), { want: [3], slow: true }],
    ['leftovers of a killed command', (h) => {
      writeFileSync(path.join(h, 'lock'), JSON.stringify({ pid: dead, start: 1, command: 'next', at: 'x' }));
      writeFileSync(path.join(h, `lock.${dead}.new`), '');
      writeFileSync(path.join(h, `state.json.tmp-${dead}`), '{');
    }, { want: [0] }],
  ];
  for (const [label, make, o] of shapes) {
    for (const verb of o.slow ? ['hint'] : ['hint', 'next', 'goto']) {
      await probe('lock', `lock is ${label}: ${verb}`, async () => {
        const h = freshHome();
        writeFileSync(path.join(h, 'state.json'), stateOf(2));
        make(h);
        const args = verb === 'goto' ? ['goto', 'race/two'] : [verb];
        const r = await run(['--lessons', RACE, '--home', h, ...args], { timeoutMs: 30_000 });
        const p = sane(r, 12_000);
        // next fails its check (exit 1) once it has the lock: the files are not there
        const want = verb === 'next' ? o.want.map((c) => (c === 0 ? 1 : c)) : o.want;
        if (!want.includes(r.code)) p.push(`exit ${r.code} (want ${want.join(' or ')}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
        const done = doneSteps(h);
        if (done !== 2) p.push(`done steps 2 became ${String(done)}`);
        return [...p, ...leftovers(h, o.allowed)];
      });
    }
  }
}

/** A pack whose solutions take a while, so that a signal lands in the middle of one. */
function slowPack(): string {
  const dir = mkdtempSync(path.join(BASE, 'pack-'));
  mkdirSync(path.join(dir, '01-slow'));
  writeFileSync(path.join(dir, '01-slow/chapter.md'), '# Slow\n\n## One {#one}\n\nOne.\n\n## Two {#two}\n\nTwo.\n\n## Three {#three}\n\nThree.\n');
  writeFileSync(
    path.join(dir, '01-slow/steps.ts'),
    `import { defineChapter, fileExists } from 'workshop/lesson';
const slow = (f: string) => async ({ $ }: { $: (s: TemplateStringsArray, ...v: unknown[]) => Promise<unknown> }) => { await $\`sleep 0.4\`; await $\`touch \${f}\`; await $\`sleep 0.4\`; };
export default defineChapter({
  formatVersion: 1,
  id: 'slow',
  title: 'Slow',
  steps: {
    one: { verify: () => [fileExists('one.txt')], solve: slow('one.txt'), hints: ['h'] },
    two: { verify: () => [fileExists('two.txt')], solve: slow('two.txt'), hints: ['h'] },
    three: { verify: () => [fileExists('three.txt')], solve: slow('three.txt'), hints: ['h'] },
  },
  cleanup: async ({ $, path }) => { await $\`rm -f \${path('one.txt')} \${path('two.txt')} \${path('three.txt')}\`; },
});
`,
  );
  return dir;
}

async function signals(): Promise<void> {
  const pack = slowPack();
  const cases: Array<[string, string[]]> = [
    ['solve --through', ['solve', 'slow/three', '--through']],
    ['solve', ['solve', 'slow/one']],
    ['next', ['next']],
    ['hint', ['hint']],
    ['goto --restore', ['goto', 'slow/three', '--restore', '--yes']],
  ];
  for (const [label, args] of cases) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      for (const afterMs of [30, 150, 400, 900]) {
        await probe('signals', `${sig} after ${afterMs} ms of ${label}`, async () => {
          const h = freshHome();
          // one step done before, so that something can be lost
          const first = await run(['--lessons', pack, '--home', h, 'solve', 'slow/one']);
          if (first.code !== 0) return [`setting up: solve slow/one exit ${first.code}: ${first.stderr.slice(-200)}`];
          const r = await run(['--lessons', pack, '--home', h, ...args], { signal: { name: sig, afterMs } });
          const p = sane(r);
          // what the interrupted command started finishes by itself (a solve's sleep); then look
          await new Promise((res) => setTimeout(res, 1200));
          const done = doneSteps(h);
          if (done === null) p.push('state.json is not valid after the signal');
          else if (done < 1 && label !== 'goto --restore') p.push(`done steps 1 became ${done}`);
          // the next command is not blocked by what the killed one left
          const after = await run(['--lessons', pack, '--home', h, 'hint'], { timeoutMs: 20_000 });
          p.push(...sane(after, 12_000).map((x) => `the hint after: ${x}`));
          if (after.code !== 0) p.push(`the hint after: exit ${after.code}: ${after.stderr.trim().split('\n')[0] ?? ''}`);
          return [...p, ...leftovers(h)];
        });
      }
    }
  }
}

async function disks(): Promise<void> {
  const mnt = mkdtempSync(path.join(BASE, 'full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'ws-probe-full', mnt]);
  if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr.toString()}`);
  try {
    const free = [0, 512, 2048, 8192];
    const verbs: string[][] = [['hint'], ['next'], ['path'], ['goto', 'race/two'], ['solve', 'race/one'], ['status'], ['list'], ['--json', 'list'], ['reset', 'race'], ['env']];
    for (const bytes of free) {
      for (const args of verbs) {
        await probe('disk', `${bytes} bytes free: ${args.join(' ')}`, async () => {
          for (const f of readdirSync(mnt)) rmSync(path.join(mnt, f), { recursive: true, force: true });
          const h = path.join(mnt, 'home');
          mkdirSync(h);
          writeFileSync(path.join(h, 'state.json'), stateOf(2));
          const before = readFileSync(path.join(h, 'state.json'), 'utf8');
          spawnSync('sh', ['-c', `dd if=/dev/zero of=${mnt}/fill bs=1k 2>/dev/null; true`]);
          if (bytes > 0) {
            const st = statSync(path.join(mnt, 'fill'));
            spawnSync('truncate', ['-s', String(Math.max(0, st.size - bytes)), path.join(mnt, 'fill')]);
          }
          const r = await run(['--lessons', RACE, '--home', h, ...args]);
          const p = sane(r);
          if (![0, 1, 3].includes(r.code)) p.push(`exit ${r.code} (want 0, 1 or 3)`);
          const done = doneSteps(h);
          // reset undoes the chapter's steps on purpose; everything else keeps them
          if (done === null) p.push('state.json is not valid');
          else if (args[0] !== 'reset' && done < 2) p.push(`done steps 2 became ${done}`);
          else if (r.code !== 0 && readFileSync(path.join(h, 'state.json'), 'utf8') !== before && done < 2) p.push('a failed command changed the progress');
          return [...p, ...leftovers(h)];
        });
      }
    }
    for (const args of [['list'], ['status'], ['show'], ['hint'], ['env'], ['path'], ['--json', 'status'], ['--json', 'list'], ['doctor'], ['--help'], ['lint', RACE], ['--version']]) {
      await probe('disk', `stdout to /dev/full: ${args.join(' ')}`, async () => {
        const h = freshHome();
        const r = await run(['--lessons', RACE, '--home', h, ...args], { stdoutFile: '/dev/full' });
        const p = sane(r);
        if (r.code !== 3) p.push(`exit ${r.code} (want 3): ${r.stderr.trim().split('\n')[0] ?? ''}`);
        return [...p, ...leftovers(h)];
      });
    }
  } finally {
    spawnSync('umount', [mnt]);
  }
}

async function clis(): Promise<void> {
  const file = path.join(BASE, 'lessons-file');
  writeFileSync(file, 'x');
  const cases: Array<[string, string[], number[]]> = [
    ["--lessons ''", ['--lessons', '', 'list'], [2]],
    ['--lessons a missing folder', ['--lessons', '/nonexistent/pack', 'list'], [2, 3, 4]],
    ['--lessons a file', ['--lessons', file, 'list'], [2, 3, 4]],
    ['--lessons /dev/null', ['--lessons', '/dev/null', 'list'], [2, 3, 4]],
    ['--lessons /', ['--lessons', '/proc/sys', 'list'], [2, 3, 4]],
    ['--lessons= (inline empty)', ['--lessons=', 'list'], [2]],
    ['--home= (inline empty)', ['--home=', 'status'], [2]],
    ['--home=/ (inline)', ['--home=/', 'status'], [2]],
    ['an unknown command', ['frobnicate'], [2]],
    ['an unknown flag', ['list', '--frob'], [2]],
    ['too many arguments', ['status', 'a', 'b'], [2]],
    ['a 100 kB argument', ['show', 'x'.repeat(100_000)], [2]],
    ['a NUL-free control character', ['show', 'race/\u001b[2J'], [2]],
    ['reset with a chapter and --all', ['reset', 'race', '--all'], [2]],
    ['reset --all without a terminal', ['reset', '--all'], [2]],
    ['goto --restore without a terminal', ['goto', 'race/two', '--restore'], [2]],
    ['--json goto nowhere', ['--json', 'goto', 'nowhere'], [2]],
    ['help for every command', ['help', 'reset'], [0]],
    ['reset --help', ['reset', '--help'], [0]],
    ['--version --json', ['--version', '--json'], [0]],
  ];
  for (const [label, args, want] of cases) {
    await probe('cli', label, async () => {
      const h = freshHome();
      const r = await run(args[0]?.startsWith('--lessons') ? ['--home', h, ...args] : ['--lessons', RACE, '--home', h, ...args]);
      const p = sane(r);
      if (!want.includes(r.code)) p.push(`exit ${r.code} (want ${want.join(' or ')}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
      return [...p, ...leftovers(h)];
    });
  }
}

// ---- main ------------------------------------------------------------------------------------

const FAMILIES: Record<string, () => Promise<void>> = { home: homes, state: states, lock: locks, signals, disk: disks, cli: clis };
const left = await runFamilies(rec, FAMILIES, BASE);
const newOldtmp = readdirSync('/run').filter((f) => f.startsWith('workshop-oldtmp.') && !oldtmpBefore.has(f));
const held = rec.report();
console.log(`stack traces: ${rec.stacks}; exits outside 0-4, 130, 137, 143: ${rec.badExits}; left behind: ${newOldtmp.length} /run/workshop-oldtmp.*, ${left.processes.length} processes, ${left.mounts.length} mounts; ${left.seconds} s`);
for (const x of [...newOldtmp, ...left.processes, ...left.mounts]) console.log(`  left: ${x}`);
rec.failures();
process.exitCode = held && newOldtmp.length + left.processes.length + left.mounts.length === 0 ? 0 : 1;
