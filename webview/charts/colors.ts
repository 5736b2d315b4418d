/**
 * Colours. Dims get a sequential scale (small dim = low contrast against the editor background, full
 * width = high contrast), so "bigger = stronger" reads the same in every theme: in a light theme that is
 * light → dark (viridis reversed), in a dark theme dark → bright (plasma). Runs are told apart by dash
 * and marker, never by hue, so the dim colour keeps its meaning when runs are overlaid.
 */
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

type RGB = [number, number, number];
const VIRIDIS: RGB[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37],
];
const PLASMA: RGB[] = [
  [13, 8, 135],
  [75, 3, 161],
  [125, 3, 168],
  [168, 34, 150],
  [203, 70, 121],
  [229, 107, 93],
  [248, 148, 65],
  [253, 195, 40],
  [240, 249, 33],
];

function sample(stops: RGB[], t: number): RGB {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function hex(c: RGB): string {
  return '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** Colour of `dim` among `allDims` (position on a log2 scale, so 32/64/128/256 are evenly spaced). */
export function dimColor(dim: number, allDims: readonly number[], theme: ThemeKind): string {
  const sorted = [...allDims].sort((a, b) => a - b);
  const lo = Math.log2(sorted[0] ?? dim);
  const hi = Math.log2(sorted[sorted.length - 1] ?? dim);
  const t = hi > lo ? (Math.log2(dim) - lo) / (hi - lo) : 1;
  switch (theme) {
    case 'light':
      return hex(sample(VIRIDIS, 0.85 - 0.85 * t)); // t=0: light green-yellow, t=1: deep purple
    case 'high-contrast-light':
      return hex(sample(VIRIDIS, 0.55 - 0.55 * t));
    case 'dark':
      return hex(sample(PLASMA, 0.3 + 0.7 * t)); // t=0: violet, t=1: bright yellow
    case 'high-contrast':
      return hex(sample(PLASMA, 0.45 + 0.55 * t));
  }
}

/** Categorical colours for the "one chart per dim, all metrics" view (Tableau 10, readable on both). */
const CATEGORICAL = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export function metricColor(i: number): string {
  return CATEGORICAL[i % CATEGORICAL.length];
}

/** Per-run line dash and point marker (index = the run's position among the shown runs). */
export const RUN_DASHES: number[][] = [[], [7, 4], [2, 3], [10, 3, 2, 3], [4, 4, 1, 4], [12, 6]];
export const RUN_MARKERS = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot'] as const;

export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const v = parseInt(m[1], 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

/** Theme colours may come as rgb()/named; withAlpha needs #rrggbb, so normalise through a canvas. */
const hexCache = new Map<string, string>();
export function hexOf(color: string): string {
  if (/^#[0-9a-f]{6}$/i.test(color)) return color;
  let h = hexCache.get(color);
  if (h) return h;
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return '#808080';
  ctx.fillStyle = '#808080';
  ctx.fillStyle = color;
  h = String(ctx.fillStyle);
  if (!/^#[0-9a-f]{6}$/i.test(h)) h = '#808080';
  hexCache.set(color, h);
  return h;
}
