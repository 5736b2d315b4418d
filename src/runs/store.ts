/**
 * RunStore: the runs folder in memory, kept current by `refresh()`. A refresh lists the folder, re-reads
 * run.json only when its mtime changed, and reads only the bytes appended to metrics.jsonl since the last
 * refresh (MetricsTail). The host calls it on file-watcher events and on a timer; this module knows
 * nothing about VS Code so it is unit-tested with plain folders.
 *
 * At scale (hundreds of finished runs, megabytes of metrics) the listing comes first: one refresh reads
 * every run.json (a stat per known run afterwards), so the runs and their statuses are all known at once;
 * metrics are read behind it, a byte budget per pass: live runs first, then the runs asked for
 * (`prioritize`, e.g. the panel's), then the rest most recent first. `drain()` continues that reading
 * without listing the folder again.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsLine, RunInfo, RunNotes, RunStatus } from '../protocol/runFolder';
import { RUN_FILES } from '../protocol/runFolder';
import { effectiveStatus, type EffectiveStatus } from './runStatus';
import { isPidAlive } from './trainerProcess';
import { fileStamp, isRunFolderEntry, readRunConfig, readRunEntry, type RunEntry } from './runDir';
import { quickSummary, type QuickSummary } from './quickSummary';
import { RunSeries, type RunSummary } from './series';
import { MetricsTail } from './tail';
import { notesFile, readRunNotes } from './notes';

export interface RunState {
  id: string;
  dir: string;
  info: RunInfo;
  /** Status to show (a dead "running" run shows as failed, so does a stale folder without run.json). */
  status: RunStatus;
  died: boolean;
  /** Why `status` differs from run.json's (process gone, stale folder), for tooltips and the panel. */
  reason?: string;
  /** The last error reading this run's folder (metrics.jsonl a directory, permissions…); the other runs
   *  are unaffected. Cleared by the next successful read. */
  readError?: string;
  series: RunSeries;
  summary: RunSummary;
  /** Bytes of metrics.jsonl read so far (a backlog is read a slice per refresh). */
  bytesRead?: number;
  /** Lazily read; config.json never changes once written. */
  config(): Record<string, unknown> | null;
  /** notes.json (display name, tags, note), re-read when its stamp changes; undefined when none. */
  notes?: RunNotes;
  /** Why notes.json was ignored (not JSON, wrong shape). */
  notesProblem?: string;
}

export interface RefreshResult {
  added: string[];
  removed: string[];
  /** run.json or liveness changed. */
  changed: string[];
  /** New metrics lines per run; `reset`: the file was replaced, drop what you held. */
  appended: Map<string, { lines: MetricsLine[]; reset: boolean }>;
  /** Runs whose metrics.jsonl still has bytes to read (a backlog, or more than this pass's byte budget):
   *  `drain()` again soon (after yielding to the event loop). */
  pending: string[];
  /** Runs whose digest just became known from a quick summary (`scanSummaries`), before the full read. */
  summarized?: string[];
}

/** A run's metrics as far as they are known complete (RunStore.digestOf). */
export interface RunDigest {
  series: RunSeries;
  summary: RunSummary;
}

interface Internal extends RunState {
  entry: RunEntry;
  /** startedAt as ms (0 when unparsable): the list's sort key, parsed once per run.json read. */
  startMs: number;
  tail: MetricsTail;
  finalRead: boolean;
  cfg?: Record<string, unknown> | null;
  /** A stand-in for a folder whose reading threw before its entry was known. */
  placeholder?: boolean;
  /** notes.json's stamp when last read ('' = none). */
  notesStamp?: string;
  /** A finished run's quick summary while its full read is under way; null: none to be had (too large,
   *  unreadable: the full read says why). */
  quick?: QuickSummary | null;
}

