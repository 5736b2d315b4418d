/**
 * The MRL curve: a metric against the embedding dim (x on a log2 axis) at one eval step (the latest, or
 * the one the slider picks), one line per run (dash/marker per run, each point coloured by its dim), and
 * funnel retrieval (shortlist with a small dim, re-rank with a larger one) as a separate marker at the
 * re-rank dim when the run reports it.
 */
import type { ScatterDataPoint } from 'chart.js';
import { Chart, type PanelTheme } from './chartSetup';
import { dimColor, hexOf, RUN_DASHES, RUN_MARKERS, withAlpha } from './colors';
import type { MetricsStore } from './store';
import { formatStep, formatValue } from './timeChart';

export interface MrlRun { id: string; name: string; index: number; config?: Record<string, unknown> | null }

export interface MrlPoint { runId: string; dim: number; y: number; step: number }
export interface FunnelPoint { runId: string; shortlistDim: number; rerankDim: number; y: number; step: number; macsSaved?: number }

/** Where a run's funnel dims come from: values `funnel:shortlistDim`/`funnel:rerankDim`, else the config. */
function funnelDims(rec: Record<string, number>, config: Record<string, unknown> | null | undefined): [number, number] | null {
  let s = rec.shortlistDim;
  let r = rec.rerankDim;
  const f = (config?.evaluation as { funnel?: { shortlistDim?: unknown; rerankDim?: unknown } } | undefined)?.funnel;
  if (!Number.isFinite(s) && typeof f?.shortlistDim === 'number') s = f.shortlistDim;
  if (!Number.isFinite(r) && typeof f?.rerankDim === 'number') r = f.rerankDim;
  return Number.isFinite(s) && Number.isFinite(r) && s > 0 && r > 0 ? [s, r] : null;
}

export class MrlChart {
  readonly chart: Chart<'line', ScatterDataPoint[]>;
  points: MrlPoint[] = [];
  funnel: FunnelPoint[] = [];
  /** The step actually shown per run (≤ the chosen step). */
  shownSteps = new Map<string, number>();

  constructor(canvas: HTMLCanvasElement, private theme: PanelTheme) {
    this.chart = new Chart(canvas, { type: 'line', data: { datasets: [] }, options: this.options() });
  }

  private options(): any {
    const t = this.theme;
    return {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: true },
      layout: { padding: { top: 4, right: 12 } },
      scales: {
        x: {
          type: 'linear',
          grid: { color: t.grid },
          border: { color: t.border },
          ticks: { color: t.muted, callback: (v: number | string) => String(Math.round(2 ** Number(v))) },
          // one tick per dim actually shown (Chart.js would drop the end ticks next to fractional bounds)
          afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
            const ds = [...new Set(this.points.map((p) => p.dim).concat(this.funnel.map((f) => f.rerankDim)))].sort((a, b) => a - b);
            if (ds.length) sc.ticks = ds.map((d) => ({ value: Math.log2(d) }));
          },
          title: { display: true, text: 'embedding dim (log₂)', color: t.muted },
        },
        y: { type: 'linear', grid: { color: t.grid }, border: { color: t.border }, ticks: { color: t.muted, callback: (v: number | string) => formatValue(Number(v)) } },
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
            // Points are coloured by dim; the legend entry stands for the run, so draw its marker neutral.
            generateLabels: (chart: Chart) =>
              Chart.defaults.plugins.legend.labels.generateLabels(chart).map((it) => ({
                ...it,
                fillStyle: it.text.includes(' funnel ') ? it.fillStyle : t.fg,
                strokeStyle: it.text.includes(' funnel ') ? it.strokeStyle : t.fg,
                fontColor: t.fg,
              })),
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
  update(store: MetricsStore, runs: MrlRun[], split: 'train' | 'eval', metric: string, step: number, dims: number[], allDims: number[]): void {
    const t = this.theme;
    const datasets: any[] = [];
    this.points = [];
    this.funnel = [];
    this.shownSteps.clear();
    const sortedDims = [...dims].sort((a, b) => a - b);
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
      const dash = RUN_DASHES[run.index % RUN_DASHES.length];
      const marker = RUN_MARKERS[run.index % RUN_MARKERS.length];
      datasets.push({
        label: `${run.name} @ step ${formatStep(at)}`,
        data,
        borderColor: withAlpha(hexOf(t.fg), 0.55),
        borderDash: dash,
        borderWidth: 1.5,
        pointStyle: marker,
        pointRadius: 5,
        pointHoverRadius: 7,
        pointBackgroundColor: colors,
        pointBorderColor: colors,
        backgroundColor: withAlpha(hexOf(t.fg), 0.55),
      });
      // Funnel: at the step shown, if the run reported `funnel:<metric>`.
      const rec = rd.funnel.get(at) ?? latestFunnelAtOrBefore(rd.funnel, at);
      if (rec && Number.isFinite(rec[metric])) {
        const fd = funnelDims(rec, run.config);
        if (fd) {
          const fp: FunnelPoint = { runId: run.id, shortlistDim: fd[0], rerankDim: fd[1], y: rec[metric], step: at };
          if (Number.isFinite(rec.macsSaved)) fp.macsSaved = rec.macsSaved;
          this.funnel.push(fp);
          const saved = fp.macsSaved !== undefined ? `, ${formatValue(fp.macsSaved * 100)}% multiply-adds saved` : '';
          datasets.push({
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
    this.chart.data.datasets = datasets;
    (this.chart.options.scales as any).y.title = { display: true, text: `${metric} (${split})`, color: t.muted };
    const xs = this.points.map((p) => Math.log2(p.dim));
    const xo = (this.chart.options.scales as any).x;
    xo.min = xs.length ? Math.floor(Math.min(...xs)) - 0.25 : undefined;
    xo.max = xs.length ? Math.ceil(Math.max(...xs)) + 0.25 : undefined;
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}

function latestFunnelAtOrBefore(m: Map<number, Record<string, number>>, step: number): Record<string, number> | undefined {
  let best = -Infinity;
  let rec: Record<string, number> | undefined;
  for (const [s, r] of m) if (s <= step && s > best) {
    best = s;
    rec = r;
  }
  return rec;
}
