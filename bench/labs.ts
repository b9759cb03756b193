// The hosted labs' figures on one VM: a cold boot, a warm join to the first prompt and re-attaches,
// keystroke echo through the channel and tmux, the channel's own round trip, and what an idle VM
// costs (memory and CPU), with how many such labs a 24 GiB host holds. Run by bench/labs.
//   node bench/labs.ts IMAGE_DIR [--echo N] [--idle-s S]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readLabImage } from '../src/labs/image.ts';
import { Labs } from '../src/labs/labs.ts';
import { QemuDriver } from '../src/labs/qemu.ts';
import { PROMPT, Screen, killAll, percentile, qemusOf, sleep } from '../test/labs/helpers.ts';

const [imageDir, ...rest] = process.argv.slice(2);
if (!imageDir) throw new Error('usage: node bench/labs.ts IMAGE_DIR [--echo N] [--idle-s S]');
const opt = (name: string, dflt: number) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : dflt;
};
const ECHO = opt('--echo', 200);
const IDLE_S = opt('--idle-s', 60);
const SIZE = { cols: 120, rows: 36 };
const say = (s: string) => process.stderr.write(`bench/labs: ${s}\n`);
const ms = (t0: number) => Math.round(performance.now() - t0);

/** kB of a field of /proc/PID/status or smaps_rollup. */
function kB(file: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
  return Number(m?.[1] ?? NaN);
}
/** utime + stime of a process, in clock ticks (USER_HZ is 100 on Linux). */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]);
}

const stateDir = mkdtempSync('/tmp/ws-labs-bench-');
const driver = new QemuDriver({ stateDir, image: await readLabImage(imageDir) });
const labs = await Labs.open({ driver, stateDir, capacity: 1, warm: 1, bootTimeoutMs: 600_000 });
const out: Record<string, unknown> = {};
try {
  out['accel'] = await driver.accelerator();
  let t0 = performance.now();
  await labs.fillWarm();
  out['coldBootMs'] = ms(t0);
  say(`cold boot to a ready agent: ${String(out['coldBootMs'])} ms (${String(out['accel'])})`);

  // the VM has been warm for a while before a learner comes
  await sleep(10_000);
  t0 = performance.now();
  await labs.claim('bench');
  let s = await labs.attach('bench', SIZE);
  let screen = new Screen(s);
  await screen.waitFor(PROMPT, 60_000);
  out['warmJoinToPromptMs'] = ms(t0);
  const reattach: number[] = [];
  for (let i = 0; i < 5; i++) {
    s.close();
    t0 = performance.now();
    s = await labs.attach('bench', SIZE);
    screen = new Screen(s);
    await screen.waitFor(PROMPT, 60_000);
    reattach.push(ms(t0));
  }
  out['reattachToPromptMs'] = { each: reattach, p50: percentile(reattach, 50) };
  say(`warm join to prompt ${String(out['warmJoinToPromptMs'])} ms; re-attach p50 ${percentile(reattach, 50)} ms`);

  const echo: number[] = [];
  for (let i = 0; i < ECHO; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const before = screen.text.length;
    t0 = performance.now();
    s.write(ch);
    while (!screen.text.slice(before).includes(ch)) await sleep(1);
    echo.push(performance.now() - t0);
    if (i % 40 === 39) s.write('\x15');
    await sleep(20);
  }
  s.write('\x15');
  const rtt: number[] = [];
  for (let i = 0; i < ECHO; i++) rtt.push(await labs.ping('bench'));
  const r1 = (x: number) => Math.round(x * 10) / 10;
  out['echoMs'] = { n: echo.length, p50: r1(percentile(echo, 50)), p90: r1(percentile(echo, 90)), p99: r1(percentile(echo, 99)) };
  out['channelRoundTripMs'] = { n: rtt.length, p50: r1(percentile(rtt, 50)), p99: r1(percentile(rtt, 99)) };
  say(`keystroke echo p50 ${r1(percentile(echo, 50))} ms, p99 ${r1(percentile(echo, 99))} ms; channel round trip p50 ${r1(percentile(rtt, 50))} ms`);

  s.close();
  say(`idle for ${IDLE_S} s`);
  await sleep(IDLE_S * 1000);
  const st = await driver.status(labs.labOf('bench')?.vm ?? '');
  if (st.state !== 'running') throw new Error('the VM is not running');
  const c0 = cpuTicks(st.pid);
  await sleep(20_000);
  const cpuPct = r1(((cpuTicks(st.pid) - c0) / 100 / 20) * 100);
  const rssMiB = r1(kB(`/proc/${st.pid}/status`, 'VmRSS') / 1024);
  const pssMiB = r1(kB(`/proc/${st.pid}/smaps_rollup`, 'Pss') / 1024);
  // what the learner's copy-on-write disk holds of its own
  const diskMiB = r1((statSync(join(driver.vmDir(labs.labOf('bench')?.vm ?? ''), 'disk.qcow2')).blocks * 512) / 2 ** 20);
  // a 24 GiB host keeps 2 GiB for itself and the class server; the rest holds labs at their PSS,
  // and at their -m when every learner fills the guest's memory
  const fits = (perMiB: number) => Math.floor((22 * 1024) / perMiB);
  out['idle'] = { rssMiB, pssMiB, cpuPercentOfOneCore: cpuPct, overlayDiskMiB: diskMiB, labsPer24GiBAtIdle: fits(pssMiB), labsPer24GiBAtFullMemory: fits(1024 + 100) };
  say(`idle VM: RSS ${rssMiB} MiB, PSS ${pssMiB} MiB, CPU ${cpuPct} % of a core; a 24 GiB host: ${fits(pssMiB)} idle labs, ${fits(1124)} at -m 1024 used fully`);
} finally {
  await labs.expire().catch((err: Error) => say(`expire: ${err.message}`));
  killAll(qemusOf(stateDir));
  rmSync(stateDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
