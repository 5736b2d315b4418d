/**
 * Largest-Triangle-Three-Buckets decimation over a slice of columnar data. Our own rather than Chart.js's
 * decimation plugin because our series live in typed arrays (no 100k {x,y} objects to build per frame),
 * and because we decimate only the visible x range, so zooming in brings the detail back.
 */
export interface XY {
  x: number;
  y: number;
}

/** Index range [lo, hi) of points with x in [xmin, xmax], widened by one point each side so the line
 *  runs to the plot edge. xs must be non-decreasing over [0, n). */
export function visibleRange(xs: Float64Array, n: number, xmin: number, xmax: number): [number, number] {
  if (n === 0) return [0, 0];
  let lo = 0;
  let hi = n;
  if (Number.isFinite(xmin)) {
    let a = 0;
    let b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (xs[m] < xmin) a = m + 1;
      else b = m;
    }
    lo = Math.max(0, a - 1);
  }
  if (Number.isFinite(xmax)) {
    let a = lo;
    let b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (xs[m] <= xmax) a = m + 1;
      else b = m;
    }
    hi = Math.min(n, a + 1);
  }
  return [lo, hi];
}

/**
 * Points [lo, hi) → at most `threshold` points (first and last kept). Non-finite y values are skipped
 * (they are gaps in the data, not values to select).
 */
export function lttb(xs: Float64Array, ys: Float64Array, lo: number, hi: number, threshold: number): XY[] {
  const count = hi - lo;
  const out: XY[] = [];
  if (count <= 0) return out;
  if (threshold < 3 || count <= threshold) {
    for (let i = lo; i < hi; i++) {
      const y = ys[i];
      if (Number.isFinite(y)) out.push({ x: xs[i], y });
    }
    return out;
  }
  const every = (count - 2) / (threshold - 2);
  let a = lo;
  out.push({ x: xs[lo], y: ys[lo] });
  for (let b = 0; b < threshold - 2; b++) {
    // average of the next bucket: the third triangle vertex
    let avgStart = lo + Math.floor((b + 1) * every) + 1;
    let avgEnd = lo + Math.floor((b + 2) * every) + 1;
    if (avgEnd > hi) avgEnd = hi;
    let ax = 0;
    let ay = 0;
    let an = 0;
    for (; avgStart < avgEnd; avgStart++) {
      const y = ys[avgStart];
      if (!Number.isFinite(y)) continue;
      ax += xs[avgStart];
      ay += y;
      an++;
    }
    if (an > 0) {
      ax /= an;
      ay /= an;
    } else {
      ax = xs[Math.min(hi - 1, avgEnd)];
      ay = ys[a];
    }
    const rs = lo + Math.floor(b * every) + 1;
    const re = lo + Math.floor((b + 1) * every) + 1;
    const px = xs[a];
    const py = ys[a];
    let maxArea = -1;
    let pick = -1;
    for (let i = rs; i < re; i++) {
      const y = ys[i];
      if (!Number.isFinite(y)) continue;
      const area = Math.abs((px - ax) * (y - py) - (px - xs[i]) * (ay - py));
      if (area > maxArea) {
        maxArea = area;
        pick = i;
      }
    }
    if (pick >= 0) {
      out.push({ x: xs[pick], y: ys[pick] });
      a = pick;
    }
  }
  const last = hi - 1;
  if (Number.isFinite(ys[last])) out.push({ x: xs[last], y: ys[last] });
  if (!Number.isFinite(out[0].y)) out.shift();
  return out;
}
