/**
 * Frame scheduling: changes mark what is dirty, and one animation frame draws them all (`draw` gets the
 * dirty set). New points move the MRL curve at most every MRL_LIVE_INTERVAL_MS (it re-reads every dim);
 * a user action redraws it at once. settle() resolves after the frame that draws everything received so
 * far (tests, bench). The browser's clock and frame/timer functions come in through FrameEnv, so the
 * scheduler runs in Node with fakes.
 */

export interface Dirty { structural: boolean; view: boolean; mrl: boolean; mrlData: boolean; runs: boolean; diff: boolean; metrics: Set<string> }

/** What a change asks to redraw. */
export type DirtyRequest = Partial<Omit<Dirty, 'metrics' | 'mrlData'>> & { metrics?: Iterable<string> };

export interface DrawnInfo { messageToDrawnMs: number; flushMs: number }

export interface FrameStats { frames: number; lastMessageToDrawnMs: number; lastFlushMs: number }

export interface FrameEnv {
  requestFrame(cb: () => void): void;
  now(): number;
  setTimer(cb: () => void, ms: number): number;
  clearTimer(id: number): void;
}

export const MRL_LIVE_INTERVAL_MS = 250;

export function browserFrameEnv(): FrameEnv {
  return {
    requestFrame: (cb) => requestAnimationFrame(cb),
    now: () => performance.now(),
    setTimer: (cb, ms) => window.setTimeout(cb, ms),
    clearTimer: (id) => clearTimeout(id),
  };
}

export class FrameScheduler {
  readonly stats: FrameStats = { frames: 0, lastMessageToDrawnMs: NaN, lastFlushMs: NaN };
  private readonly dirty: Dirty = { structural: false, view: false, mrl: false, mrlData: false, runs: false, diff: false, metrics: new Set() };
  private frameRequested = false;
  private pendingSince = NaN;
  private lastMrlRender = -Infinity;
  private mrlTimer = 0;
  private readonly settleWaiters: (() => void)[] = [];
  private readonly drawnListeners: ((info: DrawnInfo) => void)[] = [];

  constructor(
    private readonly draw: (dirty: Dirty) => void,
    private readonly onError: (err: unknown) => void,
    private readonly env: FrameEnv = browserFrameEnv(),
  ) {}

  schedule(p: DirtyRequest): void {
    const d = this.dirty;
    if (p.structural) d.structural = true;
    if (p.view) d.view = true;
    if (p.mrl) d.mrl = true;
    if (p.runs) d.runs = true;
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

  private flush(): void {
    this.frameRequested = false;
    const d = this.dirty;
    const t0 = this.env.now();
    try {
      this.draw(d);
    } catch (err) {
      this.onError(err);
    }
    d.structural = d.view = d.mrl = d.mrlData = d.runs = d.diff = false;
    d.metrics.clear();
    const t1 = this.env.now();
    this.stats.frames++;
    this.stats.lastFlushMs = t1 - t0;
    const m2d = t1 - this.pendingSince;
    if (Number.isFinite(this.pendingSince)) this.stats.lastMessageToDrawnMs = m2d;
    this.pendingSince = NaN;
    for (const l of this.drawnListeners) l({ messageToDrawnMs: m2d, flushMs: t1 - t0 });
    for (const w of this.settleWaiters.splice(0)) w();
  }
}
