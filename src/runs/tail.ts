/**
 * Incremental reader of metrics.jsonl: reads only the bytes appended since the last offset, so a host
 * watching a live run never re-reads the whole file on every change.
 *
 * The writer appends whole lines, but a reader can catch it mid-write: the bytes after the last newline
 * are a torn line. They are left unconsumed (the offset stops after the last '\n') and read again, whole,
 * next time. Only when the caller knows the writer is gone (`final`) is a trailing line without newline
 * parsed — a crash may leave a complete last event without its '\n'.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type MetricsLine, parseMetricsJsonl } from '../protocol/runFolder';

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

/**
 * Read the metrics appended to `file` since `offset`. A missing file reads as empty (a run that has not
 * logged yet). Reads at most `maxChunk` bytes; call again while `offset` advances to drain a backlog.
 */
export function readMetricsFrom(
  file: string,
  offset: number,
  opts: { final?: boolean; maxChunk?: number } = {},
): TailResult {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { lines: [], offset: 0, reset: offset > 0, skipped: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    let reset = false;
    if (size < offset) {
      reset = true;
      offset = 0;
    }
    if (size === offset) return { lines: [], offset, reset, skipped: 0 };
    const want = Math.min(size - offset, opts.maxChunk ?? MAX_CHUNK);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    const data = buf.subarray(0, got);
    // Split on the byte, not on decoded text, so a multi-byte character cut by the writer is never decoded.
    const lastNl = data.lastIndexOf(NL);
    const reachedEnd = offset + got >= size;
    let consumed = lastNl + 1;
    if (opts.final && reachedEnd) consumed = got;
    else if (lastNl < 0 && got === (opts.maxChunk ?? MAX_CHUNK)) {
      // One line longer than a whole chunk: not a metrics event a reader can use; skip it.
      return { lines: [], offset: offset + got, reset, skipped: 1, more: !reachedEnd };
    }
    if (consumed <= 0) return { lines: [], offset, reset, skipped: 0, more: !reachedEnd };
    // Complete lines only (the buffer starts and ends at line boundaries): the run folder's line parser.
    const { lines, invalid: skipped } = parseMetricsJsonl(data.subarray(0, consumed).toString('utf8'));
    return { lines, offset: offset + consumed, reset, skipped, more: !reachedEnd };
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
