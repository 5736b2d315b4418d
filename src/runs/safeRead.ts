/**
 * Reading a file of a run folder that anyone may have committed (a cloned repository, Restricted Mode):
 * only a regular file, never through a symlink (its last component), never blocking on a FIFO, and never
 * more than a cap. `run.json -> /dev/zero` read with readFileSync grows a string until the extension host
 * aborts (bad_alloc); a FIFO named `.lock` blocks the host's thread on open() for ever.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Caps per file (bytes): far above what the trainer or the callback writes. */
export const MAX_INFO_BYTES = 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
export const MAX_NOTES_BYTES = 1024 * 1024;
export const MAX_LOCK_BYTES = 64 * 1024;

/** O_NOFOLLOW and O_NONBLOCK where the platform has them (POSIX); Windows has neither (0). */
export const SAFE_OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** A file that is not a regular one (a device, a FIFO, a folder) or larger than its cap. */
export class UnsafeFileError extends Error {
  constructor(
    readonly file: string,
    readonly code: 'ENOTREG' | 'EFBIG',
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

/**
 * Opens `file` for reading if it is a regular file (a symlink, whatever it points to, fails with ELOOP
 * where O_NOFOLLOW exists). Returns the descriptor and its size; throws the open error (ENOENT…) or
 * UnsafeFileError. The caller closes the descriptor.
 */
export function openRegular(file: string): { fd: number; size: number } {
  const fd = openSync(file, SAFE_OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? 'a directory'
        : st.isFIFO()
          ? 'a FIFO'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device'
            : 'a special file';
      throw new UnsafeFileError(file, 'ENOTREG', `${file} is ${kind}, not a regular file`);
    }
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The text of a regular file of at most `maxBytes` bytes; throws (see openRegular) otherwise. */
export function readRegularFile(file: string, maxBytes: number): string {
  const { fd, size } = openRegular(file);
  try {
    if (size > maxBytes) throw new UnsafeFileError(file, 'EFBIG', `${file} is larger than ${maxBytes} bytes (${size})`);
    // One byte past the cap: a file that grew after fstat is refused too, never read without bound.
    const buf = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got > maxBytes) throw new UnsafeFileError(file, 'EFBIG', `${file} is larger than ${maxBytes} bytes`);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** readRegularFile + JSON.parse; undefined when missing, unsafe, too large or not JSON. */
export function readJsonFile(file: string, maxBytes: number): unknown {
  try {
    return JSON.parse(readRegularFile(file, maxBytes));
  } catch {
    return undefined;
  }
}
