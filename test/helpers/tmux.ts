// A real terminal for tests: a detached tmux session, typed into with send-keys and read with
// capture-pane, as a learner's terminal would be. Kill it in `finally`.
import { execFileSync } from 'node:child_process';

import { sleep } from './wait.ts';

export const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export class Tmux {
  readonly name: string;
  /** a server of its own (-L): never the learner's tmux, and no race with a server that is exiting */
  private readonly sock: string[];
  private constructor(name: string) {
    this.name = name;
    this.sock = ['-L', name];
  }

  /** A new session `ws-<tag>-<pid>` running bash in `cwd`, with a fixed size. */
  static start(tag: string, opts: { cwd: string; width?: number; height?: number; env?: Record<string, string>; history?: number }): Tmux {
    const t = new Tmux(`ws-${tag}-${process.pid}`);
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    execFileSync('tmux', [...t.sock, 'new-session', '-d', '-s', t.name, '-x', String(opts.width ?? 100), '-y', String(opts.height ?? 30), '-c', opts.cwd, ...env, 'bash --norc --noprofile'], {
      env: { ...process.env, TERM: 'xterm-256color' },
    });
    execFileSync('tmux', [...t.sock, 'set-option', '-t', t.name, 'history-limit', String(opts.history ?? 5000)]);
    return t;
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    execFileSync('tmux', [...this.sock, 'send-keys', '-t', this.name, '-l', line]);
    execFileSync('tmux', [...this.sock, 'send-keys', '-t', this.name, 'Enter']);
  }

  /** Sends tmux key names: `C-c`, `Escape`, `Down`, `Enter`. */
  keys(...keys: string[]): void {
    execFileSync('tmux', [...this.sock, 'send-keys', '-t', this.name, ...keys]);
  }

  /**
   * The visible screen (and with `history`, the scrollback too); with `escapes`, its colours as
   * ANSI codes; with `joined`, a line the terminal wrapped is one line again (as a copy of it is).
   */
  capture(history = false, escapes = false, joined = false): string {
    return execFileSync('tmux', [...this.sock, 'capture-pane', '-p', '-t', this.name, ...(history ? ['-S', '-'] : []), ...(escapes ? ['-e'] : []), ...(joined ? ['-J'] : [])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }

  /** Empties the screen and the scrollback, so that the next capture holds only what comes after. */
  clear(): void {
    execFileSync('tmux', [...this.sock, 'send-keys', '-t', this.name, '-R']);
    execFileSync('tmux', [...this.sock, 'clear-history', '-t', this.name]);
  }

  /** How many lines have scrolled off the top into tmux's scrollback. */
  historySize(): number {
    return Number(execFileSync('tmux', [...this.sock, 'display-message', '-p', '-t', this.name, '#{history_size}'], { encoding: 'utf8' }).trim());
  }

  /** The PID of the pane's shell. */
  panePid(): number {
    return Number(execFileSync('tmux', [...this.sock, 'display-message', '-p', '-t', this.name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
  }

  alive(): boolean {
    try {
      execFileSync('tmux', [...this.sock, 'has-session', '-t', this.name], { stdio: 'ignore' });
      process.kill(this.panePid(), 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits until the screen (with scrollback) matches; returns it, or throws with what was there. */
  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture(true);
      if (re.test(screen)) return screen;
      if (Date.now() > end) throw new Error(`tmux ${this.name}: ${String(re)} did not appear in ${timeoutMs} ms; the screen:\n${screen}`);
      await sleep(50);
    }
  }

  kill(): void {
    try {
      execFileSync('tmux', [...this.sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
