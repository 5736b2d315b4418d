/**
 * A time chart's Chart.js datasets from its curves — the faint raw curve under each smoothed one (up to
 * RAW_UNDERLAY_MAX_RUNS runs), the smoothed or plain line — and their highlight: with runs highlighted (the
 * run legend, runLegend.ts), those runs' lines are drawn wider and on top, every other line faint and thin,
 * so one run among fifty can be followed across every chart. Restyling only changes colours, widths and the
 * drawing order: the decimated points stay.
 */
import type { ChartDataset, ScatterDataPoint } from 'chart.js';
import { withAlpha } from './colors';
import { curveSmoothing } from './smoothingRule';
import type { Curve } from './timeChart';

/** Runs shown up to which a smoothed curve keeps its faint raw curve underneath. */
export const RAW_UNDERLAY_MAX_RUNS = 8;

/** Highlight styling: how faint the other runs' lines get, and how much wider a highlighted line is. */
export const HIGHLIGHT = { dimmedAlpha: 0.14, dimmedRawAlpha: 0.06, dimmedWidth: 1, extraWidth: 1.25 } as const;

export interface DatasetInfo {
  curve: Curve;
  role: 'raw' | 'smoothed' | 'line';
  /** The style without any highlight. */
  baseColor: string;
  baseWidth: number;
}

/** Decimation cache of one dataset: what its `data` was computed from. */
export interface DecCache {
  gen: number;
  n: number;
  target: number;
  smoothing: number;
  axis: string;
  appended: number;
  zoomed: boolean;
  method: 'lttb' | 'minmax';
}

/** A Chart.js dataset with the curve it draws and its decimation cache. */
export type TimeDataset = ChartDataset<'line', ScatterDataPoint[]> & { _info?: DatasetInfo; _dec?: DecCache };

/** The datasets of `curves` (no points yet: the chart decimates them in), styled for `highlight`. */
export function buildDatasets(
  curves: readonly Curve[],
  smoothing: number,
  highContrast: boolean,
  highlight: ReadonlySet<string>,
): TimeDataset[] {
  const ds: TimeDataset[] = [];
  // Many runs overlaid: the smoothed curves only. Fifty faint raw curves under fifty smoothed ones read
  // as noise, and each is a Chart.js dataset (its options resolved, its points laid out, every pass).
  const underlay = new Set(curves.map((c) => c.runId)).size <= RAW_UNDERLAY_MAX_RUNS;
  for (const c of curves) {
    // Per curve: eval curves are drawn raw whatever the slider (smoothingRule.ts).
    const smooth = curveSmoothing(c.series.key, smoothing) > 0;
    const base = {
      data: [] as ScatterDataPoint[],
      borderDash: c.dash,
      pointStyle: c.marker as any,
      fill: false,
      spanGaps: true,
    };
    const line = (role: DatasetInfo['role'], label: string, color: string, width: number): TimeDataset => ({
      ...base,
      label,
      borderColor: color,
      backgroundColor: color,
      borderWidth: width,
      _info: { curve: c, role, baseColor: color, baseWidth: width },
    });
    if (smooth) {
      if (underlay) ds.push(line('raw', `${c.label} (raw)`, withAlpha(c.color, highContrast ? 0.45 : 0.28), 1));
      ds.push(line('smoothed', c.label, c.color, highContrast ? 2.5 : 1.75));
    } else {
      ds.push(line('line', c.label, c.color, highContrast ? 2.5 : 1.5));
    }
  }
  applyHighlight(ds, highlight);
  return ds;
}

/** Style every dataset for the highlighted run ids (none: every line as built). */
export function applyHighlight(ds: readonly TimeDataset[], highlight: ReadonlySet<string>): void {
  const any = highlight.size > 0;
  for (const d of ds) {
    const info = d._info!;
    const on = !any || highlight.has(info.curve.runId);
    let color = info.baseColor;
    let width = info.baseWidth;
    if (any && on && info.role !== 'raw') width = info.baseWidth + HIGHLIGHT.extraWidth;
    if (!on) {
      color = withAlpha(info.curve.color, info.role === 'raw' ? HIGHLIGHT.dimmedRawAlpha : HIGHLIGHT.dimmedAlpha);
      width = Math.min(info.baseWidth, HIGHLIGHT.dimmedWidth);
    }
    d.borderColor = color;
    d.backgroundColor = color;
    d.borderWidth = width;
    // Chart.js draws the lowest order last (on top).
    d.order = any && on ? 0 : 1;
  }
}
