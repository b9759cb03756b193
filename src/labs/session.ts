// A learner's handle on their terminal: bound to one VM when it is made, it reaches nothing else.
// Everything it shows is recorded; everything typed into it counts as activity (idle stop).
import type { CastRecorder } from './asciicast.ts';
import type { HostTerminal } from './channel.ts';
import type { TerminalSize } from './protocol.ts';

/** What `workshop goto --restore` did when a stopped lab came back (mounts do not survive a boot). */
export type RestoreOutcome =
  | { kind: 'not needed'; why: string }
  | { kind: 'restored'; step: string; ms: number }
  | { kind: 'failed'; step: string; error: string };

export class LabSession {
  readonly vm: string;
  readonly learner: string;
  /** what `goto --restore` did when this attach booted the lab; null when it was running already */
  readonly restored: RestoreOutcome | null;
  private readonly terminal: HostTerminal;
  private readonly recorder: CastRecorder;
  private readonly touch: () => void;
  /** what the terminal showed before anyone listened (a prompt that came at once): given to the first listener */
  private early: Buffer[] | null = [];

  constructor(vm: string, learner: string, terminal: HostTerminal, recorder: CastRecorder, touch: () => void, restored: RestoreOutcome | null) {
    this.vm = vm;
    this.learner = learner;
    this.terminal = terminal;
    this.recorder = recorder;
    this.touch = touch;
    this.restored = restored;
    let bytes = 0;
    terminal.onData((d) => {
      if (this.early === null || bytes > 1 << 20) return;
      bytes += d.length;
      this.early.push(d);
    });
  }

  get isOpen(): boolean {
    return this.terminal.isOpen;
  }

  write(data: string | Buffer): void {
    this.touch();
    this.terminal.write(data);
  }

  resize(size: TerminalSize): void {
    if (!this.terminal.isOpen) return;
    this.recorder.resize(size.cols, size.rows);
    this.terminal.resize(size);
  }

  onData(cb: (data: Buffer) => void): () => void {
    const off = this.terminal.onData(cb);
    const early = this.early;
    this.early = null;
    for (const d of early ?? []) cb(d);
    return off;
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.terminal.onClose(cb);
  }

  /** Detaches; the shell goes on in tmux, and the next attach finds it. */
  close(): void {
    this.terminal.close();
  }
}
