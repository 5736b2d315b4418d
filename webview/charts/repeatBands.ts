/**
 * Repeat bands on the time charts: where a chart shows two or more repeats of one sweep combination
 * (run.json `sweep.combination`, `sweep.repeat`) for the same metric and dim, it also draws their mean
 * (a thick line) inside a band from their min to their max, step by step, and draws the repeats' own
 * curves faint. A Chart.js plugin over the chart's curves (TimeChart registers it; no dataset of its own),
 * built from the full-resolution series (smoothed where the chart smooths them). Which runs are repeats of what, and
 * whether bands are on, come from the panel (setRepeatBandSource). buildRepeatBands is pure.
 */
import type { Chart, Plugin } from 'chart.js';
import { repeatGroupKey } from '../../src/insights/repeats';
import { runDisplayName } from '../../src/insights/runLabel';
import type { PanelRun } from '../../src/protocol/panelMessages';
import { xColumn, type XAxisMode } from './axes';
import { hexOf, withAlpha } from './colors';
import { curveSmoothing } from './smoothingRule';
import type { Curve, TimeDataset, ViewOpts } from './timeChart';

export interface BandPoint {
  x: number;
  step: number;
  mean: number;
  lo: number;
  hi: number;
  /** Repeats with a value at this step. */
  n: number;
}

export interface RepeatBand {
  /** `<sweep id>#<combination>|<split>/<metric>|<dim>` */
  key: string;
  label: string;
  color: string;
  /** The member curves' run ids, and the curves' ids (drawn faint under the band's mean). */
  runIds: string[];
  curveIds: string[];
  points: BandPoint[];
}

export interface RepeatGroup {
  key: string;
  label: string;
}

/** Where the panel says which runs are repeats of what, and whether bands are drawn. */
export interface RepeatBandSource {
  enabled(): boolean;
  group(runId: string): RepeatGroup | null;
  /** Changes whenever the groups may have (a new run list). */
  version(): number;
}

let source: RepeatBandSource = { enabled: () => false, group: () => null, version: () => 0 };
export function setRepeatBandSource(s: RepeatBandSource): void {
  source = s;
}

/** A source over a run list (re-read when the list object changes) and an on/off switch. */
export function runsBandSource(runs: () => readonly PanelRun[], enabled: () => boolean): RepeatBandSource {
  let seen: readonly PanelRun[] | null = null;
  let groups = new Map<string, RepeatGroup>();
  let version = 0;
  const sync = () => {
    const list = runs();
    if (list === seen) return;
    seen = list;
    version++;
    groups = new Map();
    for (const r of list) {
      const key = repeatGroupKey(r);
      if (key)
        groups.set(r.id, { key, label: runDisplayName({ ...r, notes: undefined, sweep: r.sweep && { ...r.sweep, repeat: undefined } }) });
    }
  };
  return {
    enabled,
    group: (id) => (sync(), groups.get(id) ?? null),
    version: () => (sync(), version),
  };
}

/** At most this many band points are drawn (a pixel column holds no more). */
const MAX_DRAWN = 2000;

