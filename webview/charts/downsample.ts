/**
 * Min/max downsampling for overlays (more than one run on a chart): the visible x range cut into equal
 * buckets, each bucket's lowest and highest point kept (in x order), plus the first and last point. Every
 * extreme survives — a spike of gradNorm or a loss blow-up is still drawn — and a series costs at most
 * `maxPoints` whatever its length, so fifty runs of 100k steps hand Chart.js fifty short curves.
 *
 * Why not LTTB here (lttb.ts, which a single run keeps): LTTB picks one point per bucket and may drop a
 * bucket's extreme; with many runs the per-series budget is small (overlayPointBudget), and dropped
 * extremes would change a curve's envelope from one redraw to the next.
 */
import type { XY } from './lttb';

/**
 * Points [lo, hi) → at most `maxPoints` points (≥ 4), xs non-decreasing. Non-finite y values are gaps, never
 * picked. A range that already fits is returned whole (finite points only).
 */
export function minMaxDownsample(xs: Float64Array, ys: Float64Array, lo: number, hi: number, maxPoints: number): XY[] {
  const out: XY[] = [];
  if (hi <= lo) return out;
  if (hi - lo <= maxPoints) {
    for (let i = lo; i < hi; i++) if (Number.isFinite(ys[i])) out.push({ x: xs[i], y: ys[i] });
    return out;
  }
  // First and last finite points, then two per bucket.
  let first = lo;
  while (first < hi && !Number.isFinite(ys[first])) first++;
  let last = hi - 1;
  while (last > first && !Number.isFinite(ys[last])) last--;
  if (first >= hi) return out;
  const buckets = Math.max(1, Math.floor((Math.max(4, maxPoints) - 2) / 2));
  const x0 = xs[first];
  const span = xs[last] - x0;
  out.push({ x: xs[first], y: ys[first] });
  let bucket = -1;
  let iMin = -1;
  let iMax = -1;
  const flush = () => {
    if (iMin < 0) return;
    const a = Math.min(iMin, iMax);
    const b = Math.max(iMin, iMax);
    out.push({ x: xs[a], y: ys[a] });
    if (b !== a) out.push({ x: xs[b], y: ys[b] });
  };
  for (let i = first + 1; i < last; i++) {
    const y = ys[i];
    if (!Number.isFinite(y)) continue;
    // By x (a pixel column), not by index: steps logged unevenly still get one bucket per column.
    const k =
      span > 0 ? Math.min(buckets - 1, Math.floor(((xs[i] - x0) / span) * buckets)) : Math.floor(((i - first) / (last - first)) * buckets);
    if (k !== bucket) {
      flush();
      bucket = k;
      iMin = i;
      iMax = i;
    } else {
      if (y < ys[iMin]) iMin = i;
      if (y > ys[iMax]) iMax = i;
    }
  }
  flush();
  if (last > first) out.push({ x: xs[last], y: ys[last] });
  return out;
}

/** Plot pixels per bucket for an overlay of `runs` runs: 2 (a point a pixel, as a single run gets) for a
 *  few runs, wider as runs are added (up to 8 px from 48 runs on): fifty zigzags a pixel apart are a block
 *  of ink, and fifty curves of 1,000 points cost Chart.js ten times what it needs. */
export function overlayBucketPx(runs: number): number {
  return Math.min(8, 2 + Math.floor(Math.max(0, runs - 1) / 8));
}

/** The most points a series of an overlay of `runs` runs is drawn with, for a plot `widthPx` wide. */
export function overlayPointBudget(widthPx: number, runs: number): number {
  return 2 * Math.max(16, Math.floor(widthPx / overlayBucketPx(runs))) + 2;
}
