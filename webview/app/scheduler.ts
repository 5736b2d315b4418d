/**
 * Frame scheduling: changes mark what is dirty, and one animation frame draws them all (`draw` gets the
 * dirty set). New points move the MRL curve at most every MRL_LIVE_INTERVAL_MS (it re-reads every dim);
 * a user action redraws it at once. settle() resolves after the frame that draws everything received so
 * far (tests, bench). The browser's clock and frame/timer functions come in through FrameEnv, so the
 * scheduler runs in Node with fakes.
 *
 * Bursts: while runs the panel asked for are still arriving (Compare Runs on 50 replays 50 runs, one message
 * each), every frame would redraw every chart with one more run — each such pass costs as much as the
 * final one. So while `inBurst()` says so, the charts (structural, view, new points, the MRL curve) are
 * drawn at most once per BURST_DRAW_INTERVAL_MS (or per the last pass's duration, if longer) after the
 * last chart pass ended, and at once when the burst ends; the rest of the frame
 * (chips, diff, table) is drawn as usual. A settle() caller gets everything at once.
 */

export interface Dirty {
  structural: boolean;
  view: boolean;
  mrl: boolean;
  mrlData: boolean;
  runs: boolean;
  /** Only the runs table's figures changed (summaries read): the table redraws, nothing else. */
  table: boolean;
  diff: boolean;
  metrics: Set<string>;
}

/** What a change asks to redraw. */
export type DirtyRequest = Partial<Omit<Dirty, 'metrics' | 'mrlData'>> & { metrics?: Iterable<string> };

export interface DrawnInfo {
  messageToDrawnMs: number;
  flushMs: number;
}

export interface FrameStats {
  frames: number;
  lastMessageToDrawnMs: number;
  lastFlushMs: number;
  /** Frames whose chart part waited for the burst interval. */
  heldFrames: number;
  /** Frames that drew charts; and when (env.now()) those drawn while a burst was under way began. */
  chartFrames: number;
  burstChartFrameTimes: number[];
}

export interface FrameEnv {
  requestFrame(cb: () => void): void;
  now(): number;
  setTimer(cb: () => void, ms: number): number;
  clearTimer(id: number): void;
}

export const MRL_LIVE_INTERVAL_MS = 250;
/** During a burst of replays, chart passes at most this often (the burst's end draws at once). */
export const BURST_DRAW_INTERVAL_MS = 250;

export function browserFrameEnv(): FrameEnv {
  return {
    requestFrame: (cb) => requestAnimationFrame(cb),
    now: () => performance.now(),
    setTimer: (cb, ms) => window.setTimeout(cb, ms),
    clearTimer: (id) => clearTimeout(id),
  };
}

export class FrameScheduler {
  readonly stats: FrameStats = {
    frames: 0,
    lastMessageToDrawnMs: NaN,
    lastFlushMs: NaN,
    heldFrames: 0,
    chartFrames: 0,
    burstChartFrameTimes: [],
  };
  private readonly dirty: Dirty = {
    structural: false,
    view: false,
    mrl: false,
    mrlData: false,
    runs: false,
    table: false,
    diff: false,
    metrics: new Set(),
  };
  private frameRequested = false;
  private pendingSince = NaN;
  private lastMrlRender = -Infinity;
  private mrlTimer = 0;
  private lastChartPassEnd = -Infinity;
  private burstSince = NaN;
  private lastChartPassMs = 0;
  private burstTimer = 0;
  private readonly settleWaiters: (() => void)[] = [];
  private readonly drawnListeners: ((info: DrawnInfo) => void)[] = [];

  constructor(
    private readonly draw: (dirty: Dirty) => void,
    private readonly onError: (err: unknown) => void,
    private readonly env: FrameEnv = browserFrameEnv(),
    /** True while runs the panel expects are still arriving (see Bursts above). */
    private readonly inBurst: () => boolean = () => false,
  ) {}

  schedule(p: DirtyRequest): void {
    const d = this.dirty;
    if (p.structural) d.structural = true;
    if (p.view) d.view = true;
    if (p.mrl) d.mrl = true;
    if (p.runs) d.runs = true;
    if (p.table) d.table = true;
    if (p.diff) d.diff = true;
    if (p.metrics) for (const m of p.metrics) d.metrics.add(m);
    this.requestFrame();
  }

  /** Data arrived: the next frame's message→drawn time counts from the first such mark. */
  markPending(): void {
    if (Number.isNaN(this.pendingSince)) this.pendingSince = this.env.now();
  }

