// What a deletion leaves in an overlay's upperdir: whiteouts and opaque directories.
// Recorded on kernel 6.18 (test/fixtures/getfattr/): `rm merged/file` leaves upper/file as
// `c--------- 0,0` with 2 links (the kernel links a shared whiteout from workdir), and
// `rm -rf merged/etc; mkdir merged/etc` leaves upper/etc with trusted.overlay.opaque="y".

import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { Check, Verdict } from './check.ts';
import { defineCheck, fail, pass } from './check.ts';
import { run } from '../sys/exec.ts';
import { ctxPath } from './mounts.ts';

/** Decodes getfattr's quoted text: `\"`, `\\` and octal bytes like `\012`. */
function unquote(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const oct = /^\\([0-7]{3})/.exec(s.slice(i, i + 4))?.[1];
    if (oct !== undefined) {
      bytes.push(parseInt(oct, 8));
      i += 3;
    } else if (s[i] === '\\' && i + 1 < s.length) {
      bytes.push(...Buffer.from(s[++i] ?? '', 'utf8'));
    } else {
      bytes.push(...Buffer.from(s[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses `getfattr --absolute-names -d -m - PATH` output for ONE path into name → value.
 * getfattr picks the encoding per value: `"y"` (text), `0sAP8Q` (base64, for binary values
 * such as trusted.overlay.origin) or `0x79` (with -e hex). Binary values are returned one
 * character per byte (latin1), so `0x79`, `0seQ==` and `"y"` all give `y`.
 * A path without any xattr prints nothing at all, which gives `{}`.
 */
export function parseGetfattr(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let files = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# file: ')) {
      if (++files > 1) throw new Error('getfattr: output for more than one file');
      continue;
    }
    const m = /^([^=\s]+)(?:=(.*))?$/.exec(line);
    const name = m?.[1];
    const raw = m?.[2] ?? '';
    if (name === undefined) throw new Error(`getfattr: unexpected line: ${line}`);
    if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) out[name] = unquote(raw.slice(1, -1));
    else if (/^0x[0-9a-fA-F]*$/.test(raw)) out[name] = Buffer.from(raw.slice(2), 'hex').toString('latin1');
    else if (raw.startsWith('0s')) out[name] = Buffer.from(raw.slice(2), 'base64').toString('latin1');
    else out[name] = raw;
  }
  return out;
}

/** The parts of fs.Stats that the whiteout decision needs, so tests can build one. */
export type FileKind = Pick<Stats, 'isCharacterDevice' | 'isDirectory' | 'isFile' | 'rdev'>;

const kindOf = (st: FileKind): string =>
  st.isFile() ? 'a regular file' : st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? `a character device ${Math.floor(st.rdev / 256) & 0xfff}:${st.rdev & 0xff}` : 'a special file';

/** Pure decision of `isWhiteout`: a character device with device number 0:0. */
export function judgeWhiteout(st: FileKind | undefined, path: string): Verdict {
  const expected = `a whiteout at ${path} (character device 0:0)`;
  if (st === undefined) return fail(expected, `nothing at ${path}`, 'whiteouts live in the upperdir; in the merged view the file is simply gone');
  if (st.isCharacterDevice() && st.rdev === 0) return pass(`${path} is a whiteout (c 0:0)`);
  return fail(expected, `${kindOf(st)} at ${path}`);
}

/**
 * Pure decision of `isOpaqueDir`, from the xattrs of a directory. Overlays mounted inside a
 * user namespace (or with `userxattr`) use user.overlay.* instead of trusted.overlay.*.
 * Kernel 6.7+ also writes opaque="x" on a directory that merely holds xattr whiteouts: that
 * one is not opaque.
 */
export function judgeOpaqueDir(xattrs: Record<string, string>, path: string): Verdict {
  const value = xattrs['trusted.overlay.opaque'] ?? xattrs['user.overlay.opaque'];
  if (value === 'y') return pass(`${path} is opaque (trusted.overlay.opaque=y)`);
  const overlayXattrs = Object.keys(xattrs).filter((k) => k.includes('.overlay.'));
  return fail(
    `an opaque directory at ${path} (trusted.overlay.opaque=y)`,
    value === undefined ? `no opaque xattr${overlayXattrs.length > 0 ? ` (it has ${overlayXattrs.join(', ')})` : ''}` : `trusted.overlay.opaque=${value}`,
    'look in the upperdir: the merged view hides the overlay xattrs',
  );
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** `path` (usually in the upperdir) is a whiteout: the mark of a file deleted from a lower layer. */
export function isWhiteout(path: string): Check {
  return defineCheck(`${path} is a whiteout`, async (ctx) => {
    const abs = ctxPath(ctx, path);
    return judgeWhiteout(await lstatOrUndefined(abs), abs);
  });
}

/** `path` (in the upperdir) is an opaque directory: it hides the lower directory of the same name. */
export function isOpaqueDir(path: string): Check {
  return defineCheck(`${path} is an opaque directory`, async (ctx) => {
    const abs = ctxPath(ctx, path);
    const st = await lstatOrUndefined(abs);
    if (st === undefined || !st.isDirectory()) {
      return fail(`an opaque directory at ${abs}`, st === undefined ? `nothing at ${abs}` : `${kindOf(st)} at ${abs}`);
    }
    const r = await run('getfattr', ['--absolute-names', '-d', '-m', '-', abs], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`${r.command}: ${r.stderr.trim() || `exit ${r.code ?? 'signal'}`}`);
    return judgeOpaqueDir(parseGetfattr(r.stdout), abs);
  });
}
