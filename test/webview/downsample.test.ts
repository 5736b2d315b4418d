// Min/max downsampling of overlay series (webview/charts/downsample.ts), in Node: a bounded number of points
// per series, every extreme kept, x order kept, gaps skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minMaxDownsample, overlayBucketPx, overlayPointBudget } from '../../webview/charts/downsample';
import { mulberry32 } from '../../src/common/random';

function columns(n: number, f: (i: number) => number, x: (i: number) => number = (i) => i): [Float64Array, Float64Array] {
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x(i);
    ys[i] = f(i);
  }
  return [xs, ys];
}

test('minMaxDownsample: ≤ maxPoints, first and last kept, the global min and max kept, x increasing', () => {
  const rand = mulberry32(7);
  // gradNorm-like: noisy, with a spike and a dip somewhere in the middle
  const [xs, ys] = columns(100_000, () => 1 + 5 * rand());
  ys[31_337] = 80;
  ys[77_001] = -3;
  for (const max of [10, 64, 252, 1000]) {
    const out = minMaxDownsample(xs, ys, 0, xs.length, max);
    assert.ok(out.length <= max, `${out.length} points for at most ${max}`);
    assert.ok(out.length >= max - 4, `the budget is used (${out.length} of ${max})`);
    assert.deepEqual(out[0], { x: 0, y: ys[0] });
    assert.deepEqual(out.at(-1), { x: 99_999, y: ys[99_999] });
    assert.ok(
      out.some((p) => p.x === 31_337 && p.y === 80),
      'the spike',
    );
    assert.ok(
      out.some((p) => p.x === 77_001 && p.y === -3),
      'the dip',
    );
    for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, `x order at ${i}`);
  }
});

test('minMaxDownsample: every bucket keeps its own extremes (the envelope is exact at bucket resolution)', () => {
  const rand = mulberry32(3);
  const n = 10_000;
  const [xs, ys] = columns(n, (i) => Math.sin(i / 300) + 0.3 * rand());
  const max = 102; // 50 buckets of 200 points
  const out = minMaxDownsample(xs, ys, 0, n, max);
  const span = n - 1;
  for (let b = 0; b < 50; b++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 1; i < n - 1; i++) {
      if (Math.min(49, Math.floor((i / span) * 50)) !== b) continue;
      lo = Math.min(lo, ys[i]);
      hi = Math.max(hi, ys[i]);
    }
    const inBucket = out.filter((p) => p.x > 0 && p.x < n - 1 && Math.min(49, Math.floor((p.x / span) * 50)) === b);
    assert.equal(inBucket.length, 2, `bucket ${b}`);
    assert.deepEqual(
      inBucket.map((p) => p.y).sort((a, c) => a - c),
      [lo, hi],
      `bucket ${b}`,
    );
  }
});

test('minMaxDownsample: buckets by x, not index — a dense stretch does not eat the budget of a sparse one', () => {
  // 9,000 points in x 0..10, then 1,000 in x 10..1000
  const n = 10_000;
  const [xs, ys] = columns(
    n,
    (i) => i % 7,
    (i) => (i < 9000 ? i / 900 : 10 + (i - 9000) * 0.99),
  );
  const out = minMaxDownsample(xs, ys, 0, n, 202);
  const sparse = out.filter((p) => p.x > 10).length;
  assert.ok(sparse > 150, `${sparse} of ${out.length} points in the sparse 99 % of the axis`);
});

test('minMaxDownsample: a window [lo, hi), NaN gaps skipped, short ranges returned whole', () => {
  const [xs, ys] = columns(1000, (i) => (i % 10 === 0 ? NaN : i));
  const few = minMaxDownsample(xs, ys, 100, 120, 50);
  assert.equal(few.length, 18, '20 points less the two NaN');
  assert.ok(few.every((p) => Number.isFinite(p.y)));
  const win = minMaxDownsample(xs, ys, 100, 900, 40);
  assert.ok(win.length <= 40);
  assert.equal(win[0].x, 101, 'the first finite point of the window');
  assert.equal(win.at(-1)!.x, 899);
  assert.ok(win.every((p) => p.x >= 100 && p.x < 900 && Number.isFinite(p.y)));
  assert.deepEqual(minMaxDownsample(xs, ys, 5, 5, 40), []);
  const allNaN = columns(500, () => NaN);
  assert.deepEqual(minMaxDownsample(allNaN[0], allNaN[1], 0, 500, 40), []);
  // every x equal (one step logged many times): still bounded, extremes kept
  const [fx, fy] = columns(
    500,
    (i) => i,
    () => 3,
  );
  const flat = minMaxDownsample(fx, fy, 0, 500, 40);
  assert.ok(flat.length <= 40);
  assert.ok(flat.some((p) => p.y === 0) && flat.some((p) => p.y === 499));
});

test('overlay budget: a point a pixel for a few runs, fewer per series as runs are added, never below 34', () => {
  assert.equal(overlayBucketPx(2), 2);
  assert.equal(overlayPointBudget(1000, 2), 1002);
  assert.ok(overlayPointBudget(1000, 50) < overlayPointBudget(1000, 10));
  assert.equal(overlayBucketPx(50), 8);
  assert.equal(overlayPointBudget(1000, 50), 252);
  assert.equal(overlayBucketPx(5000), 8);
  assert.equal(overlayPointBudget(40, 50), 34);
});
