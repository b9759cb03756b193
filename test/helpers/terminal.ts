// A second terminal for tests: a bash whose keyboard is a pipe, as a learner's other window.
// What it prints (stdout and stderr) collects in `output`. Close it in `finally`/`afterAll`.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect } from 'vitest';
import { sleep } from './wait.ts';

export class Terminal {
  readonly proc: ChildProcessWithoutNullStreams;
  output = '';
  constructor(cwd: string) {
    this.proc = spawn('bash', [], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Types the lines, each followed by Enter, without waiting. */
  type(...lines: string[]): void {
    for (const l of lines) this.proc.stdin.write(`${l}\n`);
  }

  /** Types the lines and waits until a marker after them is printed (so that each line has run); returns what they printed. */
  async run(lines: string[], ms = 10_000): Promise<string> {
    const marker = `__done_${Math.random().toString(36).slice(2)}`;
    const from = this.output.length;
    this.type(...lines, `echo ${marker}`);
    for (let t = 0; t < ms && !this.output.includes(marker, from); t += 50) await sleep(50);
    expect(this.output.slice(from), `no ${marker} after: ${lines.join('; ')}`).toContain(marker);
    return this.output.slice(from, this.output.indexOf(marker, from));
  }

  /** Ends whatever shell reads the keyboard and the bash behind it; killed if it has not exited after 3 s. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.stdin.end();
    await Promise.race([new Promise((r) => this.proc.once('exit', r)), sleep(3000)]);
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
