// Flag values of the classroom subcommands, parsed and checked, and the home they write to.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { envError, usageError } from '../../../errors.ts';
import { formatSize, parseSize } from '../../../classroom/limits.ts';
import { visible } from '../../../classroom/safe-text.ts';

/** `10m`, `90s`, `1h`, `1h30m`, or a bare number of minutes, in milliseconds. */
export function parseDuration(flag: string, v: string): number {
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 60_000;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s);
  if (!m || s === '') throw usageError(`--${flag} ${visible(v)}: not a duration`, 'write it like 10m, 90s, 1h or 1h30m');
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

export function parseCount(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw usageError(`--${flag} ${visible(v)}: expected a whole number from ${min} to ${max}`);
  return Number(v);
}

/** A server address as the learner or instructor typed it: http(s)://host[:port], no path. */
export function parseOrigin(v: string): string {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(v) ? v : `http://${v}`);
  } catch {
    throw usageError(`${visible(v)}: not a server address`, 'write it like http://10.0.2.2:7878 (the URL that `workshop classroom serve` printed)');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`${visible(v)}: only http:// and https:// servers`);
  return u.origin;
}

/** The class lives under WORKSHOP_HOME; an instructor on a laptop is often not root. */
export function writableHome(home: string): void {
  try {
    mkdirSync(home, { recursive: true });
    accessSync(home, constants.W_OK);
  } catch (err) {
    throw envError(`cannot write to ${home} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'run as root, or keep the class elsewhere: --home ~/class (or WORKSHOP_HOME=~/class)');
  }
}

/** A size flag: `8MiB`, `512M`, `1G`, or bytes; at least `min`. */
export function parseSizeFlag(flag: string, v: string, min: number): number {
  const n = parseSize(v);
  if (n === undefined || n < min) throw usageError(`--${flag} ${visible(v)}: expected a size of at least ${formatSize(min)}`, 'write it like 8MiB, 512M or 2G');
  return n;
}

/**
 * --host: an IP address, or a host name this machine resolves (localhost). Checked before
 * anything opens, so that a typo is a usage error and not a failed listen.
 */
export function parseHost(v: string): string {
  if (isIP(v) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(v)) return v;
  throw usageError(`--host "${visible(v)}": not an address`, 'an address of this machine, like 0.0.0.0 (every interface), 127.0.0.1, 192.168.56.1 or ::');
}
