/**
 * A finished run's metrics digest in one fast pass over its metrics.jsonl (issue 21): what the runs table
 * and the tree show — the latest evaluation, the best value per metric and dim, the latest training loss,
 * the throughput, the last step — without parsing every line. A workspace of 500 runs (82 MB) took 1.5 s of
 * CPU to parse whole and hold (JSON.parse and the garbage collector), 15 s and more on a loaded 2-core
 * machine; the table waits for nothing else.
 *
 * Every evaluation line is parsed (the best values need them all: a tenth of the lines, a fifth of the
 * bytes), and of the training lines only the last ones the summary reads: from the end, until ten valid
 * ones and one with a loss (RunSeries.summary: the latest loss, throughput over the last ten), plus the
 * latest one reporting samples/s. A line is told apart by its text (`"split":"eval"`, as JSON writers
 * write it, with or without the space Python's json puts there); a file with a resume marker is parsed
 * whole, as the resume rule drops earlier events by their step.
 *
 * The result is a RunSeries of that subset, in file order, less the evaluations before the latest (their
 * best values are in its statistics): its `evalDigest()` and `summary()` equal those of the whole file
 * (test/unit/quickSummary.test.ts) but for `summary().events`; its `events` are not the run's (the charts
 * replay the full read's), and nothing is pushed to it afterwards.
 */
import { type MetricsEvent, type MetricsLine, parseMetricsJsonl } from '../protocol/runFolder';
import { RunSeries } from './series';
import { readLinesFrom } from './tail';

export interface QuickSummary {
  series: RunSeries;
  /** Bytes of metrics.jsonl read. */
  bytes: number;
}

/** Files past this are left to the full read (sliced over passes): one synchronous read must stay short. */
export const QUICK_MAX_BYTES = 8 * 1024 * 1024;
/** Training events RunSeries.summary reads from the end (derivedSamplesPerSec: the last ten). */
const TRAIN_TAIL = 10;

const NL = 0x0a;
const EVAL = /"split"\s*:\s*"eval"/;
const RESUME = /"type"\s*:\s*"resume"/;
const RATE = /"samples(?:\/s|PerSec|_per_sec)"\s*:/;

/** The one event of a line, or undefined when it is not a valid metrics line (skipped, as the full read does). */
function parseLine(raw: string): MetricsLine | undefined {
  return parseMetricsJsonl(raw).lines[0];
}

/** The throughput an event reports, read as RunSeries.summary reads it. */
function rateOf(e: MetricsEvent): unknown {
  const v = e.values ?? {};
  return v['samples/s'] ?? v.samplesPerSec ?? v.samples_per_sec;
}

/**
 * The digest of `file` read to its end (a trailing line without newline included: the writer is gone), or
 * undefined when the file is larger than QUICK_MAX_BYTES. A missing file is an empty digest. Throws what
 * reading throws (not a regular file…): the caller keeps it on the run.
 */
export function quickSummary(file: string): QuickSummary | undefined {
  const r = readLinesFrom(file, 0, { final: true, maxChunk: QUICK_MAX_BYTES + 1 });
  const series = new RunSeries();
  if (r.more || r.overlong) return undefined;
  // Searched as bytes (native searches), decoded a line at a time where one is needed: decoding and scanning
  // the whole text cost as much as parsing the evaluations. The needles do not start with '"': a search
  // steps from one occurrence of its first byte to the next, and JSON is mostly quotes (4× slower).
  const buf = r.bytes;
  if (buf.indexOf('resume"') >= 0) {
    const text = buf.toString('utf8');
    if (RESUME.test(text)) {
      series.push(parseMetricsJsonl(text).lines);
      return { series, bytes: buf.length };
    }
  }
  // Pass 1: every evaluation line, found by its "eval".
  const kept: { at: number; e: MetricsLine }[] = [];
  const evalLines = new Set<number>();
  for (let i = buf.indexOf('eval"'); i >= 0;) {
    const start = buf.lastIndexOf(NL, i) + 1;
    let end = buf.indexOf(NL, i);
    if (end < 0) end = buf.length;
    const raw = buf.toString('utf8', start, end);
    if (EVAL.test(raw)) {
      evalLines.add(start);
      const e = parseLine(raw);
      if (e) kept.push({ at: start, e });
    }
    i = buf.indexOf('eval"', end);
  }
  // Pass 2: the other lines from the end, until the summary has what it reads: ten valid training events
  // and one with a loss, and the latest event with a throughput (an evaluation's, unless a later line has one).
  let train = 0;
  let loss = false;
  let rateFound = false;
  const needRate = buf.indexOf('samples') >= 0;
  let evalRateAt = -1;
  for (const k of kept) if (typeof rateOf(k.e as MetricsEvent) === 'number') evalRateAt = k.at;
  for (let pos = buf.length; pos > 0;) {
    const nl = buf.lastIndexOf(NL, pos - 1);
    const at = nl + 1;
    const end = pos;
    pos = Math.max(0, nl);
    if (at === end || evalLines.has(at)) continue;
    const enough = train >= TRAIN_TAIL && loss;
    if (enough && (!needRate || rateFound || at < evalRateAt)) break;
    if (enough && buf.subarray(at, end).indexOf('samples') < 0) continue;
    const raw = buf.toString('utf8', at, end);
    if (enough && !RATE.test(raw)) continue;
    const e = parseLine(raw) as MetricsEvent | undefined;
    if (!e) continue;
    kept.push({ at, e });
    if (e.split === 'train') {
      train++;
      if (typeof e.values?.loss === 'number') loss = true;
    }
    if (typeof rateOf(e) === 'number') rateFound = true;
  }
  kept.sort((a, b) => a.at - b.at);
  series.push(kept.map((k) => k.e));
  // The best values are in the series' statistics now: of the evaluations, its digest reads only the latest.
  // Holding 40 of them per run for 500 runs kept the garbage collector busy while the table waited.
  // (and the latest with a throughput, which the summary may read).
  let latest: MetricsEvent | undefined;
  let latestRate: MetricsEvent | undefined;
  for (const e of series.events) {
    if (e.split !== 'eval') continue;
    latest = e;
    if (typeof rateOf(e) === 'number') latestRate = e;
  }
  series.events = series.events.filter((e) => e.split !== 'eval' || e === latest || e === latestRate);
  return { series, bytes: buf.length };
}
