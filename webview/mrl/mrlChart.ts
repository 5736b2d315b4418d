/**
 * The MRL curve: a metric against the embedding dim (x on a log2 axis) at one eval step (the latest, or
 * the one the slider picks), one line per run (one run: each point coloured by its dim; an overlay: the
 * run's colour, highlighted as on the time charts, runHighlight.ts), and
 * funnel retrieval (shortlist with a small dim, re-rank with a larger one) as a separate marker at the
 * re-rank dim when the run reports it.
 *
 * The dim advisor (src/insights/dimAdvisor.ts) on the same step, per run: a horizontal line at p % of the
 * full-dim value and the chosen dim ringed, in the run's dash, drawn by a plugin over the datasets (so the
 * legend and the datasets stay one per run).
 */
import type { Plugin, ScatterDataPoint } from 'chart.js';
import { adviseDim, type DimAdvice } from '../../src/insights/dimAdvisor';
import { FUNNEL_PREFIX, type ByDim } from '../../src/protocol/runFolder';
import { RUN_LEGEND_MAX } from '../charts/chartSpecs';
import { cardChartOptions, Chart, themedLinearAxis, type PanelTheme } from '../charts/chartSetup';
import { dimColor, hexOf, RUN_DASHES, RUN_MARKERS, withAlpha } from '../charts/colors';
import type { MetricsStore } from '../app/store';
import { formatStep, formatValue } from '../charts/axes';
import { funnelDims, latestFunnelAtOrBefore } from './mrlData';
import { applyRunHighlight, rememberStyles, type RunDataset } from './runHighlight';

export interface MrlRun {
  id: string;
  name: string;
  index: number;
  config?: Record<string, unknown> | null;
  /** The run's colour in an overlay (more than one run); absent for one run (points coloured by dim). */
  color?: string;
}

export interface MrlPoint {
  runId: string;
  dim: number;
  y: number;
  step: number;
}
export interface FunnelPoint {
  runId: string;
  shortlistDim: number;
  rerankDim: number;
  y: number;
  step: number;
  macsSaved?: number;
}
/** One run's advice at the step shown (null: the metric is not reported at two dims, or full ≤ 0). */
export interface RunAdvice {
  runId: string;
  name: string;
  index: number;
  step: number;
  advice: DimAdvice | null;
}
/** Where the advisor marks were drawn (read by the browser tests through their hook). */
export interface AdvisorMark {
  runId: string;
  threshold: number;
  dim: number;
  value: number;
  thresholdPx: number;
  dimPx: number;
}

export class MrlChart {
  readonly chart: Chart<'line', ScatterDataPoint[]>;
  points: MrlPoint[] = [];
  funnel: FunnelPoint[] = [];
  /** The step actually shown per run (≤ the chosen step). */
  shownSteps = new Map<string, number>();
  /** The dim advisor per shown run, in run order. */
  advice: RunAdvice[] = [];
  advisorMarks: AdvisorMark[] = [];
  /** Highlighted runs (the run legend). */
  private highlight: ReadonlySet<string> = new Set();

