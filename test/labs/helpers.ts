// Helpers of the labs tests: reading a terminal's output, and making sure no VM of a test outlives it.
import { readdirSync, readFileSync } from 'node:fs';
import type { LabSession } from '../../src/labs/session.ts';

/** Terminal text without escape sequences and carriage returns, for matching. */
export function plain(s: string): string {
  return s
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-9;?>=]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[=>78DEHMNOZc]/g, '')
    .replace(/\r/g, '');
}

/** Everything a session shows, with waits on what comes next. */
export class Screen {
  text = '';
  private mark = 0;
  private readonly waiters = new Set<() => void>();

  constructor(s: LabSession) {
    s.onData((d) => {
      this.text += d.toString('utf8');
      for (const w of this.waiters) w();
    });
  }

  /** Waits until the output after the last `since()` matches; returns the plain text since then. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const t = plain(this.text.slice(this.mark));
        if (re.test(t)) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(t);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${re} within ${timeoutMs} ms; the screen said:\n${plain(this.text.slice(this.mark)).slice(-1500)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** From now on, waits look only at new output. */
  since(): this {
    this.mark = this.text.length;
    return this;
  }
}

/** A root prompt as the last text on the screen (bash's `root@host:dir# `; tmux clears below it). */
export const PROMPT = /# *\n*$/;

/** The qemu processes whose command line names this state folder: what a test must not leave. */
export function qemusOf(stateDir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.split('\0')[0]?.includes('qemu-system') && cmd.includes(stateDir)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export { sleep } from '../helpers/wait.ts';

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
