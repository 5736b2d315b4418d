/**
 * The time chart's Chart.js plugin drawn after the lines: a ring on each curve's best value, a diamond on
 * the step whose checkpoint training.keepBest kept, and the box of a zoom drag in progress. All clipped to the plot area.
 */
import type { Plugin } from 'chart.js';
import type { PanelTheme } from './chartSetup';
import { withAlpha } from './colors';

export interface OverlaySource {
  /** Points to ring, in current axis units. */
  best(): readonly { x: number; y: number; color: string }[];
  /** Points whose checkpoint training.keepBest kept (run.json bestCheckpoints), in current axis units. */
  kept?(): readonly { x: number; y: number; color: string }[];
  /** The zoom box being dragged, [left, right] in canvas px, or null. */
  selectionBox(): [number, number] | null;
  theme(): PanelTheme;
}

export function overlayPlugin(src: OverlaySource): Plugin<'line'> {
  return {
    id: 'mrlOverlay',
    afterDatasetsDraw: (chart) => {
      const ctx = chart.ctx;
      const xs = chart.scales.x;
      const ys = chart.scales.y;
      const area = chart.chartArea;
      const theme = src.theme();
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      for (const b of src.best()) {
        const px = xs.getPixelForValue(b.x);
        const py = ys.getPixelForValue(b.y);
        if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
        ctx.beginPath();
        ctx.arc(px, py, 4.5, 0, Math.PI * 2);
        ctx.fillStyle = theme.bg;
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.strokeStyle = b.color;
        ctx.stroke();
      }
      // A kept best checkpoint: a filled diamond (the ring says "best value", the diamond "checkpoint kept here").
      for (const k of src.kept?.() ?? []) {
        const px = xs.getPixelForValue(k.x);
        const py = ys.getPixelForValue(k.y);
        if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
        const r = 6;
        ctx.beginPath();
        ctx.moveTo(px, py - r);
        ctx.lineTo(px + r, py);
        ctx.lineTo(px, py + r);
        ctx.lineTo(px - r, py);
        ctx.closePath();
        ctx.fillStyle = k.color;
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = theme.bg;
        ctx.stroke();
      }
      const box = src.selectionBox();
      if (box) {
        const [x0, x1] = box;
        ctx.fillStyle = withAlpha('#808080', 0.18);
        ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
        ctx.strokeStyle = theme.accent;
        ctx.lineWidth = 1;
        ctx.strokeRect(x0 + 0.5, area.top + 0.5, x1 - x0, area.bottom - area.top - 1);
      }
      ctx.restore();
    },
  };
}
