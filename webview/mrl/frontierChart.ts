/**
 * The frontier chart: per shown run, every (dim, precision) point of one eval as quality (% of full-dim
 * float32) against index bytes per vector (x on a log₂ axis). A point's colour is its dim (the panel's dim
 * scale, colors.ts), its shape its precision (float32 ●, int8 ■, binary ▲), filled when rescored (float32
 * too) and hollow when the quantised index is searched alone. Each run's Pareto front is a line in the
 * run's dash (an overlay of several runs: points and front in the run's colour, highlighted as on the time
 * charts, runHighlight.ts); the funnel is a ✕ at its bytes (frontierData.ts says how they are counted). A plugin draws
 * the p % line (one for every run: y is already a share of each run's own full-dim float32) and rings the
 * point each run's advice picks.
 */
import type { Plugin, ScatterDataPoint } from 'chart.js';
import { describePoint, type FrontierPoint } from '../../src/insights/frontier';
import { RUN_LEGEND_MAX } from '../charts/chartSpecs';
import { cardChartOptions, Chart, themedLinearAxis, type PanelTheme } from '../charts/chartSetup';
import { dimColor, hexOf, RUN_DASHES, withAlpha } from '../charts/colors';
import { formatValue } from '../charts/axes';
import { PRECISION_VARIANTS, variantLabel, variantName, type PrecisionVariant } from '../app/precision';
import { describeFunnelOnFrontier, formatBytes, markerOf, type RunFrontier } from './frontierData';
import { applyRunHighlight, rememberStyles, type RunDataset } from './runHighlight';

/** Where a ring was drawn (read by the browser tests through their hook). */
export interface FrontierMark {
  runId: string;
  dim: number;
  variant: PrecisionVariant;
  bytesPerVector: number;
  percent: number;
  px: number;
  py: number;
}

/** Extra fields on our datasets: which run and variant a dataset stands for (legend clicks, tooltips). */
interface Tagged {
  _run: number;
  _kind: 'front' | 'points' | 'funnel';
  _variant?: PrecisionVariant;
  _points?: FrontierPoint[];
}

const log2 = Math.log2;

export class FrontierChart {
  readonly chart: Chart<'scatter', ScatterDataPoint[]>;
  runs: RunFrontier[] = [];
  percent = 95;
  metric = '';
  marks: FrontierMark[] = [];
  /** The p % line's pixel row as last drawn (NaN before). */
  thresholdPx = NaN;
  private allDims: number[] = [];
  /** Highlighted runs (the run legend). */
  private highlight: ReadonlySet<string> = new Set();

  constructor(
    canvas: HTMLCanvasElement,
    private theme: PanelTheme,
  ) {
    this.chart = new Chart(canvas, { type: 'scatter', data: { datasets: [] }, options: this.options(), plugins: [this.marksPlugin()] });
  }

