// A hostile class server for the tests of the classroom's clients (join, the sender, status,
// export): it answers whatever the test says, and counts what it was sent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HostileAnswer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** never answer */
  | 'hang'
  /** cut the connection */
  | 'destroy';

export interface HostileServer {
  origin: string;
  /** the requests so far: method, path, authorization header, body */
  requests: Array<{ method: string; path: string; authorization: string | undefined; body: string }>;
  close(): Promise<void>;
}

export async function hostileServer(answer: (req: IncomingMessage, body: string) => HostileAnswer): Promise<HostileServer> {
  const requests: HostileServer['requests'] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d.length + body.length > 1e6 ? '' : d));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
      const a = answer(req, body);
      if (a === 'hang') {
        open.add(res);
        return;
      }
      if (a === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The escape sequence of issue 19: sets the terminal's title and clears its screen. */
export const PWNED = '\u001b]0;PWNED\u0007\u001b[2J';
/** Any raw control character a terminal acts on (C0 but CR/LF/TAB, DEL, C1, bidi). */
export const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
