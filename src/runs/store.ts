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
import { liveness } from './liveness';
import { isPidAlive, isPidAliveAs, lockSaysAlive } from './trainerProcess';
import { fileStamp, isRunFolderEntry, readRunConfig, readRunEntry, type RunEntry } from './runDir';
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
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
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
          if (e.info.status === 'running') r.finalRead = false; // resumed
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

  /** Effective status: a dead pid → failed; a folder with no valid run.json past the grace → failed. */
  private statusOf(r: Internal): { status: RunStatus; died: boolean; reason?: string } {
    if (r.placeholder)
      return { status: 'failed', died: false, reason: r.readError ? `unreadable run folder: ${r.readError}` : 'unreadable run folder' };
    if (r.entry.infoMissing) {
      const last = r.entry.lastWrite ?? 0;
      const age = this.now() - last;
      if (age > this.staleGraceMs) {
        return { status: 'failed', died: false, reason: `stale: no run.json (nothing written for ${Math.round(age / 1000)} s)` };
      }
      return { status: 'running', died: false };
    }
    if (r.info.status === 'running' && this.alive === isPidAlive) {
      // Where the run holds a lock, it names the writer exactly (pid, command line, machine), as Stop reads
      // it: run.json's pid with a loose command-line test would take a reused pid for the trainer, and a
      // run written from another machine (a shared file system) for a dead one.
      const byLock = lockSaysAlive(r.dir);
      if (byLock === true) return { status: 'running', died: false };
      if (byLock === false) return { status: 'failed', died: true, reason: 'the trainer process is gone (killed or crashed)' };
    }
    if (r.info.status === 'running' && (r.info.pid === null || r.info.pid === undefined)) {
      // "running" with no pid to check (not our trainer, which always writes its pid): alive while it
      // writes something; a copy of such a folder (a clone) must not count as running for ever.
      const last = Math.max(r.entry.infoMtime, mtimeOf(r.tail.file), mtimeOf(r.dir));
      const age = this.now() - last;
      if (age > this.noPidGraceMs)
        return { status: 'failed', died: false, reason: `stale: running without a pid (nothing written for ${Math.round(age / 1000)} s)` };
    }
    // A script tracked by the sentence-transformers callback records its command line (its name need not
    // say "trainer"); with the default check, that is what tells it from a reused pid.
    const cmdline = r.info.cmdline;
    const alive = typeof cmdline === 'string' && this.alive === isPidAlive ? (pid: number) => isPidAliveAs(pid, cmdline) : this.alive;
    const lv = liveness(r.info, alive);
    return { ...lv, reason: lv.died ? 'the trainer process is gone (killed or crashed)' : undefined };
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
    if (t.reset) r.series.clear();
    if (t.lines.length || t.reset) {
      r.series.push(t.lines);
      const bs = (r.config()?.training as { batchSize?: unknown } | undefined)?.batchSize;
      r.summary = r.series.summary(typeof bs === 'number' ? bs : undefined);
      const prev = res.appended.get(r.id);
      if (prev && !t.reset) for (const l of t.lines) prev.lines.push(l);
      else res.appended.set(r.id, { lines: t.lines, reset: t.reset });
    }
    return used;
  }
}
