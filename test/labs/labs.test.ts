// The hosted labs on real VMs (qemu; TCG on this machine): everything below the class server.
// One sequence over two learners' VMs, so that the boots (the expensive part) are shared:
// warm pool and capacity, a session in each VM passing preflight/vm with its report at the host,
// re-attach, keystroke echo, isolation from inside a guest, kill -9 of the host process, idle
// stop and return with restore, expiry. `npm run test:labs` builds the image and runs this.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCast } from '../../src/labs/asciicast.ts';
import { readLabImage } from '../../src/labs/image.ts';
import { Labs, type LabsOptions } from '../../src/labs/labs.ts';
import { QemuDriver, type BaseImage } from '../../src/labs/qemu.ts';
import type { LabSession } from '../../src/labs/session.ts';
import { PROMPT, Screen, killAll, percentile, qemusOf, sleep } from './helpers.ts';

const IMAGE = process.env['WORKSHOP_LABS_IMAGE'] ?? '';
const ready = IMAGE !== '' && process.getuid?.() === 0;
const SIZE = { cols: 120, rows: 36 };
const BOOT_MS = 420_000;
const figures: Record<string, unknown> = {};
const reports: { learner: string; body: { kind?: string; step?: string } }[] = [];

let stateDir = '';
let image: BaseImage;
let driver: QemuDriver;
let labs: Labs;
const clock = { offsetMs: 0 };

function openLabs(extra: Partial<LabsOptions> = {}): Promise<Labs> {
  return Labs.open({
    driver,
    stateDir,
    capacity: 2,
    warm: 2,
    bootTimeoutMs: BOOT_MS,
    idleStopMs: 20 * 60_000,
    now: () => Date.now() + clock.offsetMs,
    onReport: async (learner, body) => {
      reports.push({ learner, body: JSON.parse(body) as { kind?: string; step?: string } });
      return { status: 201, body: '{"ok":true}' };
    },
    log: (m) => console.log(`labs: ${m}`),
    ...extra,
  });
}

async function attached(learner: string): Promise<{ s: LabSession; screen: Screen; ms: number }> {
  const t0 = performance.now();
  const s = await labs.attach(learner, SIZE);
  const screen = new Screen(s);
  await screen.waitFor(PROMPT, 120_000);
  return { s, screen: screen.since(), ms: Math.round(performance.now() - t0) };
}

