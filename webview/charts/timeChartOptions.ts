/**
 * The Chart.js options of a time chart for one view (x axis mode, log y, theme) and zoom window: no
 * animation, pre-parsed points, tick labels by axis mode, a flat curve given a visible band, our own
 * legend entries (one per dim or metric, not per dataset; none for an overlay's runs: the run legend names
 * them), and tooltips that skip the faint raw curves. An overlay's tooltip names the one line nearest the
 * pointer (fifty runs at one step would be fifty lines of tooltip); a single run's, every dim at that step.
 */
import type { LegendItem } from 'chart.js';
import { formatValue, formatX, integerTicks } from './axes';
import type { LegendEntry, ViewOpts } from './timeChart';
import type { TimeDataset } from './timeDatasets';
import type { XWindow } from './zoomPan';

export interface TimeChartOptionHooks {
  /** The legend entries now (read at every legend layout: curves change without new options). */
  legend(): readonly LegendEntry[];
  onLegendClick(key: string): void;
  /** The canvas was resized. */
  onResize(): void;
}

export function timeChartOptions(view: ViewOpts, zoom: XWindow | null, overlay: boolean, hooks: TimeChartOptionHooks): any {
  const t = view.theme;
  const mode = view.xAxis;
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    onResize: () => hooks.onResize(),
    spanGaps: true,
    events: ['mousemove', 'mouseout', 'click'],
    interaction: { mode: 'nearest', axis: overlay ? 'xy' : 'x', intersect: false },
    elements: { point: { radius: 0, hitRadius: 4, hoverRadius: 3 }, line: { tension: 0, borderJoinStyle: 'round' } },
    layout: { padding: { top: 4, right: 10 } },
    scales: {
      x: {
        type: 'linear',
        min: zoom?.min,
        max: zoom?.max,
        grid: { color: t.grid },
        border: { color: t.border },
        ticks: {
          color: t.muted,
          maxRotation: 0,
          autoSkipPadding: 12,
          // Steps are whole numbers: a step size below 1 (a short run) must not give ticks 1, 1.5, 2
          // labelled "1 2 2" (precision 0 rounds the step size up to 1).
          precision: mode === 'step' ? 0 : undefined,
          callback(this: any, v: number | string) {
            return formatX(Number(v), mode, (this.max ?? 0) - (this.min ?? 0));
          },
        },
        // A zoom window's fractional bounds are ticks too (Chart.js includes the bounds): on the step axis
        // keep whole steps only.
        afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
          if (mode === 'step') sc.ticks = integerTicks(sc.ticks);
        },
        title: { display: true, text: mode === 'step' ? 'step' : mode === 'relative' ? 'time since start' : 'wall time', color: t.muted },
      },
      y: {
        type: view.logY ? 'logarithmic' : 'linear',
        // A flat curve (a constant, or an EMA of one with float noise) would get a 1e-16-tall axis
        // with every tick labelled the same: give it a visible band around the value instead.
        afterDataLimits: (sc: { min: number; max: number }) => {
          if (!Number.isFinite(sc.min) || !Number.isFinite(sc.max)) return;
          const mag = Math.max(Math.abs(sc.min), Math.abs(sc.max));
          if (sc.max - sc.min <= 1e-9 * Math.max(mag, 1e-12)) {
            const pad = mag > 0 ? mag * 0.05 : 1;
            sc.min -= view.logY ? Math.min(pad, sc.min / 2) : pad;
            sc.max += pad;
          }
        },
        grid: { color: t.grid },
        border: { color: t.border },
        ticks: { color: t.muted, callback: (v: number | string) => formatValue(Number(v)) },
      },
    },
    plugins: {
      legend: {
        display: hooks.legend().length > 0,
        position: 'bottom',
        labels: {
          color: t.fg,
          boxWidth: 18,
          boxHeight: 2,
          padding: 8,
          generateLabels: (): LegendItem[] =>
            hooks.legend().map((e, i) => ({
              text: e.text,
              fillStyle: e.dash ? 'transparent' : e.color,
              strokeStyle: e.color,
              lineWidth: e.dash ? 2 : 0,
              lineDash: e.dash,
              hidden: e.hidden,
              fontColor: e.hidden ? t.muted : t.fg,
              datasetIndex: i,
            })),
        },
        onClick: (_e: unknown, item: LegendItem) => {
          const e = hooks.legend()[item.datasetIndex ?? -1];
          if (e) hooks.onLegendClick(e.key);
        },
      },
      tooltip: {
        filter: (item: any) => (item.dataset as TimeDataset)._info?.role !== 'raw',
        itemSort: (a: any, b: any) => b.parsed.y - a.parsed.y,
        callbacks: {
          title: (items: any[]) => (items.length ? formatX(items[0].parsed.x, mode, 1e9) : ''),
          label: (item: any) => `${(item.dataset as TimeDataset)._info?.curve.label ?? item.dataset.label}: ${formatValue(item.parsed.y)}`,
        },
      },
    },
  };
}