  /** The p % line across the plot and a ring round each run's chosen point (the runs the legend names). */
  private marksPlugin(): Plugin<'scatter'> {
    return {
      id: 'frontierMarks',
      afterDatasetsDraw: (chart) => {
        this.marks = [];
        this.thresholdPx = NaN;
        const xs = chart.scales.x;
        const ys = chart.scales.y;
        const area = chart.chartArea;
        if (!xs || !ys || !area || !this.runs.length) return;
        const ctx = chart.ctx;
        const color = this.theme.accent;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        const py = ys.getPixelForValue(this.percent);
        if (Number.isFinite(py)) {
          this.thresholdPx = py;
          ctx.strokeStyle = withAlpha(hexOf(color), 0.85);
          ctx.lineWidth = 1.25;
          ctx.setLineDash([6, 3]);
          ctx.beginPath();
          ctx.moveTo(area.left, py);
          ctx.lineTo(area.right, py);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = color;
          ctx.font = `${Math.max(10, this.theme.fontSize - 2)}px ${this.theme.fontFamily}`;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'bottom';
          ctx.fillText(`${this.percent} % of full-dim float32`, area.left + 4, py - 2);
        }
        // The dim of each front point, written beside it (the colour scale says it too; words are exact).
        // Two runs at most: more would cover the points.
        if (this.runs.length <= 2) {
          ctx.fillStyle = this.theme.muted;
          ctx.font = `${Math.max(9, this.theme.fontSize - 3)}px ${this.theme.fontFamily}`;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'top';
          for (const r of this.runs) {
            if (!r.advice || !chart.isDatasetVisible(this.frontIndex(r.index))) continue;
            for (const p of r.advice.front) {
              const x = xs.getPixelForValue(log2(p.bytesPerVector));
              const y = ys.getPixelForValue(p.ratio * 100);
              if (Number.isFinite(x) && Number.isFinite(y)) ctx.fillText(`d${p.dim}`, x + 6, y + 4);
            }
          }
        }
        const ringed = this.highlight.size ? this.runs.filter((r) => this.highlight.has(r.runId)) : this.runs;
        for (const r of ringed.slice(0, RUN_LEGEND_MAX)) {
          const p = r.advice?.point;
          if (!p || !chart.isDatasetVisible(this.frontIndex(r.index))) continue;
          const px = xs.getPixelForValue(log2(p.bytesPerVector));
          const pv = ys.getPixelForValue(p.ratio * 100);
          if (![px, pv].every(Number.isFinite)) continue;
          const dash = RUN_DASHES[r.index % RUN_DASHES.length];
          ctx.strokeStyle = withAlpha(hexOf(color), 0.8);
          ctx.lineWidth = 1.25;
          ctx.setLineDash([2, 3]);
          ctx.beginPath();
          ctx.moveTo(px, pv);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
          ctx.setLineDash(dash);
          ctx.lineWidth = 2;
          ctx.strokeStyle = color;
          ctx.beginPath();
          ctx.arc(px, pv, 10, 0, Math.PI * 2);
          ctx.stroke();
          ctx.setLineDash([]);
          const variant = variantName(p.precision, p.rescore);
          this.marks.push({ runId: r.runId, dim: p.dim, variant, bytesPerVector: p.bytesPerVector, percent: p.ratio * 100, px, py: pv });
        }
        ctx.restore();
      },
    };
  }

  /** The dataset index of run `i`'s front line (datasets are laid out run by run; see update). */
  private frontIndex(runIndex: number): number {
    return this.chart.data.datasets.findIndex(
      (d) => (d as unknown as Tagged)._kind === 'front' && (d as unknown as Tagged)._run === runIndex,
    );
  }

  private options(): any {
    const t = this.theme;
    return {
      ...cardChartOptions(),
      scales: {
        x: themedLinearAxis(t, (v) => formatBytes(2 ** v), {
          // One tick per power of two: bytes per vector are sizes, read in doublings.
          afterBuildTicks: (sc: { min: number; max: number; ticks: { value: number }[] }) => {
            const lo = Math.ceil(sc.min);
            const hi = Math.floor(sc.max);
            const step = Math.max(1, Math.ceil((hi - lo + 1) / 12));
            const ticks: { value: number }[] = [];
            for (let v = lo; v <= hi; v += step) ticks.push({ value: v });
            if (ticks.length) sc.ticks = ticks;
          },
          title: { display: true, text: 'index bytes per vector (log₂)', color: t.muted },
        }),
        y: themedLinearAxis(t, (v) => `${formatValue(v)} %`, {
          // The p % line stays inside the plot.
          afterDataLimits: (sc: { min: number; max: number }) => {
            if (this.percent < sc.min) sc.min = this.percent;
            if (this.percent > sc.max) sc.max = this.percent;
          },
          title: { display: true, text: 'quality (% of full-dim float32)', color: t.muted },
        }),
      },
      plugins: {
        legend: {
          display: true,
          position: 'bottom',
          labels: { color: t.fg, usePointStyle: true, boxHeight: 7, padding: 10, generateLabels: (c: Chart) => this.legendItems(c) },
          onClick: (_e: unknown, item: { datasetIndex?: number; _variant?: PrecisionVariant; _run?: number }) => this.toggle(item),
        },
        tooltip: {
          callbacks: {
            label: (item: any) => {
              const d = item.dataset as Tagged & { label: string };
              if (d._kind === 'points' && d._points) {
                const p = d._points[item.dataIndex];
                return `${d.label.split(' · ')[0]} · ${describePoint(p)}: ${p.bytesPerVector} B/vector, ${this.metric} ${formatValue(p.value)} (${formatValue(p.ratio * 100)} %)`;
              }
              if (d._kind === 'funnel') {
                const f = this.runs.find((r) => r.index === d._run)?.funnel;
                return f ? `${d.label}: ${describeFunnelOnFrontier(f)}` : d.label;
              }
              return `${d.label} · ${formatBytes(2 ** item.parsed.x)}: ${formatValue(item.parsed.y)} %`;
            },
          },
        },
      },
    };
  }