  /** The MRL chart is being drawn now. */
  noteMrlDrawn(): void {
    this.lastMrlRender = this.env.now();
  }

  /**
   * For a draw with only new data for the MRL chart: true if it may redraw now (its interval passed, or
   * a settle() caller wants everything on screen), else a timer asks for the redraw when it has.
   */
  mrlLiveDue(): boolean {
    const wait = this.lastMrlRender + MRL_LIVE_INTERVAL_MS - this.env.now();
    if (wait <= 0 || this.settleWaiters.length) return true;
    if (!this.mrlTimer) {
      this.mrlTimer = this.env.setTimer(() => {
        this.mrlTimer = 0;
        this.schedule({ mrl: true });
      }, wait);
    }
    return false;
  }

  /** Resolves after the next frame's draw (everything received so far is on screen). */
  settle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.settleWaiters.push(resolve);
      if (this.mrlTimer) {
        // a live MRL update waiting for its interval: draw it now, "settled" means everything is on screen
        this.env.clearTimer(this.mrlTimer);
        this.mrlTimer = 0;
        this.dirty.mrl = true;
      }
      this.requestFrame();
    });
  }

  onDrawn(cb: (info: DrawnInfo) => void): () => void {
    this.drawnListeners.push(cb);
    return () => {
      const i = this.drawnListeners.indexOf(cb);
      if (i >= 0) this.drawnListeners.splice(i, 1);
    };
  }

  private requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    this.env.requestFrame(() => this.flush());
  }

  /** The chart part of the dirty set waits for the burst interval: true if it must wait now. */
  private holdCharts(d: Dirty, now: number): boolean {
    if (!this.inBurst()) {
      this.burstSince = NaN;
      return false;
    }
    if (Number.isNaN(this.burstSince)) this.burstSince = now;
    if (!(d.structural || d.view || d.mrl || d.metrics.size) || this.settleWaiters.length) return false;
    // Counted from the burst's start or the end of the last chart pass, and never shorter than that pass
    // took: a burst shorter than the interval is drawn once, at its end; on a slow machine (a pass of 50
    // runs can take longer than the interval) at most half the burst goes to intermediate passes.
    const wait = Math.max(this.burstSince, this.lastChartPassEnd) + Math.max(BURST_DRAW_INTERVAL_MS, this.lastChartPassMs) - now;
    if (wait <= 0) return false;
    if (!this.burstTimer) {
      this.burstTimer = this.env.setTimer(() => {
        this.burstTimer = 0;
        this.requestFrame();
      }, wait);
    }
    return true;
  }

  private flush(): void {
    this.frameRequested = false;
    const d = this.dirty;
    const t0 = this.env.now();
    const hold = this.holdCharts(d, t0);
    // Held: this frame draws the rest with a copy that has no chart work; the chart flags stay set.
    const drawn: Dirty = hold
      ? { structural: false, view: false, mrl: false, mrlData: false, runs: d.runs, table: d.table, diff: d.diff, metrics: new Set() }
      : d;
    const chartPass = !hold && (d.structural || d.view || d.mrl || d.metrics.size);
    if (hold) this.stats.heldFrames++;
    else if (chartPass) {
      this.stats.chartFrames++;
      if (this.inBurst()) {
        const times = this.stats.burstChartFrameTimes;
        times.push(t0);
        if (times.length > 64) times.shift();
      }
    }
    if (!hold && this.burstTimer) {
      this.env.clearTimer(this.burstTimer);
      this.burstTimer = 0;
    }
    try {
      if (hold ? drawn.runs || drawn.table || drawn.diff : true) this.draw(drawn);
    } catch (err) {
      this.onError(err);
    }
    if (!hold) {
      d.structural = d.view = d.mrl = d.mrlData = false;
      d.metrics.clear();
    }
    d.runs = d.table = d.diff = false;
    const t1 = this.env.now();
    if (chartPass) {
      this.lastChartPassEnd = t1;
      this.lastChartPassMs = t1 - t0;
    }
    this.stats.frames++;
    this.stats.lastFlushMs = t1 - t0;
    // A held frame did not draw the data: its message→drawn time runs on to the frame that does.
    if (hold) return;
    const m2d = t1 - this.pendingSince;
    if (Number.isFinite(this.pendingSince)) this.stats.lastMessageToDrawnMs = m2d;
    this.pendingSince = NaN;
    for (const l of this.drawnListeners) l({ messageToDrawnMs: m2d, flushMs: t1 - t0 });
    for (const w of this.settleWaiters.splice(0)) w();
  }
}
