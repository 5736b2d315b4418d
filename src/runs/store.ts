/**
 * RunStore: the runs folder in memory, kept current by `refresh()`. A refresh lists the folder, re-reads
 * run.json only when its mtime changed, and reads only the bytes appended to metrics.jsonl since the last
 * refresh (MetricsTail). The host calls it on file-watcher events and on a timer; this module knows
 * nothing about VS Code so it is unit-tested with plain folders.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsLine, RunInfo, RunStatus } from '../protocol/runFolder';
import { RUN_FILES } from '../protocol/runFolder';
import { isPidAlive, liveness } from './liveness';
import { compareRuns, readRunConfig, readRunEntry, type RunEntry } from './runDir';
import { RunSeries, type RunSummary } from './series';
import { MetricsTail } from './tail';

export interface RunState {
  id: string;
  dir: string;
  info: RunInfo;
  /** Status to show (a dead "running" run shows as failed). */
  status: RunStatus;
  died: boolean;
  series: RunSeries;
  summary: RunSummary;
  /** Lazily read; config.json never changes once written. */
  config(): Record<string, unknown> | null;
}

export interface RefreshResult {
  added: string[];
  removed: string[];
  /** run.json or liveness changed. */
  changed: string[];
  /** New metrics lines per run; `reset`: the file was replaced, drop what you held. */
  appended: Map<string, { lines: MetricsLine[]; reset: boolean }>;
}

interface Internal extends RunState {
  entry: RunEntry;
  tail: MetricsTail;
  finalRead: boolean;
  cfg?: Record<string, unknown> | null;
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

export class RunStore {
  private runs = new Map<string, Internal>();
  constructor(
    readonly runsDir: string,
    private alive: (pid: number) => boolean = isPidAlive,
  ) {}

  list(): RunState[] {
    return [...this.runs.values()].sort((a, b) => compareRuns(a.entry, b.entry));
  }
  get(id: string): RunState | undefined {
    return this.runs.get(id);
  }

  refresh(): RefreshResult {
    const res: RefreshResult = { added: [], removed: [], changed: [], appended: new Map() };
    const seen = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.runsDir);
    } catch {
      /* no runs folder yet */
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      let r = this.runs.get(name);
      if (r) {
        // Known run: run.json is re-read only when its mtime changed (a stat per run per refresh).
        const m = mtimeOf(join(r.dir, RUN_FILES.info));
        if (m === -1 && !r.entry.infoMissing && !existsSync(r.dir)) continue; // deleted: dropped below
        if (m !== r.entry.infoMtime || r.entry.infoMissing) {
          const e = readRunEntry(r.dir);
          if (!e) continue;
          if (e.infoMtime !== r.entry.infoMtime || e.infoMissing !== r.entry.infoMissing || e.info.status !== r.entry.info.status) {
            r.entry = e;
            r.info = e.info;
            if (e.info.status === 'running') r.finalRead = false; // resumed
            res.changed.push(name);
          }
        }
      } else {
        const dir = join(this.runsDir, name);
        const e = readRunEntry(dir);
        if (!e) continue;
        r = this.create(e);
        this.runs.set(name, r);
        res.added.push(name);
      }
      seen.add(name);
      const lv = liveness(r.info, this.alive);
      if (lv.status !== r.status || lv.died !== r.died) {
        r.status = lv.status;
        r.died = lv.died;
        if (!res.changed.includes(name) && !res.added.includes(name)) res.changed.push(name);
      }
      this.tailRun(r, res);
    }
    for (const id of [...this.runs.keys()]) {
      if (!seen.has(id)) {
        this.runs.delete(id);
        res.removed.push(id);
      }
    }
    return res;
  }

  /** Refresh one run only (a watcher event named its folder). */
  refreshRun(id: string): RefreshResult {
    const res: RefreshResult = { added: [], removed: [], changed: [], appended: new Map() };
    const r = this.runs.get(id);
    if (!r) return this.refresh();
    const e = readRunEntry(r.dir);
    if (!e) {
      this.runs.delete(id);
      res.removed.push(id);
      return res;
    }
    if (e.infoMtime !== r.entry.infoMtime || e.info.status !== r.entry.info.status) {
      r.entry = e;
      r.info = e.info;
      if (e.info.status === 'running') r.finalRead = false;
      res.changed.push(id);
    }
    const lv = liveness(r.info, this.alive);
    if (lv.status !== r.status || lv.died !== r.died) {
      r.status = lv.status;
      r.died = lv.died;
      if (!res.changed.includes(id)) res.changed.push(id);
    }
    this.tailRun(r, res);
    return res;
  }

  private create(e: RunEntry): Internal {
    const lv = liveness(e.info, this.alive);
    const series = new RunSeries();
    const r: Internal = {
      id: e.id,
      dir: e.dir,
      entry: e,
      info: e.info,
      status: lv.status,
      died: lv.died,
      series,
      summary: series.summary(),
      tail: new MetricsTail(join(e.dir, RUN_FILES.metrics)),
      finalRead: false,
      config: () => {
        if (r.cfg === undefined || r.cfg === null) r.cfg = readRunConfig(e.dir);
        return r.cfg;
      },
    };
    return r;
  }

  private tailRun(r: Internal, res: RefreshResult): void {
    const finished = r.status !== 'running';
    if (finished && r.finalRead) return; // nothing will be written any more
    let size = -1;
    try {
      size = statSync(r.tail.file).size;
    } catch {
      /* not written yet */
    }
    if (size === r.tail.offset && !(finished && !r.finalRead)) return;
    const t = r.tail.read(finished);
    if (finished) r.finalRead = true;
    if (t.reset) r.series.clear();
    if (t.lines.length || t.reset) {
      r.series.push(t.lines);
      const bs = (r.config()?.training as { batchSize?: unknown } | undefined)?.batchSize;
      r.summary = r.series.summary(typeof bs === 'number' ? bs : undefined);
      res.appended.set(r.id, { lines: t.lines, reset: t.reset });
    }
  }
}