async function until<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.runIf(ready)('hosted labs on qemu VMs', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync('/tmp/ws-labs-test-');
    image = await readLabImage(IMAGE);
    driver = new QemuDriver({ stateDir, image });
    labs = await openLabs();
  });

  afterAll(async () => {
    try {
      await labs?.expire();
    } finally {
      // whatever went wrong above, no VM of this test outlives it
      killAll(qemusOf(stateDir));
      await sleep(500);
      const left = qemusOf(stateDir);
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/labs-figures.json', `${JSON.stringify(figures, null, 2)}\n`);
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
      expect(left).toEqual([]);
    }
  });

  it('boots two warm VMs from one base, each on its own copy-on-write overlay', async () => {
    const t0 = performance.now();
    await labs.fillWarm();
    figures['accel'] = await driver.accelerator();
    figures['coldBootBothMs'] = Math.round(performance.now() - t0);
    figures['coldBootMs'] = labs.list().map((l) => l.bootMs);
    const vms = await driver.list();
    expect(vms.map((v) => v.status.state)).toEqual(['running', 'running']);
    for (const v of vms) {
      const info = JSON.parse(spawnSync('qemu-img', ['info', '--output=json', '-U', join(driver.vmDir(v.id), 'disk.qcow2')], { encoding: 'utf8' }).stdout) as { 'backing-filename'?: string; format?: string };
      expect(info).toMatchObject({ format: 'qcow2', 'backing-filename': image.disk });
    }
  });

  it('gives each learner a warm VM, and refuses the learner after the capacity with a clear message', async () => {
    expect(await labs.claim('ada')).toMatchObject({ kind: 'claimed', warm: true });
    expect(await labs.claim('bob')).toMatchObject({ kind: 'claimed', warm: true });
    const eve = await labs.claim('eve');
    expect(eve).toEqual({ kind: 'full', message: expect.stringMatching(/all 2 labs of this class are in use/) });
    const { s, ms } = await attached('ada');
    figures['warmJoinToPromptMs'] = ms;
    s.close();
  });

  it('lets each learner pass preflight/vm in their own VM, and hands each report to the host under their name', async () => {
    for (const learner of ['ada', 'bob']) {
      const { s, screen } = await attached(learner);
      s.write('cd $(workshop path) && systemd-detect-virt --vm | tee vm.txt\r');
      expect(await screen.waitFor(/\b(qemu|kvm)\b[\s\S]*# *\n*$/, 120_000)).toMatch(/\b(qemu|kvm)\b/);
      screen.since();
      s.write('workshop next\r');
      await screen.waitFor(/preflight[\s\S]*# *\n*$/, 240_000);
      await until(`${learner}'s pass`, () => reports.find((r) => r.learner === learner && r.body.kind === 'passed' && r.body.step === 'preflight/vm'), 120_000);
      s.close();
    }
    // each report came from the VM its learner holds, never the other's
    expect(new Set(reports.map((r) => r.learner))).toEqual(new Set(['ada', 'bob']));
    const cast = parseCast(readFileSync(labs.recordingPath(labs.labOf('ada')?.vm ?? ''), 'utf8'));
    expect(cast.header).toMatchObject({ version: 2, width: SIZE.cols, height: SIZE.rows });
    expect(cast.events.some((e) => e[1] === 'o' && e[2].includes('systemd-detect-virt'))).toBe(true);
    expect(cast.events.filter((e) => e[1] === 'm').map((e) => e[2])).toContain('preflight/vm passed');
  });

  it('re-attaches to the same shell: a variable set before the detach is still set', async () => {
    const first = await attached('ada');
    first.s.write('export WS_KEPT=still-here-$((6*7))\r');
    await first.screen.waitFor(PROMPT, 60_000);
    first.s.close();
    const again = await attached('ada');
    again.s.write('echo "[$WS_KEPT]"\r');
    expect(await again.screen.waitFor(/\[still-here-42\]/, 60_000)).toContain('[still-here-42]');
    figures['reattachToPromptMs'] = again.ms;
    again.s.close();
  });

  it('echoes keystrokes through the channel (figures: p50 and p99)', async () => {
    const { s, screen } = await attached('ada');
    const samples: number[] = [];
    for (let i = 0; i < 60; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      const before = screen.text.length;
      const t0 = performance.now();
      s.write(ch);
      await until('the echo', () => (screen.text.length > before && screen.text.slice(before).includes(ch) ? true : undefined), 10_000);
      samples.push(performance.now() - t0);
      await sleep(30);
    }
    s.write('\x15'); // ^U: clear the line
    figures['echoMs'] = { n: samples.length, p50: Math.round(percentile(samples, 50)), p99: Math.round(percentile(samples, 99)), max: Math.round(Math.max(...samples)) };
    const rtt: number[] = [];
    for (let i = 0; i < 60; i++) rtt.push(await labs.ping('ada'));
    figures['channelRoundTripMs'] = { n: rtt.length, p50: Math.round(percentile(rtt, 50) * 10) / 10, p99: Math.round(percentile(rtt, 99) * 10) / 10 };
    // the goal is 50 ms with KVM; under TCG on a shared 2-core host the figure is reported, and
    // only a channel that is broken or stalls for seconds fails here
    expect(percentile(samples, 99)).toBeLessThan(2000);
    s.close();
  });

  it('keeps a guest away from the host’s 127.0.0.1, the other VM and any outside address', async () => {
    // A host service on 127.0.0.1 that counts its connections.
    let hits = 0;
    const server: Server = createServer((c) => {
      hits++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // An "outside" address that is live, inside a network namespace of this test's own (held under
    // the system lock, so no `workshop clean` elsewhere removes it meanwhile).
    const lock: ChildProcess = spawn('flock', ['/tmp/workshop-system.lock', 'sh', '-c', 'echo locked; read x'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((r) => lock.stdout?.once('data', () => r()));
    const ns = 'ws-labs-iso';
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    let outside: ChildProcess | undefined;
    try {
      expect(sh(`ip netns add ${ns} && ip -n ${ns} link set lo up && ip -n ${ns} addr add 198.51.100.1/32 dev lo`).status).toBe(0);
      outside = spawn('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-l', '-p', '8080'], { stdio: 'ignore' });
      await sleep(500);
      // the control: the address answers inside its namespace
      expect(sh(`ip netns exec ${ns} bash -c 'exec 3<>/dev/tcp/198.51.100.1/8080' && echo connected`).stdout).toContain('connected');
      outside.kill();
      outside = spawn('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-l', '-p', '8080'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let outsideHeard = '';
      outside.stdout?.on('data', (d: Buffer) => (outsideHeard += d.toString()));

      const probe = (addr: string, p: number) => `timeout 10 bash -c 'echo hello >/dev/tcp/${addr}/${p}' 2>&1 | tr "\\n" " "; echo "rc=\${PIPESTATUS[0]}"`;
      const ch = await labs.exec('ada', [
        'echo "links: $(ls /sys/class/net | tr "\\n" " ")"',
        'echo "routes4: $(ip -4 route show table all | grep -v "^local\\|^broadcast" | tr "\\n" ";")"',
        'echo "routes6: $(ip -6 route show table all | grep -v "^local\\|^multicast\\|^anycast\\|dev lo" | tr "\\n" ";")"',
        `echo "host-loopback: $(${probe('127.0.0.1', port)})"`,
        `echo "slirp-host: $(${probe('10.0.2.2', port)})"`,
        `echo "outside: $(${probe('198.51.100.1', 8080)})"`,
        `echo "other-vm: $(${probe('10.0.2.15', 22)})"`,
      ].join('\n'), 60_000);
      const out = ch.stdout;
      console.log(out);
      expect(out).toMatch(/^links: lo $/m);
      expect(out).toMatch(/^routes4: $/m);
      expect(out).toMatch(/^routes6: $/m);
      expect(out).toMatch(/^host-loopback: .*Connection refused.*rc=1/m);
      expect(out).toMatch(/^slirp-host: .*Network is unreachable.*rc=1/m);
      expect(out).toMatch(/^outside: .*Network is unreachable.*rc=1/m);
      expect(out).toMatch(/^other-vm: .*Network is unreachable.*rc=1/m);
      expect(hits).toBe(0);
      expect(outsideHeard).toBe('');
      // the other VM has no network either: nothing in it to reach
      expect((await labs.exec('bob', 'ls /sys/class/net', 30_000)).stdout.trim()).toBe('lo');
    } finally {
      outside?.kill();
      sh(`ip netns del ${ns}`);
      lock.stdin?.end();
      server.close();
    }
  });

  it('gives a learner’s handle their own VM only: a file made in bob’s VM is not in ada’s', async () => {
    const b = await attached('bob');
    b.s.write('echo only-bob > /root/bob.txt && echo wrote\r');
    await b.screen.waitFor(/wrote/, 60_000);
    b.s.close();
    const a = await attached('ada');
    a.s.write('cat /root/bob.txt; hostname; echo "vm-of-ada"\r');
    const seen = await a.screen.waitFor(/vm-of-ada\n/, 60_000);
    expect(seen).toMatch(/No such file or directory/);
    expect(seen).not.toMatch(/^only-bob$/m);
    a.s.close();
    expect(labs.labOf('ada')?.vm).not.toBe(labs.labOf('bob')?.vm);
  });

  it('survives kill -9 of the host process: the VMs run on, and a new host finds them and the same shell', async () => {
    labs.close();
    const child = spawn(process.execPath, ['--no-warnings', 'test/labs/host-child.ts', stateDir, IMAGE, 'ada', String(figures['accel'])], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('the child host did not get ready')), 180_000);
        child.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('READY')) {
            clearTimeout(t);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`the child host exited ${code}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect((await driver.list()).map((v) => v.status.state)).toEqual(['running', 'running']);
    labs = await openLabs();
    const t0 = performance.now();
    const again = await attached('ada');
    figures['rediscoverToPromptMs'] = Math.round(performance.now() - t0);
    again.s.write('echo "[$WS_K9]"\r');
    expect(await again.screen.waitFor(/\[survived-kill-9\]/, 60_000)).toContain('[survived-kill-9]');
    again.s.close();
  });

  it('stops an idle lab keeping its disk, and on return boots it and restores the current step', async () => {
    const vm = labs.labOf('bob')?.vm ?? '';
    // 21 minutes later: ada attached again meanwhile, bob did nothing
    clock.offsetMs = 21 * 60_000;
    (await attached('ada')).s.close();
    expect(await labs.stopIdle()).toEqual([vm]);
    expect(await driver.status(vm)).toEqual({ state: 'stopped' });
    const t0 = performance.now();
    const back = await labs.attach('bob', SIZE);
    figures['returnFromIdleMs'] = Math.round(performance.now() - t0);
    figures['coldBootOneMs'] = labs.labOf('bob')?.bootMs;
    expect(back.vm).toBe(vm);
    expect(back.restored).toMatchObject({ kind: 'restored', step: 'preflight/root' });
    const screen = new Screen(back);
    await screen.waitFor(PROMPT, 120_000);
    screen.since();
    back.write('cat $(workshop path)/vm.txt; cat /root/bob.txt\r');
    const seen = await screen.waitFor(/only-bob\n/, 60_000);
    expect(seen).toMatch(/\b(qemu|kvm)\b/);
    back.close();
  });

  it('removes every VM and disk after the class, and leaves no qemu running', async () => {
    await labs.expire();
    expect(await driver.list()).toEqual([]);
    expect(qemusOf(stateDir)).toEqual([]);
  });
});

describe.skipIf(ready)('hosted labs on qemu VMs', () => {
  it('needs root and a labs image: run `sudo npm run test:labs`', () => {
    console.log('skipped: WORKSHOP_LABS_IMAGE is not set or this is not root; test/labs/run.sh builds the image and sets it');
  });
});
