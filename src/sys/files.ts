// Reading a file that workshop keeps, safely: the progress file and the lockfile both need it.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { envError, type WorkshopError } from '../errors.ts';

const KINDS: ReadonlyArray<[(s: Stats) => boolean, string]> = [
  [(s) => s.isFIFO(), 'a named pipe (FIFO)'],
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
  [(s) => s.isSocket(), 'a socket'],
];

/**
 * Reads a file that workshop keeps (state.json, the lock), refusing anything but a regular file
 * (exit 3): reading a FIFO blocks for ever, and a device may never end. The open does not block
 * (O_NONBLOCK), so a FIFO is seen before it is read. Errors of the open are thrown as they are.
 */
export function readRegularFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    // a socket cannot be opened at all
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw notRegular(path, 'a socket');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, KINDS.find(([is]) => is(st))?.[1] ?? 'not a file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function notRegular(path: string, kind: string): WorkshopError {
  return envError(`${path} is not a regular file: it is ${kind}`, `workshop keeps its own file there; if no workshop command is running, remove it (${kind === 'a directory' ? 'rmdir' : 'rm'} ${path}) and run the command again`);
}
