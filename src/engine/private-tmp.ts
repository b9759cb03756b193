// The self-test runs in a mount namespace of its own with fresh, empty /tmp and /var/tmp, so that
// every entry that appears there during a chapter is that chapter's: the residue check then
// blames a chapter only for its own files, never for another process's (seen: a concurrent
// test's /tmp folder failed overlayfs and capstone). What workshop itself needs from the old
// /tmp (the home, the lesson pack, the project) is bound back in at the same paths. The old /tmp
// is bound with what is mounted in it (--rbind): inside a self-test that runs chapters in
// parallel (selftest-parallel.ts), each chapter's home lies in the parent's home, itself a mount.
import { mkdir, realpath } from 'node:fs/promises';
import { envError } from '../errors.ts';
import path from 'node:path';
import { runAttached } from '../sys/exec.ts';
import { isPathUnder } from '../checks/proc.ts';
import { which } from '../lessons/requires.ts';

/** Set inside the namespace: the command runs there instead of starting it again. */
export const PRIVATE_TMP_ENV = 'WORKSHOP_PRIVATE_TMP';

export const inPrivateTmp = (): boolean => process.env[PRIVATE_TMP_ENV] === '1';

// Runs as root inside `unshare --mount --propagation private`, so none of these mounts is seen
// outside, and all of them end with the namespace. The folder in /run is on the real file system,
// so it is removed on every path, and a failure is exit 3 with what failed (never mount's own
// exit code 32). $1… is the command to exec at the end.
const SCRIPT = `set -u
fail() {
  printf 'error: cannot give the self-test a private /tmp and /var/tmp: %s\\n' "$1" >&2
  printf 'hint: workshop binds its home, the lessons and itself back into them; check that they exist and that /run is writable\\n' >&2
  exit 3
}
bindback() { # bindback OLD BASE KEEP...
  o=$1 b=$2; shift 2
  for rel in "$@"; do
    [ -d "$o/$rel" ] || { echo "$b/$rel is not a folder"; return 1; }
    mkdir -p "$b/$rel" && mount --bind "$o/$rel" "$b/$rel" || return 1
  done
}
fresh() { # fresh BASE KEEP...: an empty tmpfs over BASE, with each KEEP folder bound back
  base=$1; shift
  old=$(mktemp -d /run/workshop-oldtmp.XXXXXX) || fail "mktemp -d /run/workshop-oldtmp.XXXXXX failed"
  if ! why=$( { mount --rbind "$base" "$old" && mount -t tmpfs -o mode=1777 workshop-private-tmp "$base" && bindback "$old" "$base" "$@"; } 2>&1 ); then
    umount -R "$old" 2>/dev/null
    rmdir "$old"
    fail "$why"
  fi
  umount -R "$old" && rmdir "$old" || fail "cannot remove $old"
}
IFS='
'
fresh /tmp $WS_KEEP_TMP
fresh /var/tmp $WS_KEEP_VARTMP
unset IFS WS_KEEP_TMP WS_KEEP_VARTMP
exec "$@"`;

/** The folders of `keep` that lie in `base`, relative to it (deduplicated, parents only). */
export function keptUnder(base: string, keep: readonly string[]): string[] {
  const inside = [...new Set(keep.filter((p) => p !== base && isPathUnder(p, base)).map((p) => path.relative(base, p)))];
  return inside.filter((p) => !inside.some((q) => q !== p && isPathUnder(p, q))).sort();
}

/**
 * The command that runs this Node (`node`, process.execPath by default) with `nodeArgs` inside a
 * private namespace, with each folder of `keep` that lies in /tmp or /var/tmp bound back, and
 * Node's own folder: a checkout under /tmp runs its pinned node_modules/node/bin/node, which the
 * fresh /tmp would hide (CI's rehearsal: "exec: …/node_modules/node/bin/node: not found", exit 127).
 * Null when that cannot be done here (no unshare).
 */
export async function privateTmpCommand(nodeArgs: readonly string[], keep: readonly string[], node = process.execPath): Promise<{ cmd: string; args: string[]; env: Record<string, string> } | null> {
  if ((await which('unshare')) === undefined) return null;
  const real = await Promise.all([...keep, path.dirname(node)].map((p) => realpath(p).catch(() => path.resolve(p))));
  return {
    cmd: 'unshare',
    args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', SCRIPT, 'sh', node, ...nodeArgs],
    env: { [PRIVATE_TMP_ENV]: '1', WS_KEEP_TMP: keptUnder('/tmp', real).join('\n'), WS_KEEP_VARTMP: keptUnder('/var/tmp', real).join('\n') },
  };
}

/**
 * Runs this same command line again inside the private namespace and returns its exit code, or
 * null when that cannot be done here (no unshare), and the command should run as it is.
 */
export async function rerunWithPrivateTmp(argv: readonly string[], keep: readonly string[], create: readonly string[] = []): Promise<number | null> {
  const given = process.argv[1];
  if (given === undefined || (await which('unshare')) === undefined) return null;
  // a home that does not exist yet is made now, as the command would make it: only what exists can be bound back
  for (const dir of create) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw envError(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'give --home a folder that can be created (run as root)');
    }
  }
  // Node runs the realpath of its script; a symlinked path (node_modules -> elsewhere) under /tmp
  // would not exist inside.
  const script = await realpath(given).catch(() => path.resolve(given));
  const c = await privateTmpCommand([...process.execArgv, script, ...argv], [...keep, path.dirname(script)]);
  return c === null ? null : runAttached(c.cmd, c.args, { env: c.env });
}
