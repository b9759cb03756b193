// One QMP command on a qemu's control socket: the greeting, qmp_capabilities, the command, its
// answer. Events that arrive in between are skipped.
import { connect } from 'node:net';

export function qmp(socketPath: string, command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let buf = '';
    let stage: 'greeting' | 'capabilities' | 'command' = 'greeting';
    const timer = setTimeout(() => done(new Error(`qmp ${command}: no answer in ${timeoutMs} ms`)), timeoutMs);
    function done(err: Error | null, value?: unknown): void {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(value);
    }
    s.on('error', (err) => done(err));
    s.on('close', () => done(new Error(`qmp ${command}: the socket closed`)));
    s.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let msg: { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.event !== undefined) continue;
        if (stage === 'greeting' && msg.QMP !== undefined) {
          stage = 'capabilities';
          s.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if (msg.error) {
          done(new Error(`qmp ${command}: ${msg.error.desc ?? 'error'}`));
        } else if (stage === 'capabilities' && msg.return !== undefined) {
          stage = 'command';
          s.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
        } else if (stage === 'command' && msg.return !== undefined) {
          done(null, msg.return);
        }
      }
    });
  });
}