  /** Run entries (the front's colour and dash; up to RUN_LEGEND_MAX runs: past that the run legend above the
   *  charts lists them), then one per precision. */
  private legendItems(c: Chart): any[] {
    const t = this.theme;
    const items: any[] = [];
    c.data.datasets.forEach((d, i) => {
      const tg = d as unknown as Tagged;
      if (tg._kind !== 'front' || this.runs.length > RUN_LEGEND_MAX || this.runs.length < 2) return;
      items.push({
        text: String(d.label),
        fillStyle: (d as RunDataset)._style?.borderColor ?? t.fg,
        strokeStyle: (d as RunDataset)._style?.borderColor ?? t.fg,
        lineWidth: 1.5,
        lineDash: RUN_DASHES[tg._run % RUN_DASHES.length],
        pointStyle: 'line',
        hidden: !c.isDatasetVisible(i),
        fontColor: t.fg,
        datasetIndex: i,
      });
    });
    const present = new Set(c.data.datasets.map((d) => (d as unknown as Tagged)._variant).filter((v) => v !== undefined));
    for (const v of PRECISION_VARIANTS) {
      if (!present.has(v)) continue;
      const m = markerOf(v);
      const shown = c.data.datasets.some((d, i) => (d as unknown as Tagged)._variant === v && c.isDatasetVisible(i));
      items.push({
        text: variantLabel(v),
        pointStyle: m.shape,
        fillStyle: m.filled ? t.fg : 'transparent',
        strokeStyle: t.fg,
        lineWidth: 1.5,
        hidden: !shown,
        fontColor: t.fg,
        datasetIndex: -1,
        _variant: v,
      });
    }
    if (c.data.datasets.some((d) => (d as unknown as Tagged)._kind === 'funnel'))
      items.push({
        text: 'funnel',
        pointStyle: 'crossRot',
        fillStyle: t.accent,
        strokeStyle: t.accent,
        lineWidth: 2,
        hidden: false,
        fontColor: t.fg,
        datasetIndex: -1,
      });
    return items;
  }

  /** A run entry shows/hides all of that run; a precision entry that precision in every run. */
  private toggle(item: { datasetIndex?: number; _variant?: PrecisionVariant }): void {
    const c = this.chart;
    const ds = c.data.datasets as unknown as Tagged[];
    let pick: number[] = [];
    if (item._variant) pick = ds.map((d, i) => (d._variant === item._variant ? i : -1)).filter((i) => i >= 0);
    else if ((item.datasetIndex ?? -1) >= 0) {
      const run = ds[item.datasetIndex!]._run;
      pick = ds.map((d, i) => (d._run === run ? i : -1)).filter((i) => i >= 0);
    }
    if (!pick.length) return;
    const show = !pick.some((i) => c.isDatasetVisible(i));
    for (const i of pick) c.setDatasetVisibility(i, show);
    c.update('none');
  }

