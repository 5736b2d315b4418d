/**
 * One parameter against the metric (Chart.js scatter): a point per run with both, coloured by the metric
 * as in the parallel coordinates; runs outside the brushes faint. A numeric parameter reads on a linear
 * axis, or a log one when its values span more than a decade (the axis of shapeData.ts); a categorical one
 * at evenly spaced positions named by its values.
 */
import type { ScatterDataPoint } from 'chart.js';
import { formatConfigValue } from '../../src/config/diff';
import { formatValue } from '../charts/axes';
import { cardChartOptions, Chart, themedLinearAxis, type PanelTheme } from '../charts/chartSetup';
import { hexOf, withAlpha } from '../charts/colors';
import { metricColour, type ShapeAxis, type ShapeModel } from './shapeData';

export interface ScatterPoint extends ScatterDataPoint {
  runId: string;
  name: string;
  label: string;
  inside: boolean;
}

export class ParamScatter {
  readonly chart: Chart<'scatter', ScatterPoint[]>;
  points: ScatterPoint[] = [];
  private axis: ShapeAxis | null = null;
  private metricLabel = '';
  /** What the chart was last drawn from: a run list that changed nothing here costs no Chart.js pass. */
  private drawnFrom = '';

  constructor(
    canvas: HTMLCanvasElement,
    private theme: PanelTheme,
  ) {
    this.chart = new Chart(canvas, { type: 'scatter', data: { datasets: [] }, options: this.options() });
  }

  setTheme(t: PanelTheme): void {
    this.theme = t;
    this.drawnFrom = '';
    this.chart.options = this.options();
    this.chart.update('none');
  }

  /** Points of `param` (an axis key of the model) against the metric; `inside`: the runs inside the brushes. */
  update(model: ShapeModel, param: string | null, inside: ReadonlySet<string>): void {
    const i = model.axes.findIndex((a) => a.key === param && !a.metric);
    const metric = model.axes.find((a) => a.metric);
    this.axis = i >= 0 ? model.axes[i] : null;
    this.metricLabel = metric?.label ?? '';
    const pts: ScatterPoint[] = [];
    if (this.axis && metric) {
      const cats = this.axis.scale === 'category';
      for (const l of model.lines) {
        const v = l.values[i];
        if (l.metric === null || l.pos[i] === null) continue;
        // A category sits at its index (the ticks name it); a number at itself.
        const x = cats ? this.axis.categories.indexOf(formatConfigValue(v)) : (v as number);
        pts.push({
          x,
          y: l.metric,
          runId: l.runId,
          name: l.name,
          label: cats ? this.axis.categories[x] : formatValue(x),
          inside: inside.has(l.runId),
        });
      }
    }
    this.points = pts;
    const from = JSON.stringify([this.axis, this.metricLabel, model.metricRange, model.lowerIsBetter, pts]);
    if (from === this.drawnFrom) return;
    this.drawnFrom = from;
    const faint = withAlpha(hexOf(this.theme.muted), 0.3);
    const colours = pts.map((p) => (p.inside ? metricColour(p.y, model.metricRange, model.lowerIsBetter) : faint));
    this.chart.data.datasets = [
      {
        label: this.metricLabel,
        data: pts,
        pointRadius: 5,
        pointHoverRadius: 7,
        pointBackgroundColor: colours,
        pointBorderColor: pts.map((p) => (p.inside ? this.theme.bg : faint)),
        pointBorderWidth: 1,
      },
    ];
    this.chart.options = this.options();
    this.chart.update('none');
  }

  private options(): any {
    const t = this.theme;
    const a = this.axis;
    // A swept parameter's few values: a tick on each (the axis' own ticks), written as the config writes them.
    const swept = a && a.scale !== 'category' && a.ticks.length <= 8 ? a.ticks.map((tk) => Number(tk.label)) : null;
    const sweptTicks = swept && {
      afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
        sc.ticks = swept.map((value) => ({ value }));
      },
    };
    const label = (v: number) => (swept ? String(v) : formatValue(v));
    const x =
      a?.scale === 'log'
        ? {
            type: 'logarithmic',
            grid: { color: t.grid },
            border: { color: t.border },
            ticks: { color: t.muted, callback: (v: number | string) => label(Number(v)) },
            ...sweptTicks,
          }
        : a?.scale === 'category'
          ? themedLinearAxis(t, (v) => (Number.isInteger(v) ? (a.categories[v] ?? '') : ''), {
              min: -0.5,
              max: a.categories.length - 0.5,
              afterBuildTicks: (sc: { ticks: { value: number }[] }) => {
                sc.ticks = a.categories.map((_, i) => ({ value: i }));
              },
            })
          : themedLinearAxis(t, label, { grace: '5%', ...sweptTicks });
    return {
      ...cardChartOptions(),
      scales: {
        x: { ...x, title: { display: !!a, text: a ? (a.scale === 'log' ? `${a.label} (log)` : a.label) : '', color: t.muted } },
        y: themedLinearAxis(t, formatValue, { grace: '5%', title: { display: true, text: this.metricLabel, color: t.muted } }),
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item: { raw: ScatterPoint }) =>
              `${item.raw.name}: ${a?.label} = ${item.raw.label}, ${this.metricLabel} ${formatValue(Number(item.raw.y))}`,
          },
        },
      },
    };
  }
}