  constructor(
    canvas: HTMLCanvasElement,
    private theme: PanelTheme,
  ) {
    this.chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: this.options(), plugins: [this.advisorPlugin()] });
  }

  /** p % of full dim (a line across the plot) and the chosen dim (a ring, and a tick down to the axis). */
  private advisorPlugin(): Plugin<'line'> {
    return {
      id: 'mrlAdvisor',
      afterDatasetsDraw: (chart) => {
        this.advisorMarks = [];
        const xs = chart.scales.x;
        const ys = chart.scales.y;
        const area = chart.chartArea;
        if (!xs || !ys || !area) return;
        const ctx = chart.ctx;
        const color = this.theme.accent;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        // Marks for the highlighted runs, else the first RUN_LEGEND_MAX: 500 lines would hide the curves.
        const marked = this.highlight.size ? this.advice.filter((ra) => this.highlight.has(ra.runId)) : this.advice;
        for (const ra of marked.slice(0, RUN_LEGEND_MAX)) {
          const a = ra.advice;
          if (!a) continue;
          const dash = RUN_DASHES[ra.index % RUN_DASHES.length];
          const py = ys.getPixelForValue(a.threshold);
          const px = xs.getPixelForValue(Math.log2(a.dim));
          const pv = ys.getPixelForValue(a.value);
          if (![py, px, pv].every(Number.isFinite)) continue;
          ctx.strokeStyle = withAlpha(hexOf(color), 0.8);
          ctx.lineWidth = 1.25;
          ctx.setLineDash(dash.length ? dash : [6, 3]);
          ctx.beginPath();
          ctx.moveTo(area.left, py);
          ctx.lineTo(area.right, py);
          ctx.stroke();
          ctx.setLineDash([2, 3]);
          ctx.beginPath();
          ctx.moveTo(px, pv);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.lineWidth = 2;
          ctx.strokeStyle = color;
          ctx.beginPath();
          ctx.arc(px, pv, 9, 0, Math.PI * 2);
          ctx.stroke();
          if (this.advice.length <= 3) {
            ctx.fillStyle = color;
            ctx.font = `${Math.max(10, this.theme.fontSize - 2)}px ${this.theme.fontFamily}`;
            ctx.textAlign = 'left';
            ctx.textBaseline = 'bottom';
            const who = this.advice.length > 1 ? `${ra.name}: ` : '';
            ctx.fillText(`${who}${a.percent} % of dim ${a.fullDim} → dim ${a.dim}`, area.left + 4, py - 2);
          }
          this.advisorMarks.push({ runId: ra.runId, threshold: a.threshold, dim: a.dim, value: a.value, thresholdPx: py, dimPx: px });
        }
        ctx.restore();
      },
    };
  }

  private options(): any {
    const t = this.theme;
    return {
      ...cardChartOptions(),
      scales: {
        x: themedLinearAxis(t, (v) => String(Math.round(2 ** v)), {
          // one tick per dim actually shown (Chart.js would drop the end ticks next to fractional bounds)
          afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
            const ds = [...new Set(this.points.map((p) => p.dim).concat(this.funnel.map((f) => f.rerankDim)))].sort((a, b) => a - b);
            if (ds.length) sc.ticks = ds.map((d) => ({ value: Math.log2(d) }));
          },
          title: { display: true, text: 'embedding dim (log₂)', color: t.muted },
        }),
        y: themedLinearAxis(t, formatValue, {
          // The advisor's p % line stays inside the plot (for a lower-is-better metric it lies above every point).
          afterDataLimits: (sc: { min: number; max: number }) => {
            for (const ra of this.advice) {
              const th = ra.advice?.threshold;
              if (th === undefined || !Number.isFinite(th)) continue;
              if (th < sc.min) sc.min = th;
              if (th > sc.max) sc.max = th;
            }
          },
        }),
      },
      plugins: {
        legend: {
          display: true,
          position: 'bottom',
          labels: {
            color: t.fg,
            usePointStyle: true,
            boxHeight: 7,
            padding: 10,
            // One run: points are coloured by dim, so its entry is drawn neutral. An overlay: in the run's
            // colour, up to RUN_LEGEND_MAX runs; past that none (the run legend above the charts lists them all).
            generateLabels: (chart: Chart) => {
              const all = Chart.defaults.plugins.legend.labels.generateLabels(chart);
              const overlay = this.runCount > 1;
              const keep = all.filter(
                (it) =>
                  (!overlay || this.runCount <= RUN_LEGEND_MAX) &&
                  ((chart.data.datasets[it.datasetIndex ?? 0] as { _run?: number })._run ?? 0) < RUN_LEGEND_MAX,
              );
              const out = keep.map((it) => ({
                ...it,
                fillStyle: overlay || it.text.includes(' funnel ') ? it.fillStyle : t.fg,
                strokeStyle: overlay || it.text.includes(' funnel ') ? it.strokeStyle : t.fg,
                fontColor: t.fg,
              }));
              const more = this.runCount - RUN_LEGEND_MAX;
              if (more > 0 && !overlay)
                out.push({
                  text: `+ ${more} more runs`,
                  fillStyle: 'transparent',
                  strokeStyle: 'transparent',
                  lineWidth: 0,
                  hidden: false,
                  fontColor: t.muted,
                  datasetIndex: -1,
                } as (typeof out)[number]);
              return out;
            },
          },
          onClick: (e: unknown, item: { datasetIndex?: number }, legend: unknown) => {
            if ((item.datasetIndex ?? -1) < 0) return; // the "+ N more" entry
            (Chart.defaults.plugins.legend.onClick as (...a: unknown[]) => void).call(legend, e, item, legend);
          },
        },
        tooltip: {
          callbacks: {
            label: (item: any) => {
              const x = 2 ** item.parsed.x;
              return `${item.dataset.label} · dim ${Math.round(x)}: ${formatValue(item.parsed.y)}`;
            },
          },
        },
      },
    };
  }

  setTheme(theme: PanelTheme): void {
    this.theme = theme;
    this.chart.options = this.options();
  }

  /**
   * Rebuild for `metric` (an eval or train metric with dims) at `step` (Infinity = latest).
   * `dims` = the dims shown (hidden ones left out), `allDims` for the colour scale.
   */
  private runCount = 0;

  update(
    store: MetricsStore,
    runs: MrlRun[],
    split: 'train' | 'eval',
    metric: string,
    step: number,
    dims: number[],
    allDims: number[],
    percent: number,
  ): void {
    const t = this.theme;
    const datasets: any[] = [];
    this.points = [];
    this.funnel = [];
    this.advice = [];
    this.runCount = runs.length;
    this.shownSteps.clear();
    const sortedDims = [...dims].sort((a, b) => a - b);
    const everyDim = [...allDims].sort((a, b) => a - b);
    for (const run of runs) {
      const rd = store.runs.get(run.id);
      if (!rd) continue;
      // The step shown: the latest step ≤ chosen at which this run evaluated this metric.
      let at = -Infinity;
      for (const d of sortedDims) {
        const s = store.series(run.id, split, metric, d);
        if (!s) continue;
        const i = s.indexAtOrBeforeStep(step);
        if (i >= 0 && s.step[i] > at) at = s.step[i];
      }
      if (!Number.isFinite(at)) continue;
      this.shownSteps.set(run.id, at);
      const data: ScatterDataPoint[] = [];
      const colors: string[] = [];
      for (const d of sortedDims) {
        const s = store.series(run.id, split, metric, d);
        if (!s) continue;
        const i = s.indexAtOrBeforeStep(at);
        if (i < 0 || s.step[i] !== at || !Number.isFinite(s.y[i])) continue;
        data.push({ x: Math.log2(d), y: s.y[i] });
        colors.push(dimColor(d, allDims, t.kind));
        this.points.push({ runId: run.id, dim: d, y: s.y[i], step: at });
      }
      const dash = run.color ? [] : RUN_DASHES[run.index % RUN_DASHES.length];
      const marker = run.color ? RUN_MARKERS[0] : RUN_MARKERS[run.index % RUN_MARKERS.length];
      const line = run.color ?? withAlpha(hexOf(t.fg), 0.55);
      datasets.push({
        _run: run.index,
        _runId: run.id,
        label: `${run.name} @ step ${formatStep(at)}`,
        data,
        borderColor: line,
        borderDash: dash,
        borderWidth: run.color ? 2 : 1.5,
        pointStyle: marker,
        pointRadius: run.color ? 4 : 5,
        pointHoverRadius: 7,
        pointBackgroundColor: run.color ? colors.map(() => run.color!) : colors,
        pointBorderColor: run.color ? colors.map(() => run.color!) : colors,
        backgroundColor: line,
      });
      // Funnel: at the step shown, if the run reported `funnel:<metric>`.
      const rec = rd.funnel.get(at) ?? latestFunnelAtOrBefore(rd.funnel, at);
      // The advisor reads every dim (a hidden dim is still the full dim) at the step shown.
      this.advice.push({
        runId: run.id,
        name: run.name,
        index: run.index,
        step: at,
        advice: adviseDim(byDimAt(store, run.id, split, metric, at, everyDim), { metric, percent, values: funnelValues(rec, run.config) }),
      });
      if (rec && Number.isFinite(rec[metric])) {
        const fd = funnelDims(rec, run.config);
        if (fd) {
          const fp: FunnelPoint = { runId: run.id, shortlistDim: fd[0], rerankDim: fd[1], y: rec[metric], step: at };
          if (Number.isFinite(rec.macsSaved)) fp.macsSaved = rec.macsSaved;
          this.funnel.push(fp);
          const saved = fp.macsSaved !== undefined ? `, ${formatValue(fp.macsSaved * 100)}% multiply-adds saved` : '';
          datasets.push({
            _run: run.index,
            _runId: run.id,
            type: 'scatter',
            label: `${run.name} funnel ${fd[0]}→${fd[1]}${saved}`,
            data: [{ x: Math.log2(fd[1]), y: rec[metric] }],
            pointStyle: 'triangle',
            pointRadius: 8,
            pointHoverRadius: 10,
            borderColor: t.accent,
            backgroundColor: withAlpha(hexOf(t.accent), 0.35),
            borderWidth: 2,
            showLine: false,
          });
        }
      }
    }
    rememberStyles(datasets);
    applyRunHighlight(datasets, this.highlight);
    this.chart.data.datasets = datasets;
    (this.chart.options.scales as any).y.title = { display: true, text: `${metric} (${split})`, color: t.muted };
    const xs = this.points.map((p) => Math.log2(p.dim));
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

/** One run's per-dim values of `metric` at exactly `step` (what the advisor reads). */
function byDimAt(store: MetricsStore, runId: string, split: string, metric: string, step: number, dims: readonly number[]): ByDim {
  const out: ByDim = {};
  for (const d of dims) {
    const s = store.series(runId, split, metric, d);
    if (!s) continue;
    const i = s.indexAtOrBeforeStep(step);
    if (i >= 0 && s.step[i] === step && Number.isFinite(s.y[i])) out[String(d)] = { [metric]: s.y[i] };
  }
  return out;
}

/** The funnel record (`funnel:` stripped, as the store keeps it) back as eval values, dims from the
 *  config when the run did not log them. */
function funnelValues(rec: Record<string, number> | undefined, config: MrlRun['config']): Record<string, number> | undefined {
  if (!rec) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec)) if (Number.isFinite(v)) out[FUNNEL_PREFIX + k] = v;
  const fd = funnelDims(rec, config);
  if (fd) {
    out[FUNNEL_PREFIX + 'shortlistDim'] = fd[0];
    out[FUNNEL_PREFIX + 'rerankDim'] = fd[1];
  }
  return out;
}