  setTheme(theme: PanelTheme): void {
    this.theme = theme;
    this.chart.options = this.options();
    this.chart.update('none');
  }

  /** Rebuild from the runs' frontiers. `allDims`: every dim in the store (the colour scale); `colors`: each
   *  run's colour in an overlay (its points and front drawn in it instead of the dims' colours). */
  update(runs: RunFrontier[], metric: string, percent: number, allDims: number[], colors: ReadonlyMap<string, string> = new Map()): void {
    const t = this.theme;
    this.runs = runs;
    this.metric = metric;
    this.percent = percent;
    this.allDims = allDims;
    const fg = hexOf(t.fg);
    const datasets: any[] = [];
    const xs: number[] = [];
    for (const r of runs) {
      const a = r.advice;
      if (!a) continue;
      const runColor = colors.get(r.runId);
      const dash = runColor ? [] : RUN_DASHES[r.index % RUN_DASHES.length];
      datasets.push({
        _run: r.index,
        _runId: r.runId,
        _kind: 'front',
        label: `${r.name} @ step ${r.step}`,
        data: a.front.map((p) => ({ x: log2(p.bytesPerVector), y: p.ratio * 100 })),
        showLine: true,
        borderColor: runColor ?? withAlpha(fg, 0.6),
        borderDash: dash,
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
      });
      for (const v of PRECISION_VARIANTS) {
        const pts = a.points.filter((p) => variantName(p.precision, p.rescore) === v);
        if (!pts.length) continue;
        const m = markerOf(v);
        const pc = pts.map((p) => runColor ?? dimColor(p.dim, this.allDims.length ? this.allDims : [p.dim], t.kind));
        datasets.push({
          _run: r.index,
          _runId: r.runId,
          _kind: 'points',
          _variant: v,
          _points: pts,
          label: `${r.name} · ${variantLabel(v)}`,
          data: pts.map((p) => ({ x: log2(p.bytesPerVector), y: p.ratio * 100 })),
          pointStyle: m.shape,
          pointRadius: 5,
          pointHoverRadius: 7,
          pointBorderWidth: 1.75,
          pointBorderColor: pc,
          pointBackgroundColor: m.filled ? pc : pc.map(() => 'transparent'),
          showLine: false,
        });
        for (const p of pts) xs.push(log2(p.bytesPerVector));
      }
      if (r.funnel) {
        datasets.push({
          _run: r.index,
          _runId: r.runId,
          _kind: 'funnel',
          label: `${r.name} funnel ${r.funnel.shortlistDim}→${r.funnel.rerankDim}`,
          data: [{ x: log2(r.funnel.bytesPerVector), y: r.funnel.ratio * 100 }],
          pointStyle: 'crossRot',
          pointRadius: 8,
          pointHoverRadius: 10,
          pointBorderWidth: 2.5,
          pointBorderColor: t.accent,
          pointBackgroundColor: t.accent,
          showLine: false,
        });
        xs.push(log2(r.funnel.bytesPerVector));
      }
    }
    rememberStyles(datasets);
    applyRunHighlight(datasets, this.highlight);
    this.chart.data.datasets = datasets;
    const xo = (this.chart.options.scales as any).x;
    xo.min = xs.length ? Math.floor(Math.min(...xs)) - 0.25 : undefined;
    xo.max = xs.length ? Math.ceil(Math.max(...xs)) + 0.25 : undefined;
    this.chart.update('none');
  }

  /** Highlight these runs (the run legend): restyled in place. */
  setHighlight(runIds: ReadonlySet<string>): void {
    this.highlight = new Set(runIds);
    applyRunHighlight(this.chart.data.datasets as RunDataset[], this.highlight);
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}
