// Runs Debian's nginx with the committed docs/classroom-nginx.conf, in a temporary prefix, on
// loopback only, in the foreground (we own its pid). The only changes to the file are the ports:
// the test's instances instead of 8081/8082, and 127.0.0.1:<free port> instead of 8080.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './pg.ts';

export const NGINX_CONF = fileURLToPath(new URL('../../docs/classroom-nginx.conf', import.meta.url));
const NGINX = '/usr/sbin/nginx';

/** True when the nginx tests must be skipped: nginx missing on a dev machine (never on CI). */
export function skipNginx(): boolean {
  if (existsSync(NGINX)) return false;
  if (process.env['CI'] === 'true') return false; // startNginx throws and the test fails
  console.warn('skip: nginx is not installed (/usr/sbin/nginx): the reverse-proxy test is skipped. Install it with: sudo WORKSHOP_CLASSROOM_PG=1 bash vagrant/provision.sh');
  return true;
}

/** The committed site file with the test's ports; throws if the file no longer has the lines we adapt. */
export function adaptSite(conf: string, listenPort: number, upstreams: readonly number[]): string {
  const servers = [...conf.matchAll(/^(\s*)server 127\.0\.0\.1:\d+(.*);$/gm)];
  if (servers.length !== upstreams.length) throw new Error(`docs/classroom-nginx.conf has ${servers.length} upstream servers; the test runs ${upstreams.length}`);
  let i = 0;
  let out = conf.replace(/^(\s*)server 127\.0\.0\.1:\d+(.*);$/gm, (_m, ind: string, rest: string) => `${ind}server 127.0.0.1:${upstreams[i++] ?? 0}${rest};`);
  if (!/^\s*listen 8080;$/m.test(out)) throw new Error('docs/classroom-nginx.conf no longer has "listen 8080;"');
  out = out.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${listenPort};`);
  return out;
}

export interface RunningNginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startNginx(upstreams: readonly number[]): Promise<RunningNginx> {
  if (!existsSync(NGINX)) throw new Error('nginx is not installed (/usr/sbin/nginx); provision.sh installs it when CI=true or WORKSHOP_CLASSROOM_PG=1');
  const prefix = mkdtempSync(join(tmpdir(), 'ws-nginx-'));
  const port = await freePort();
  const temp = join(prefix, 'temp');
  mkdirSync(temp);
  // As root, nginx's workers run as nobody and write request bodies to the temp folder.
  if (process.getuid?.() === 0) chownSync(temp, 65534, 65534);
  writeFileSync(join(prefix, 'site.conf'), adaptSite(readFileSync(NGINX_CONF, 'utf8'), port, upstreams));
  // What Debian's /etc/nginx/nginx.conf provides around a conf.d file, in the prefix instead.
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
worker_processes 1;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  include ${prefix}/site.conf;
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful: the workers finish and leave with the master
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await canConnect(port)) return { url: `http://127.0.0.1:${port}`, port, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '';
  await stop();
  throw new Error(`nginx did not start: ${stderr}${log}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
