/**
 * Incremental readers of append-only text files — metrics.jsonl (MetricsTail) and a trainer's output
 * file (TextTail) — sharing one byte-offset tail (`readLinesFrom`): they read only the bytes appended
 * since the last offset, so a host watching a live run never re-reads the whole file on every change.
 *
 * The writer appends whole lines, but a reader can catch it mid-write: the bytes after the last newline
 * are a torn line. They are left unconsumed (the offset stops after the last '\n') and read again, whole,
 * next time. Only when the caller knows the writer is gone (`final`) is a trailing line without newline
 * parsed — a crash may leave a complete last event without its '\n'.
 */
import { closeSync, readSync, statSync } from 'node:fs';
import { type MetricsLine, parseMetricsJsonl } from '../protocol/runFolder';
import { openRegular } from './safeRead';

export interface TailResult {
  /** Parsed lines, in file order. Lines that are not JSON or not metrics lines are skipped. */
  lines: MetricsLine[];
  /** Where to read from next time. */
  offset: number;
  /** The file shrank below the previous offset (replaced or truncated): lines were read from 0 again,
   *  and the caller must drop what it held before. */
  reset: boolean;
  /** Lines that failed to parse (not counting a torn last line). */
  skipped: number;
  /** Bytes past this read's chunk remain in the file (read again to get them). */
  more?: boolean;
}

const NL = 0x0a;
/** Cap one read so a huge backlog (a 100 MB file seen for the first time) is consumed in slices. */
export const MAX_CHUNK = 8 * 1024 * 1024;
/** Smallest chunk of a budgeted read (a line longer than one chunk is skipped as unusable). */
export const MIN_CHUNK = 64 * 1024;

/** What a byte-offset read of complete lines returns (see `readLinesFrom`). */
export interface LinesRead {
  /** Complete lines (each with its '\n'; the last one may lack it only on a `final` read), or empty. */
  bytes: Buffer;
  /** Where to read from next time. */
  offset: number;
  /** The file shrank below the previous offset: read from 0 again. */
  reset: boolean;
  /** Bytes past this read's chunk remain in the file (absent when the read stopped at the end at once). */
  more?: boolean;
  /** One line longer than a whole chunk was skipped (the offset moved past it). */
  overlong?: boolean;
  /** The file does not exist (offset 0; `reset` when the caller held a later offset). */
  missing?: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * The byte-offset tail every reader of an append-only text file shares (metrics.jsonl, a trainer's output
 * file): the complete lines appended to `file` since `offset`, at most `maxChunk` bytes. The bytes after
 * the last newline are a torn line: left unconsumed (read again, whole, next time) unless `final` says the
 * writer is gone. Splits on the byte, not on decoded text, so a multi-byte character cut by the writer is
 * never decoded.
 */
export function readLinesFrom(file: string, offset: number, opts: { final?: boolean; maxChunk?: number } = {}): LinesRead {
  let fd: number;
  let size: number;
  try {
    // A regular file only, not through a symlink, never blocking (a FIFO would block the host on open).
    ({ fd, size } = openRegular(file));
  } catch (e) {
    // Not there (yet) reads as empty; anything else (a folder, a device, a FIFO, a link) is an error the
    // caller keeps on its run.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { bytes: EMPTY, offset: 0, reset: offset > 0, missing: true };
    throw e;
  }
  try {
    let reset = false;
    if (size < offset) {
      reset = true;
      offset = 0;
    }
    if (size === offset) return { bytes: EMPTY, offset, reset };
    const maxChunk = opts.maxChunk ?? MAX_CHUNK;
    const want = Math.min(size - offset, maxChunk);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    const data = buf.subarray(0, got);
    const lastNl = data.lastIndexOf(NL);
    const reachedEnd = offset + got >= size;
    let consumed = lastNl + 1;
    if (opts.final && reachedEnd) consumed = got;
    else if (lastNl < 0 && got === maxChunk) {
      // One line longer than a whole chunk: nothing a line reader can use; skip it.
      return { bytes: EMPTY, offset: offset + got, reset, more: !reachedEnd, overlong: true };
    }
    if (consumed <= 0) return { bytes: EMPTY, offset, reset, more: !reachedEnd };
    return { bytes: data.subarray(0, consumed), offset: offset + consumed, reset, more: !reachedEnd };
  } finally {
    closeSync(fd);
  }
}

/**
 * Read the metrics appended to `file` since `offset`. A missing file reads as empty (a run that has not
 * logged yet). Reads at most `maxChunk` bytes; call again while `offset` advances to drain a backlog.
 */
export function readMetricsFrom(file: string, offset: number, opts: { final?: boolean; maxChunk?: number } = {}): TailResult {
  const r = readLinesFrom(file, offset, opts);
  // A metrics line longer than a whole chunk is not an event a reader can use: counted as skipped.
  if (r.overlong) return { lines: [], offset: r.offset, reset: r.reset, skipped: 1, more: r.more };
  if (r.bytes.length === 0) {
    const empty: TailResult = { lines: [], offset: r.offset, reset: r.reset, skipped: 0 };
    if (r.more !== undefined) empty.more = r.more;
    return empty;
  }
  // Complete lines only (the buffer starts and ends at line boundaries): the run folder's line parser.
  const { lines, invalid: skipped } = parseMetricsJsonl(r.bytes.toString('utf8'));
  return { lines, offset: r.offset, reset: r.reset, skipped, more: r.more };
}

/** A text file's new complete lines, from a byte offset on (a trainer's output file). */
export class TextTail {
  constructor(
    readonly file: string,
    public offset = 0,
  ) {}

