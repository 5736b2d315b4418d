/**
 * Run colour and highlight on the card charts (metric vs dim, frontier), as on the time charts
 * (charts/timeDatasets.ts): in an overlay each run's datasets carry its colour; with runs highlighted (the
 * run legend) theirs are drawn wider and on top, the others' lines and points faint. A dataset remembers
 * its own style (`_style`) so a highlight can be taken back without rebuilding the chart.
 */
import { HIGHLIGHT } from '../charts/timeDatasets';

type Paint = string | string[];

interface RunStyle {
  borderColor?: Paint;
  backgroundColor?: Paint;
  pointBorderColor?: Paint;
  pointBackgroundColor?: Paint;
  borderWidth?: number;
}

/** A card chart dataset that belongs to a run. */
export interface RunDataset extends RunStyle {
  _runId?: string;
  _style?: RunStyle;
  order?: number;
}

/** `color` (#rrggbb, rgb(…), rgba(…) or transparent) at most `alpha` opaque. */
export function faded(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const v = parseInt(hex[1], 16);
    return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?\s*\)$/i.exec(color);
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${Math.min(alpha, rgb[4] === undefined ? 1 : Number(rgb[4]))})`;
  return color; // 'transparent', a named colour: left as is
}

const fade = (p: Paint | undefined): Paint | undefined =>
  Array.isArray(p) ? p.map((c) => faded(c, HIGHLIGHT.dimmedAlpha)) : p && faded(p, HIGHLIGHT.dimmedAlpha);

/** Remember each run dataset's style as built (call once after building, before applyRunHighlight). */
export function rememberStyles(datasets: readonly RunDataset[]): void {
  for (const d of datasets) {
    if (d._runId === undefined) continue;
    const { borderColor, backgroundColor, pointBorderColor, pointBackgroundColor, borderWidth } = d;
    d._style = { borderColor, backgroundColor, pointBorderColor, pointBackgroundColor, borderWidth };
  }
}

/** Style the run datasets for the highlighted run ids (none: as built). */
export function applyRunHighlight(datasets: readonly RunDataset[], highlight: ReadonlySet<string>): void {
  const any = highlight.size > 0;
  for (const d of datasets) {
    const s = d._style;
    if (d._runId === undefined || !s) continue;
    const on = !any || highlight.has(d._runId);
    d.borderColor = on ? s.borderColor : fade(s.borderColor);
    d.backgroundColor = on ? s.backgroundColor : fade(s.backgroundColor);
    d.pointBorderColor = on ? s.pointBorderColor : fade(s.pointBorderColor);
    d.pointBackgroundColor = on ? s.pointBackgroundColor : fade(s.pointBackgroundColor);
    if (s.borderWidth !== undefined)
      d.borderWidth = !any ? s.borderWidth : on ? s.borderWidth + HIGHLIGHT.extraWidth : Math.min(s.borderWidth, HIGHLIGHT.dimmedWidth);
    d.order = any && on ? 0 : 1;
  }
}
