/**
 * The runs table's geometry for 2-D virtual scrolling: fixed column widths, the columns and rows in view
 * (plus an overscan either side), and the scroll position that brings a row into view. Pure: no DOM.
 */
import type { Column } from './columns';

/** Rows drawn beyond the view above and below, and px of columns beyond it left and right. */
export const ROW_OVERSCAN = 6;
export const COL_OVERSCAN_PX = 240;
/** Row height (px) assumed until the first row drawn is measured. */
export const ROW_PX_GUESS = 22;
/** Width (px) of the checkbox column, left of the data columns. */
export const SELECT_COL_PX = 28;

/** The scroll window: scroll offsets and client size (px). */
export interface Viewport {
  top: number;
  height: number;
  left: number;
  width: number;
}

/** Typical widths (ch) of the run's own columns; others follow their header. */
const RUN_WIDTHS: Record<string, number> = {
  status: 13,
  name: 22,
  tags: 16,
  started: 19,
  duration: 11,
  pairsPerSec: 10,
  backend: 10,
  step: 8,
  loss: 9,
};

/** Columns that stay in view when the table scrolls sideways (position: sticky), when they lead the
 *  columns shown: a sort by a metric far right must not leave rows without their names. */
const FROZEN_KEYS = new Set(['status', 'name']);

/** How many of the leading columns are frozen (the checkbox column always is). */
export function frozenCount(cols: readonly Pick<Column, 'key' | 'group'>[]): number {
  let n = 0;
  while (n < cols.length && cols[n].group === 'run' && FROZEN_KEYS.has(cols[n].key)) n++;
  return n;
}

/** The sticky `left` (px) of each frozen column: the checkbox column, then the widths before it. */
export function frozenLefts(cols: readonly Column[], frozen: number, chPx: number): number[] {
  const out: number[] = [];
  let x = SELECT_COL_PX;
  for (let j = 0; j < frozen; j++) {
    out.push(x);
    x += columnWidthCh(cols[j]) * chPx;
  }
  return out;
}

export function columnWidthCh(c: Column): number {
  if (c.widthCh !== undefined) return c.widthCh;
  const fixed = RUN_WIDTHS[c.key];
  if (fixed !== undefined && c.group === 'run') return fixed;
  return Math.min(32, Math.max(c.kind === 'text' ? 10 : 8, c.label.length + 4));
}

/** Left and right edge (px) of each column, from the fixed widths and px per ch; none while chPx is 0. */
export function columnEdges(cols: readonly Column[], chPx: number): [number, number][] {
  let x = SELECT_COL_PX;
  return chPx > 0 ? cols.map((c) => [x, (x += columnWidthCh(c) * chPx)]) : [];
}

/** The columns in view (plus COL_OVERSCAN_PX either side), as [first, end) indices; all without edges. */
export function visibleCols(edges: readonly [number, number][], vp: Viewport, n: number): [number, number] {
  if (edges.length !== n || !vp.width) return [0, n];
  const lo = vp.left - COL_OVERSCAN_PX;
  const hi = vp.left + vp.width + COL_OVERSCAN_PX;
  let a = 0;
  while (a < n && edges[a][1] < lo) a++;
  let b = a;
  while (b < n && edges[b][0] <= hi) b++;
  return [a, Math.max(b, Math.min(n, a + 1))];
}

/** The rows in view (plus ROW_OVERSCAN either side) of n, as [first, end); rowHeight 0 = not measured. */
export function visibleRows(vp: Viewport, rowHeight: number, n: number): [number, number] {
  const h = rowHeight || ROW_PX_GUESS;
  const o = ROW_OVERSCAN;
  const viewH = vp.height || 800;
  const rows = Math.ceil(viewH / h);
  // Fewer rows than before (a filter): the browser clamps the scroll position, and so do we.
  const first = Math.max(0, Math.min(Math.floor(vp.top / h), n - rows) - o);
  return [first, Math.min(n, first + rows + 2 * o)];
}

/** The scrollTop that shows item i (rows of rowH px under a header of headH px), or null if it is in view. */
export function scrollTopToShow(i: number, rowH: number, headH: number, scrollTop: number, clientHeight: number): number | null {
  const top = i * rowH;
  if (i < 0 || (top >= scrollTop && top + rowH + headH <= scrollTop + clientHeight)) return null;
  return top < scrollTop ? top : top + rowH + headH - clientHeight;
}