  /** A tail that starts at the current end of `file` (what is there already is not shown), or undefined
   *  when the file does not exist yet. */
  static atEnd(file: string): TextTail | undefined {
    const size = fileSize(file);
    return size === undefined ? undefined : new TextTail(file, size);
  }

  /**
   * The complete lines appended since the last read (without their '\n'), at most `maxChunk` bytes of
   * them; a torn last line waits for its newline. A missing file reads as nothing and keeps the offset;
   * a file that shrank is read from its start again.
   */
  read(maxChunk = 1 << 20): string[] {
    let r: LinesRead;
    try {
      r = readLinesFrom(this.file, this.offset, { maxChunk });
    } catch {
      return []; // not a regular file (a committed link or FIFO): nothing to show
    }
    if (r.missing) return [];
    this.offset = r.offset;
    if (r.bytes.length === 0) return [];
    const text = r.bytes.toString('utf8');
    return text.slice(0, text.endsWith('\n') ? -1 : undefined).split('\n');
  }
}

/** Size of a file in bytes, or undefined when it cannot be read. */
export function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

/** The last `bytes` bytes of a file as text ('' when unreadable): a failed run's last words. */
export function readFileEnd(file: string, bytes: number): string {
  let fd: number;
  let size: number;
  try {
    ({ fd, size } = openRegular(file));
  } catch {
    return '';
  }
  try {
    const from = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - from);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** Holds the offset for one file; `read()` returns only what is new. */
export class MetricsTail {
  offset = 0;
  /** True when the last `read()` stopped at its byte budget with more of the file left to read. */
  pending = false;
  constructor(readonly file: string) {}
  /**
   * What was appended since the previous call. Without `maxBytes` the whole backlog is drained (in
   * chunks); with it, one chunk of about `maxBytes` (at least MIN_CHUNK) is read and
   * `pending` says whether more is left — the caller yields and calls again.
   */
  read(final = false, maxBytes = Infinity): TailResult {
    const out: TailResult = { lines: [], offset: this.offset, reset: false, skipped: 0 };
    this.pending = false;
    if (Number.isFinite(maxBytes)) {
      // Budgeted: one chunk of about `maxBytes`, so the caller's synchronous slice is bounded by construction.
      const chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.floor(maxBytes)));
      const r = readMetricsFrom(this.file, this.offset, { final, maxChunk: chunk });
      this.offset = r.offset;
      this.pending = !!r.more;
      return { ...r, more: undefined };
    }
    for (;;) {
      const r = readMetricsFrom(this.file, this.offset, { final });
      if (r.reset) {
        out.reset = true;
        out.lines = [];
        out.skipped = 0;
      }
      // A loop, not push(...r.lines): spreading hundreds of thousands of lines overflows the call stack.
      for (const l of r.lines) out.lines.push(l);
      out.skipped += r.skipped;
      const advanced = r.offset !== this.offset || r.reset;
      this.offset = r.offset;
      out.offset = r.offset;
      if (!advanced || (r.lines.length === 0 && r.skipped === 0)) break;
    }
    return out;
  }
}