/** A run folder with config.json but no valid run.json is "running" this long after its last write. */
export const STALE_GRACE_MS = 30_000;
/** A run.json "running" without a pid is running this long after the folder's last write. */
export const NO_PID_GRACE_MS = 10 * 60_000;
/** Bytes of metrics.jsonl one refresh reads at most, over all runs (a synchronous slice of parsing). */
export const REFRESH_BYTES = 256 * 1024;

export interface RunStoreOptions {
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  staleGraceMs?: number;
  noPidGraceMs?: number;
  /** Byte budget of one refresh (see REFRESH_BYTES). */
  bytesPerRefresh?: number;
  /** Events each run's series keeps (see MAX_SERIES_EVENTS). */
  maxSeriesEvents?: number;
  /** Reads one folder (tests inject a throwing one). */
  readEntry?: (dir: string) => RunEntry | null;
}

const startMsOf = (e: RunEntry): number => Date.parse(e.info.startedAt) || 0;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** config.json training.batchSize: throughput is derived from it when no event reports one. */
function batchSizeOf(r: RunState): number | undefined {
  const bs = (r.config()?.training as { batchSize?: unknown } | undefined)?.batchSize;
  return typeof bs === 'number' ? bs : undefined;
}

export class RunStore {
  private runs = new Map<string, Internal>();
  private readonly now: () => number;
  private readonly staleGraceMs: number;
  private readonly noPidGraceMs: number;
  private readonly bytesPerRefresh: number;
  private readonly readEntry: (dir: string) => RunEntry | null;
  private rr = 0;
  /** list() order, cached: rebuilt only when a run is added, removed or its run.json re-read. */
  private sorted: Internal[] | null = null;
  /** Runs asked for first (the panel's), read before the rest of the backlog. */
  private wanted: string[] = [];
  constructor(
    readonly runsDir: string,
    private alive: (pid: number) => boolean = isPidAlive,
    private readonly opts: RunStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.staleGraceMs = opts.staleGraceMs ?? STALE_GRACE_MS;
    this.noPidGraceMs = opts.noPidGraceMs ?? NO_PID_GRACE_MS;
    this.bytesPerRefresh = opts.bytesPerRefresh ?? REFRESH_BYTES;
    this.readEntry = opts.readEntry ?? readRunEntry;
  }

