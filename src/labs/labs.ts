// The hosted labs of one class server: one VM per learner on a driver, a warm pool, a capacity,
// idle stop and return, recordings, and the guest's reports handed to the server. A plain API
// with no web server in it: the class server's routes and WebSocket sit on top (issue 23, part 2).
//
//   const labs = await Labs.open({ driver, stateDir, capacity: 30, warm: 3, onReport });
//   labs.startTimers();                          // idle stop and the warm pool, every minute
//   const c = await labs.claim(learnerId);       // { kind: 'claimed', vm } | { kind: 'full', message }
//   const s = await labs.attach(learnerId, { cols, rows });   // boots or wakes it; a LabSession
//   s.onData(bytes => ws.send(bytes)); ws.on('message', d => s.write(d));
//   labs.watch(learnerId, bytes => ...);           // the instructor, read-only
//   await labs.expire();                         // after the class: every VM and disk removed
//
// A learner is an opaque id (never a secret: it is written into labs.json and the recordings).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CastRecorder } from './asciicast.ts';
import { LabChannel } from './channel.ts';
import { DEFAULT_SPEC, type LabDriver, type VmSpec } from './driver.ts';
import type { ExecResult, RequestAnswer, TerminalSize } from './protocol.ts';
import { LabSession, type RestoreOutcome } from './session.ts';
import { idleEntries, readEntries, reconcile, writeEntries, type LabEntry } from './state.ts';

export interface LabsOptions {
  driver: LabDriver;
  /** labs.json and recordings/ (the driver may keep its VMs here too) */
  stateDir: string;
  /** N: at most this many labs, warm ones included; the learner after the Nth is refused */
  capacity: number;
  /** W: VMs booted ahead, waiting for a learner */
  warm?: number;
  spec?: VmSpec;
  /** a lab nobody typed into, attached to or reported from for this long is stopped (disk kept) */
  idleStopMs?: number;
  /** how long a boot may take until the guest agent answers */
  bootTimeoutMs?: number;
  /** the guest's workshop reports, attributed by the host to the learner who holds the VM */
  onReport?: (learner: string, body: string) => Promise<RequestAnswer>;
  /** a lab changed state: for a dashboard */
  onChange?: (lab: LabInfo) => void;
  log?: (message: string) => void;
  now?: () => number;
}

export type Claim = { kind: 'claimed'; vm: string; warm: boolean } | { kind: 'full'; message: string };

/** How many times a guest that died while booting is booted again (connectAfterBoot). */
const BOOT_RETRIES = 2;

export type LabPhase = 'booting' | 'ready' | 'stopping' | 'stopped';

export interface LabInfo {
  vm: string;
  learner: string | null;
  phase: LabPhase;
  lastActive: number;
  /** from start to the agent's hello, the last time this host booted it */
  bootMs: number | null;
  recording: string;
}

/** A learner asked for something their lab cannot do (none claimed): the server answers 4xx. */
export class LabError extends Error {}

interface Runtime {
  phase: LabPhase;
  channel: LabChannel | null;
  connecting: Promise<LabChannel> | null;
  recorder: CastRecorder | null;
  session: LabSession | null;
  watchers: Set<(data: Buffer) => void>;
  bootMs: number | null;
  /** lifecycle steps of one VM run one after another */
  queue: Promise<unknown>;
}

const STEP = /^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/;

export class Labs {
  private entries: LabEntry[];
  private readonly rt = new Map<string, Runtime>();
  private readonly o: Required<Omit<LabsOptions, 'onReport' | 'onChange'>> & Pick<LabsOptions, 'onReport' | 'onChange'>;
  private timer: NodeJS.Timeout | null = null;

  private constructor(o: LabsOptions, entries: LabEntry[]) {
    this.o = {
      warm: 0,
      spec: DEFAULT_SPEC,
      idleStopMs: 20 * 60_000,
      bootTimeoutMs: 300_000,
      log: () => {},
      now: Date.now,
      ...o,
    };
    this.entries = entries;
    for (const e of entries) this.runtime(e.vm);
  }