/** The bands of these curves: per combination, metric and dim with two or more member curves. */
export function buildRepeatBands(
  curves: readonly Curve[],
  group: (runId: string) => RepeatGroup | null,
  opts: { xAxis: XAxisMode; smoothing: number },
): RepeatBand[] {
  const by = new Map<string, { g: RepeatGroup; curves: Curve[] }>();
  for (const c of curves) {
    const g = group(c.runId);
    if (!g) continue;
    const key = `${g.key}|${c.series.key.split}/${c.series.key.metric}|${c.dim ?? ''}`;
    let e = by.get(key);
    if (!e) by.set(key, (e = { g, curves: [] }));
    if (!e.curves.some((x) => x.runId === c.runId)) e.curves.push(c);
  }
  const out: RepeatBand[] = [];
  for (const [key, { g, curves: members }] of by) {
    if (members.length < 2) continue;
    const at = new Map<number, { x: number; ys: number[] }>();
    for (const c of members) {
      const s = c.series;
      const w = curveSmoothing(s.key, opts.smoothing);
      const ys = w > 0 ? s.smoothed(w) : s.y;
      const xs = xColumn(s, opts.xAxis);
      for (let i = 0; i < s.n; i++) {
        if (!Number.isFinite(ys[i])) continue;
        let a = at.get(s.step[i]);
        if (!a) at.set(s.step[i], (a = { x: 0, ys: [] }));
        a.x += xs[i];
        a.ys.push(ys[i]);
      }
    }
    const points: BandPoint[] = [];
    for (const step of [...at.keys()].sort((a, b) => a - b)) {
      const a = at.get(step)!;
      if (a.ys.length < 2) continue; // one repeat alone is its own curve, not a band
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (const y of a.ys) {
        sum += y;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
      points.push({ x: a.x / a.ys.length, step, mean: sum / a.ys.length, lo, hi, n: a.ys.length });
    }
    if (points.length)
      out.push({
        key,
        label: `${g.label} · mean of ${members.length}`,
        color: members[0].color,
        runIds: members.map((c) => c.runId),
        curveIds: members.map((c) => c.id),
        points,
      });
  }
  return out;
}

/** Every `k`-th point (and the last) of a long band. */
function thin(points: BandPoint[]): BandPoint[] {
  if (points.length <= MAX_DRAWN) return points;
  const k = Math.ceil(points.length / MAX_DRAWN);
  return points.filter((_, i) => i % k === 0 || i === points.length - 1);
}

const drawnBands = new WeakMap<object, RepeatBand[]>();
/** The bands a chart drew last (the browser tests' hook). */
export function repeatBandsOf(chart: Chart | null | undefined): RepeatBand[] {
  return (chart && drawnBands.get(chart)) ?? [];
}

/** How strongly a repeat's own curve is drawn while its combination's band and mean are. */
const MEMBER_ALPHA = 0.35;

/** The plugin a TimeChart registers: bands under its lines, the repeats' own curves faint, means over them. */
export function repeatBandsPlugin(curves: () => readonly Curve[], view: () => ViewOpts): Plugin<'line'> {
  let sig = '';
  let bands: RepeatBand[] = [];
  const current = (): RepeatBand[] => {
    if (!source.enabled()) return [];
    const v = view();
    const cs = curves();
    const next = `${source.version()}|${v.xAxis}|${v.smoothing}|${cs.map((c) => `${c.id}:${c.series.uid}:${c.series.n}:${c.series.generation}`).join(',')}`;
    if (next !== sig) {
      sig = next;
      bands = buildRepeatBands(cs, (id) => source.group(id), { xAxis: v.xAxis, smoothing: v.smoothing }).map((b) => ({
        ...b,
        points: thin(b.points),
      }));
    }
    return bands;
  };
  const clip = (chart: Chart) => {
    const a = chart.chartArea;
    chart.ctx.save();
    chart.ctx.beginPath();
    chart.ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top);
    chart.ctx.clip();
  };
  let members = new Set<string>();
  return {
    id: 'mrlRepeatBands',
    beforeDatasetsDraw: (chart) => {
      const bs = current();
      drawnBands.set(chart, bs);
      members = new Set(bs.flatMap((b) => b.curveIds));
      if (!bs.length) return;
      const { ctx, scales } = chart;
      clip(chart);
      for (const b of bs) {
        ctx.beginPath();
        b.points.forEach((p, i) =>
          (i ? ctx.lineTo : ctx.moveTo).call(ctx, scales.x.getPixelForValue(p.x), scales.y.getPixelForValue(p.hi)),
        );
        for (let i = b.points.length - 1; i >= 0; i--)
          ctx.lineTo(scales.x.getPixelForValue(b.points[i].x), scales.y.getPixelForValue(b.points[i].lo));
        ctx.closePath();
        ctx.fillStyle = withAlpha(hexOf(b.color), 0.22);
        ctx.fill();
      }
      ctx.restore();
    },
    beforeDatasetDraw: (chart, args) => {
      const id = (chart.data.datasets[args.index] as TimeDataset | undefined)?._info?.curve.id;
      if (id === undefined || !members.has(id)) return;
      chart.ctx.save();
      chart.ctx.globalAlpha = MEMBER_ALPHA;
    },
    afterDatasetDraw: (chart, args) => {
      const id = (chart.data.datasets[args.index] as TimeDataset | undefined)?._info?.curve.id;
      if (id !== undefined && members.has(id)) chart.ctx.restore();
    },
    afterDatasetsDraw: (chart) => {
      const bs = drawnBands.get(chart) ?? [];
      if (!bs.length) return;
      const { ctx, scales } = chart;
      const bg = view().theme.bg;
      clip(chart);
      for (const b of bs) {
        const path = () => {
          ctx.beginPath();
          b.points.forEach((p, i) =>
            (i ? ctx.lineTo : ctx.moveTo).call(ctx, scales.x.getPixelForValue(p.x), scales.y.getPixelForValue(p.mean)),
          );
        };
        // A halo in the background colour keeps the mean readable over its own members.
        path();
        ctx.lineWidth = 5;
        ctx.strokeStyle = withAlpha(hexOf(bg), 0.7);
        ctx.stroke();
        path();
        ctx.lineWidth = 3;
        ctx.strokeStyle = b.color;
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}