  /** Every run, newest first (by startedAt, then id). */
  list(): RunState[] {
    return this.ordered().slice();
  }
  private ordered(): Internal[] {
    this.sorted ??= [...this.runs.values()].sort((a, b) => b.startMs - a.startMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return this.sorted;
  }
  get(id: string): RunState | undefined {
    return this.runs.get(id);
  }

  private emptyResult(): RefreshResult {
    return { added: [], removed: [], changed: [], appended: new Map(), pending: [] };
  }

  /** List the folder, re-read changed run.json files, then read metrics within `budget` bytes (0: list
   *  only; what is left is `pending`, for `drain()`). */
  refresh(budget = this.bytesPerRefresh): RefreshResult {
    const res = this.emptyResult();
    const seen = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.runsDir);
    } catch {
      /* no runs folder yet */
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      // A symlinked entry is no run folder of ours (it may point anywhere: notes would be written there).
      if (!isRunFolderEntry(join(this.runsDir, name))) continue;
      // One run's folder never hides the others: whatever throws is kept on that run.
      try {
        const r = this.updateEntry(name, res);
        if (!r) continue;
        seen.add(name);
      } catch (e) {
        seen.add(name);
        this.fail(name, e, res);
      }
    }
    for (const id of [...this.runs.keys()]) {
      if (!seen.has(id)) {
        this.runs.delete(id);
        this.sorted = null;
        res.removed.push(id);
      }
    }
    this.tailPass(res, budget);
    return res;
  }

  /** Read more of the metrics backlog (one byte budget, REFRESH_BYTES by default; `wantedOnly`: only the
   *  runs asked for, the rest stay pending), without listing the folder or re-reading run.json. */
  drain(budget = this.bytesPerRefresh, wantedOnly = false): RefreshResult {
    const res = this.emptyResult();
    this.tailPass(res, budget, wantedOnly);
    return res;
  }

  /** Read these runs' metrics before the rest of the backlog: before the runs asked for earlier, or after
   *  them (`after`: rows a view shows, while the panel's runs go first). */
  prioritize(ids: readonly string[], after = false): void {
    const want = ids.filter((id) => this.runs.has(id));
    this.wanted = [...new Set(after ? [...this.wanted, ...want] : [...want, ...this.wanted])];
  }

  /**
   * Quick summaries (quickSummary.ts) of finished runs whose metrics are not read yet, over about `budget`
   * bytes of files, the runs asked for first, then newest first: the runs table's figures long before the
   * full read (for the charts) is through. Returns the runs summed up; `more`: runs are left.
   */
  scanSummaries(budget: number): { ids: string[]; more: boolean } {
    const rank = new Map(this.wanted.map((id, i) => [id, i]));
    const todo = this.ordered().filter((r) => !r.placeholder && r.status !== 'running' && !r.finalRead && r.quick === undefined);
    if (rank.size) todo.sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity) || 0);
    const ids: string[] = [];
    for (const r of todo) {
      if (budget <= 0) return { ids, more: true };
      try {
        r.quick = quickSummary(r.tail.file) ?? null;
      } catch {
        r.quick = null;
      }
      if (r.quick) {
        budget -= r.quick.bytes;
        ids.push(r.id);
      }
    }
    return { ids, more: false };
  }

  /** The run's metrics as far as they are complete: the full read's once it is through, else a finished
   *  run's quick summary; undefined while neither is (the panel shows the run as loading). */
  digestOf(id: string): RunDigest | undefined {
    const r = this.runs.get(id);
    if (!r) return undefined;
    if (this.isRead(id)) return { series: r.series, summary: r.summary };
    if (r.quick && r.status !== 'running') return { series: r.quick.series, summary: r.quick.series.summary(batchSizeOf(r)) };
    return undefined;
  }

  /** Whether every metrics byte of this run written so far has been read (a finished run: read to its end). */
  isRead(id: string): boolean {
    const r = this.runs.get(id);
    return !!r && (r.placeholder || (r.status !== 'running' ? r.finalRead : !r.tail.pending));
  }

  /**
   * One byte budget of metrics reading: live runs first (rotating, so one huge backlog does not starve the
   * others), then the runs asked for, then the finished runs not read yet, most recent first. Runs fully
   * read and finished cost nothing (not even a stat); whatever the budget did not reach is `pending`.
   */
  private tailPass(res: RefreshResult, budget: number, wantedOnly = false): void {
    const live: Internal[] = [];
    const backlog: Internal[] = [];
    for (const r of this.ordered()) {
      if (r.placeholder) continue;
      if (r.status === 'running') live.push(r);
      else if (!r.finalRead) backlog.push(r);
    }
    const start = live.length ? this.rr++ % live.length : 0;
    for (let i = 0; i < live.length; i++) budget -= this.safeTail(live[(start + i) % live.length], res, budget);
    const rank = new Map(this.wanted.map((id, i) => [id, i]));
    // The runs asked for first, in the order asked; the rest newest first (a stable sort keeps it).
    if (rank.size) backlog.sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity) || 0);
    for (const r of backlog) {
      if (budget <= 0 || (wantedOnly && !rank.has(r.id))) {
        // Out of budget this time: the rest is read by the next pass. (Each backlog run comes once; a
        // lookup in `pending` here made a pass over 500 runs quadratic: 0.4 s of a 2 s read.)
        res.pending.push(r.id);
        continue;
      }
      budget -= this.safeTail(r, res, budget);
    }
    if (this.wanted.length) this.wanted = this.wanted.filter((id) => !this.isRead(id));
  }

  /** Refresh one run only (a watcher event named its folder). */
  refreshRun(id: string): RefreshResult {
    const r0 = this.runs.get(id);
    if (!r0) return this.refresh();
    const res = this.emptyResult();
    let r: Internal | undefined;
    try {
      r = this.updateEntry(id, res);
    } catch (e) {
      this.fail(id, e, res);
      return res;
    }
    if (!r) {
      this.runs.delete(id);
      this.sorted = null;
      res.removed.push(id);
      return res;
    }
    this.safeTail(r, res, this.bytesPerRefresh);
    return res;
  }

  /** (Re-)read a folder's run.json and status; undefined when it is not (any more) a run folder. */
  private updateEntry(name: string, res: RefreshResult): Internal | undefined {
    let r = this.runs.get(name);
    if (r && !r.placeholder) {
      // Known run: run.json is re-read only when its stamp (mtime, inode, size) changed: a stat per run per refresh.
      const stamp = fileStamp(join(r.dir, RUN_FILES.info));
      if (stamp === '' && !r.entry.infoMissing && !existsSync(r.dir)) return undefined; // deleted
      if (stamp !== r.entry.infoStamp || r.entry.infoMissing) {
        const e = this.readEntry(r.dir);
        if (!e) return undefined;
        if (
          e.infoStamp !== r.entry.infoStamp ||
          e.infoMissing !== r.entry.infoMissing ||
          e.info.status !== r.entry.info.status ||
          e.lastWrite !== r.entry.lastWrite
        ) {
          const statusChanged =
            e.infoStamp !== r.entry.infoStamp || e.infoMissing !== r.entry.infoMissing || e.info.status !== r.entry.info.status;
          r.entry = e;
          r.info = e.info;
          r.startMs = startMsOf(e);
          this.sorted = null;
          if (e.info.status === 'running') {
            // Resumed: its file grows again, a quick summary of it is stale.
            r.finalRead = false;
            r.quick = undefined;
          }
          if (statusChanged) res.changed.push(name);
        }
      }
    } else {
      const dir = join(this.runsDir, name);
      const e = this.readEntry(dir);
      if (!e) {
        if (r) {
          this.runs.delete(name);
          this.sorted = null;
          res.removed.push(name);
        }
        return undefined;
      }
      const fresh = this.create(e);
      this.sorted = null;
      if (r) {
        // The placeholder becomes the real run.
        this.runs.set(name, fresh);
        res.changed.push(name);
      } else {
        this.runs.set(name, fresh);
        res.added.push(name);
      }
      r = fresh;
    }
    this.applyStatus(r, res);
    this.updateNotes(r, res);
    return r;
  }

  /** Re-read notes.json when its stamp changed (one stat per run per refresh, like run.json). */
  private updateNotes(r: Internal, res: RefreshResult): void {
    const stamp = fileStamp(notesFile(r.dir));
    if (stamp === r.notesStamp) return;
    const first = r.notesStamp === undefined;
    r.notesStamp = stamp;
    const n = stamp ? readRunNotes(r.dir) : { notes: null };
    r.notes = n.notes ?? undefined;
    r.notesProblem = n.problem;
    if (!first && !res.changed.includes(r.id) && !res.added.includes(r.id)) res.changed.push(r.id);
  }

  /** Effective status (runStatus.ts). */
  private statusOf(r: Internal): EffectiveStatus {
    return effectiveStatus(r, { now: this.now(), staleGraceMs: this.staleGraceMs, noPidGraceMs: this.noPidGraceMs, alive: this.alive });
  }

  private applyStatus(r: Internal, res: RefreshResult): void {
    const s = this.statusOf(r);
    // The age in a stale reason changes every refresh: compare its kind, not its text.
    const kind = (x?: string) => x?.replace(/\(.*\)$/, '');
    if (s.status !== r.status || s.died !== r.died || kind(s.reason) !== kind(r.reason)) {
      r.status = s.status;
      r.died = s.died;
      r.reason = s.reason;
      if (!res.changed.includes(r.id) && !res.added.includes(r.id)) res.changed.push(r.id);
    } else r.reason = s.reason;
  }

  /** Keep an error on its run (a stand-in run when the folder could not be read at all). */
  private fail(name: string, e: unknown, res: RefreshResult): void {
    let r = this.runs.get(name);
    const msg = message(e);
    if (!r) {
      const dir = join(this.runsDir, name);
      r = this.create({
        id: name,
        dir,
        info: { id: name, name, status: 'failed', pid: null, startedAt: '', endedAt: null, backend: '' },
        infoMissing: true,
        infoMtime: -2,
      });
      r.placeholder = true;
      r.readError = msg;
      this.runs.set(name, r);
      this.sorted = null;
      res.added.push(name);
      this.applyStatus(r, res);
      return;
    }
    if (r.readError !== msg) {
      r.readError = msg;
      if (!res.changed.includes(name) && !res.added.includes(name)) res.changed.push(name);
    }
    if (r.placeholder) this.applyStatus(r, res);
  }

  private create(e: RunEntry): Internal {
    const series = new RunSeries(this.opts.maxSeriesEvents);
    const r: Internal = {
      id: e.id,
      dir: e.dir,
      entry: e,
      startMs: startMsOf(e),
      info: e.info,
      status: e.info.status,
      died: false,
      series,
      summary: series.summary(),
      bytesRead: 0,
      tail: new MetricsTail(join(e.dir, RUN_FILES.metrics)),
      finalRead: false,
      config: () => {
        if (r.cfg === undefined || r.cfg === null) {
          try {
            r.cfg = readRunConfig(e.dir);
          } catch {
            r.cfg = null;
          }
        }
        return r.cfg;
      },
    };
    const s = this.statusOf(r);
    r.status = s.status;
    r.died = s.died;
    r.reason = s.reason;
    return r;
  }

  /** Tail one run within `budget` bytes; returns the bytes consumed. Errors stay on the run. */
  private safeTail(r: Internal, res: RefreshResult, budget: number): number {
    if (r.placeholder) return 0;
    try {
      const used = this.tailRun(r, res, budget);
      if (r.readError !== undefined) {
        r.readError = undefined;
        if (!res.changed.includes(r.id) && !res.added.includes(r.id)) res.changed.push(r.id);
      }
      return used;
    } catch (e) {
      this.fail(r.id, e, res);
      return 0;
    }
  }

  private tailRun(r: Internal, res: RefreshResult, budget: number): number {
    const finished = r.status !== 'running';
    if (finished && r.finalRead) return 0; // nothing will be written any more
    let size = -1;
    try {
      size = statSync(r.tail.file).size;
    } catch {
      /* not written yet */
    }
    if (size === r.tail.offset && !(finished && !r.finalRead)) return 0;
    if (budget <= 0) {
      // Out of budget this time: more to read (or the final read is due) — next refresh.
      res.pending.push(r.id);
      return 0;
    }
    const before = r.tail.offset;
    const t = r.tail.read(finished, budget);
    const used = t.reset ? t.offset : Math.max(0, t.offset - before);
    r.bytesRead = r.tail.offset;
    if (r.tail.pending) res.pending.push(r.id);
    else if (finished) r.finalRead = true;
    // Read whole (the full series now says it all), or replaced (a quick summary of it is stale).
    if (r.finalRead || t.reset) r.quick = undefined;
    if (t.reset) r.series.clear();
    if (t.lines.length || t.reset) {
      r.series.push(t.lines);
      r.summary = r.series.summary(batchSizeOf(r));
      const prev = res.appended.get(r.id);
      if (prev && !t.reset) for (const l of t.lines) prev.lines.push(l);
      else res.appended.set(r.id, { lines: t.lines, reset: t.reset });
    }
    return used;
  }
}