  /** Opens the labs of a state folder: the VMs a previous server left are found again. */
  static async open(o: LabsOptions): Promise<Labs> {
    if (!Number.isInteger(o.capacity) || o.capacity < 0) throw new Error('capacity must be a whole number');
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    const vms = await o.driver.list();
    const labs = new Labs(o, reconcile(readEntries(o.stateDir), vms, (o.now ?? Date.now)()));
    for (const v of vms) {
      const r = labs.runtime(v.id);
      r.phase = v.status.state === 'running' ? 'booting' : 'stopped';
    }
    labs.save();
    return labs;
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  private runtime(vm: string): Runtime {
    let r = this.rt.get(vm);
    if (!r) {
      r = { phase: 'stopped', channel: null, connecting: null, recorder: null, session: null, watchers: new Set(), bootMs: null, queue: Promise.resolve() };
      this.rt.set(vm, r);
    }
    return r;
  }

  private save(): void {
    writeEntries(this.o.stateDir, this.entries);
  }

  private serial<T>(vm: string, fn: () => Promise<T>): Promise<T> {
    const r = this.runtime(vm);
    const next = r.queue.then(fn, fn);
    r.queue = next.catch(() => {});
    return next;
  }

  private setPhase(e: LabEntry, phase: LabPhase): void {
    const r = this.runtime(e.vm);
    if (r.phase === phase) return;
    r.phase = phase;
    this.o.onChange?.(this.infoOf(e));
  }

  private infoOf(e: LabEntry): LabInfo {
    const r = this.runtime(e.vm);
    return { vm: e.vm, learner: e.learner, phase: r.phase, lastActive: e.lastActive, bootMs: r.bootMs, recording: this.recordingPath(e.vm) };
  }

  recordingPath(vm: string): string {
    return join(this.o.stateDir, 'recordings', `${vm}.cast`);
  }

  list(): LabInfo[] {
    return this.entries.map((e) => this.infoOf(e));
  }

  /** The lab a learner holds; undefined when none. */
  labOf(learner: string): LabInfo | undefined {
    const e = this.entries.find((x) => x.learner === learner);
    return e ? this.infoOf(e) : undefined;
  }

  private touch(e: LabEntry): void {
    e.lastActive = this.o.now();
    // activity is saved with the next change of the file, not on every keystroke
  }

  // ---- bringing a VM up ----------------------------------------------------------------------

  private newEntry(learner: string | null): LabEntry {
    const e: LabEntry = { vm: `lab-${randomBytes(5).toString('hex')}`, learner, claimedAt: learner ? new Date(this.o.now()).toISOString() : null, lastActive: this.o.now(), bootId: null };
    this.entries.push(e);
    this.runtime(e.vm).phase = 'booting';
    this.save();
    return e;
  }

  /** Creates the VM of a new entry and boots it; on failure the entry and its VM are dropped. */
  private createAndBoot(e: LabEntry): Promise<void> {
    return this.serial(e.vm, async () => {
      try {
        await this.o.driver.create(e.vm, this.o.spec);
        await this.up(e);
      } catch (err) {
        this.o.log(`lab ${e.vm} failed to boot: ${(err as Error).message}`);
        this.entries = this.entries.filter((x) => x !== e);
        this.save();
        await this.o.driver.destroy(e.vm).catch(() => {});
        this.rt.delete(e.vm);
        throw err;
      }
    });
  }

  /**
   * The VM running and its agent connected. Returns whether the guest booted since the host last
   * spoke to it (then its mounts are gone). Call inside serial().
   */
  private async up(e: LabEntry): Promise<{ channel: LabChannel; rebooted: boolean }> {
    const r = this.runtime(e.vm);
    if (r.channel?.isOpen) return { channel: r.channel, rebooted: false };
    const t0 = this.o.now();
    const st = await this.o.driver.status(e.vm);
    if (st.state === 'absent') throw new LabError(`lab ${e.vm} has no VM any more`);
    let started = false;
    if (st.state === 'stopped') {
      this.setPhase(e, 'booting');
      await this.o.driver.start(e.vm);
      started = true;
    }
    const channel = started ? await this.connectAfterBoot(e) : await this.connect(e);
    if (started) r.bootMs = this.o.now() - t0;
    const rebooted = e.bootId !== null && e.bootId !== channel.hello.bootId;
    e.bootId = channel.hello.bootId;
    this.save();
    this.setPhase(e, 'ready');
    return { channel, rebooted };
  }

  /**
   * The channel of a guest just started. A guest that stops before its agent answers is booted
   * again, up to twice: under multi-threaded TCG an x86 kernel can die at boot ("Oops: int3", a race
   * of qemu's in code patching; twice in a day in the VM stage), and a learner should not see that.
   * A third death is the error.
   */
  private async connectAfterBoot(e: LabEntry): Promise<LabChannel> {
    for (let again = 1; ; again++) {
      try {
        return await this.connect(e);
      } catch (err) {
        if (again > BOOT_RETRIES || !(await this.stoppedWithin(e, 5000))) throw err;
        this.o.log(`lab ${e.vm}: the guest stopped while booting (${(err as Error).message}); booting it again (${again} of ${BOOT_RETRIES})`);
        await this.o.driver.start(e.vm);
      }
    }
  }

  /** Whether the VM is stopped, or stops within ms: its socket can close just before qemu is gone. */
  private async stoppedWithin(e: LabEntry, ms: number): Promise<boolean> {
    for (let waited = 0; ; waited += 100) {
      if ((await this.o.driver.status(e.vm)).state === 'stopped') return true;
      if (waited >= ms) return false;
      await sleep(100);
    }
  }

  private connect(e: LabEntry): Promise<LabChannel> {
    const r = this.runtime(e.vm);
    if (r.channel?.isOpen) return Promise.resolve(r.channel);
    r.connecting ??= (async () => {
      const stream = await this.o.driver.console(e.vm);
      const ch = await LabChannel.connect(stream, { timeoutMs: this.o.bootTimeoutMs, onReport: (body) => this.report(e.vm, body) });
      r.channel = ch;
      ch.onClose((why) => {
        if (r.channel !== ch) return;
        r.channel = null;
        this.o.log(`lab ${e.vm}: ${why}`);
        // the VM may have powered off (a learner's `poweroff` or `reboot`: -no-reboot); the next attach starts it
        void this.o.driver.status(e.vm).then((s) => {
          if (s.state !== 'running' && r.phase === 'ready') this.setPhase(e, 'stopped');
        });
      });
      return ch;
    })().finally(() => {
      r.connecting = null;
    });
    return r.connecting;
  }

  /** After a boot, `workshop goto <current step> --restore` rebuilds what the earlier steps made. */
  private async restore(ch: LabChannel): Promise<RestoreOutcome> {
    const st = await ch.exec('workshop status --json', 120_000);
    let current: unknown;
    let stepNumber: unknown;
    try {
      ({ current, stepNumber } = JSON.parse(st.stdout) as { current?: unknown; stepNumber?: unknown });
    } catch {
      return { kind: 'not needed', why: `workshop status gave no position (exit ${st.code})` };
    }
    if (typeof current !== 'string' || !STEP.test(current)) return { kind: 'not needed', why: 'no chapter started' };
    if (typeof stepNumber !== 'number' || stepNumber <= 1) return { kind: 'not needed', why: `${current} is a chapter's first step` };
    const t0 = this.o.now();
    const r = await ch.exec(`workshop goto ${current} --restore --yes --json`, 600_000);
    if (r.code === 0) return { kind: 'restored', step: current, ms: this.o.now() - t0 };
    return { kind: 'failed', step: current, error: (r.stderr.trim().split('\n').pop() ?? '') || `exit ${r.code}` };
  }

  // ---- the API for the class server ------------------------------------------------------------

  /** Gives the learner a lab: theirs if they have one, a warm one, or a new one; or refuses. */
  async claim(learner: string): Promise<Claim> {
    const mine = this.entries.find((e) => e.learner === learner);
    if (mine) return { kind: 'claimed', vm: mine.vm, warm: this.runtime(mine.vm).phase === 'ready' };
    const free = this.entries.filter((e) => e.learner === null);
    const pick = free.find((e) => this.runtime(e.vm).phase === 'ready') ?? free[0];
    if (pick) {
      pick.learner = learner;
      pick.claimedAt = new Date(this.o.now()).toISOString();
      pick.lastActive = this.o.now();
      this.save();
      this.o.onChange?.(this.infoOf(pick));
      void this.fillWarm().catch(() => {});
      return { kind: 'claimed', vm: pick.vm, warm: this.runtime(pick.vm).phase === 'ready' };
    }
    if (this.entries.length >= this.o.capacity) {
      return { kind: 'full', message: `all ${this.o.capacity} labs of this class are in use; ask your instructor (they can raise --labs, or free a lab)` };
    }
    const e = this.newEntry(learner);
    void this.createAndBoot(e).catch(() => {});
    void this.fillWarm().catch(() => {});
    return { kind: 'claimed', vm: e.vm, warm: false };
  }

  /**
   * A terminal on the learner's own lab, booting or waking it first (and restoring the current step
   * after a boot). An earlier terminal of the same lab is closed: one at a time, and the next
   * attach finds the same shell.
   */
  attach(learner: string, size: TerminalSize): Promise<LabSession> {
    const e = this.entries.find((x) => x.learner === learner);
    if (!e) return Promise.reject(new LabError('you hold no lab: join first'));
    return this.serial(e.vm, async () => {
      if (this.entries.indexOf(e) < 0) throw new LabError('your lab was removed: join again');
      const r = this.runtime(e.vm);
      r.session?.close();
      r.session = null;
      const { channel, rebooted } = await this.up(e);
      const restored = rebooted ? await this.restore(channel) : null;
      let rec = r.recorder;
      if (!rec) {
        rec = new CastRecorder(this.recordingPath(e.vm), { ...size, title: learner, now: this.o.now });
        r.recorder = rec;
        if (!rec.created) rec.resize(size.cols, size.rows);
      } else rec.resize(size.cols, size.rows);
      const recorder = rec;
      const term = channel.openTerminal(size, 'main');
      term.onData((data) => {
        recorder.output(data);
        for (const w of r.watchers) w(data);
      });
      const session = new LabSession(e.vm, learner, term, recorder, () => this.touch(e), restored);
      r.session = session;
      term.onClose(() => {
        if (r.session === session) r.session = null;
      });
      this.touch(e);
      this.save();
      return session;
    });
  }

  /** The learner's current terminal, if one is attached (the instructor's take-over types into it). */
  sessionOf(learner: string): LabSession | undefined {
    const e = this.entries.find((x) => x.learner === learner);
    const s = e ? this.runtime(e.vm).session : null;
    return s?.isOpen ? s : undefined;
  }

  /** Everything the learner's terminal shows from now on, read-only; returns the unsubscribe. */
  watch(learner: string, cb: (data: Buffer) => void): () => void {
    const e = this.entries.find((x) => x.learner === learner);
    if (!e) throw new LabError('that learner holds no lab');
    const r = this.runtime(e.vm);
    r.watchers.add(cb);
    return () => r.watchers.delete(cb);
  }

  /** A marker on the learner's recording (e.g. a check event the server learned otherwise). */
  mark(learner: string, label: string): void {
    const e = this.entries.find((x) => x.learner === learner);
    if (e) this.recorderFor(e).marker(label.slice(0, 200));
  }

  private recorderFor(e: LabEntry): CastRecorder {
    const r = this.runtime(e.vm);
    r.recorder ??= new CastRecorder(this.recordingPath(e.vm), { cols: 80, rows: 24, title: e.learner ?? e.vm, now: this.o.now });
    return r.recorder;
  }

  /** A command in the learner's lab, as root (the server's reset to a step: `workshop goto ... --restore`). */
  exec(learner: string, command: string, timeoutMs?: number): Promise<ExecResult> {
    const e = this.entries.find((x) => x.learner === learner);
    if (!e) return Promise.reject(new LabError('that learner holds no lab'));
    return this.serial(e.vm, async () => (await this.up(e)).channel.exec(command, timeoutMs));
  }

  /** The channel's round trip to the learner's guest agent, in ms (a health check; the latency floor). */
  async ping(learner: string): Promise<number> {
    const e = this.entries.find((x) => x.learner === learner);
    const ch = e ? this.runtime(e.vm).channel : null;
    if (!ch?.isOpen) throw new LabError('that learner\u2019s lab is not connected');
    return ch.ping();
  }

  private async report(vm: string, body: string): Promise<RequestAnswer> {
    const e = this.entries.find((x) => x.vm === vm);
    if (!e?.learner) return { status: 409, body: '{"error":"no learner holds this lab yet"}' };
    this.touch(e);
    try {
      const v = JSON.parse(body) as { kind?: unknown; step?: unknown; outcome?: unknown };
      if (typeof v.step === 'string' && typeof v.kind === 'string') {
        this.recorderFor(e).marker(`${v.step} ${v.kind}${typeof v.outcome === 'string' ? ` ${v.outcome}` : ''}`.slice(0, 200));
      }
    } catch {
      // not JSON: the server refuses it; no marker
    }
    if (!this.o.onReport) return { status: 503, body: '{"error":"this host takes no reports"}' };
    return this.o.onReport(e.learner, body);
  }

  /** Boots VMs until W wait unclaimed (within the capacity), and wakes stopped unclaimed ones. */
  async fillWarm(): Promise<void> {
    const boots: Promise<unknown>[] = [];
    for (const e of this.entries.filter((x) => x.learner === null)) {
      if (this.runtime(e.vm).phase !== 'ready') boots.push(this.serial(e.vm, () => this.up(e)));
    }
    while (this.entries.filter((x) => x.learner === null).length < this.o.warm && this.entries.length < this.o.capacity) {
      boots.push(this.createAndBoot(this.newEntry(null)));
    }
    await Promise.all(boots);
  }

  /** Stops the labs idle for longer than idleStopMs; their disks stay. Returns their VM ids. */
  async stopIdle(): Promise<string[]> {
    const running = (e: LabEntry) => this.runtime(e.vm).phase === 'ready' || this.runtime(e.vm).phase === 'booting';
    const idle = idleEntries(this.entries, this.o.now(), this.o.idleStopMs).filter(running);
    await Promise.all(idle.map((e) => this.stopLab(e, 'idle')));
    return idle.map((e) => e.vm);
  }

  private stopLab(e: LabEntry, why: string): Promise<void> {
    return this.serial(e.vm, async () => {
      const r = this.runtime(e.vm);
      this.setPhase(e, 'stopping');
      this.detach(r);
      await this.o.driver.stop(e.vm);
      this.setPhase(e, 'stopped');
      this.o.log(`lab ${e.vm} of ${e.learner ?? 'nobody'} stopped (${why}); its disk is kept`);
    });
  }

  /** Closes the host's side of a lab (terminal, channel, recording); the VM is not touched. */
  private detach(r: Runtime): void {
    r.session?.close();
    r.session = null;
    r.channel?.close();
    r.channel = null;
    r.recorder?.close();
    r.recorder = null;
  }

  /** Gives the learner a fresh lab from the base image: their VM and its disk are removed. */
  async reset(learner: string): Promise<Claim> {
    const e = this.entries.find((x) => x.learner === learner);
    if (e) await this.remove(e);
    return this.claim(learner);
  }

  /**
   * The learner left the class for good (the instructor removed them, or freed their name): their
   * VM and disk are removed, its place goes back to the pool, their recording stays.
   */
  async release(learner: string): Promise<boolean> {
    const e = this.entries.find((x) => x.learner === learner);
    if (!e) return false;
    await this.remove(e);
    return true;
  }

  private remove(e: LabEntry): Promise<void> {
    return this.serial(e.vm, async () => {
      this.detach(this.runtime(e.vm));
      await this.o.driver.destroy(e.vm);
      this.entries = this.entries.filter((x) => x !== e);
      this.save();
    });
  }

  /** After the class: every VM and its disk removed (the recordings stay). */
  async expire(): Promise<void> {
    this.stopTimers();
    await Promise.all(this.entries.map((e) => this.remove(e)));
    for (const v of await this.o.driver.list()) await this.o.driver.destroy(v.id);
    this.entries = [];
    this.save();
  }

  /** Idle stop and the warm pool, checked every `everyMs`. */
  startTimers(everyMs = 60_000): void {
    this.stopTimers();
    this.timer = setInterval(() => {
      void this.stopIdle().catch((err: Error) => this.o.log(`idle stop: ${err.message}`));
      void this.fillWarm().catch((err: Error) => this.o.log(`warm pool: ${err.message}`));
    }, everyMs);
    this.timer.unref();
  }

  stopTimers(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The server is going away: its connections close, the VMs run on for the next server. */
  close(): void {
    this.stopTimers();
    for (const r of this.rt.values()) this.detach(r);
    this.save();
  }
}
