/**
 * The x axis modes of the time charts (step, time since start, wall clock), the column of a Series each
 * reads, and how tick and tooltip values are written (also used by the MRL chart).
 */
import type { Series } from '../app/store';

export type XAxisMode = 'step' | 'relative' | 'wall';

export function xColumn(s: Series, mode: XAxisMode): Float64Array {
  if (mode === 'step') return s.step;
  if (mode === 'wall' && s.n > 0 && Number.isFinite(s.wall[0])) return s.wall;
  return s.time;
}

export function formatDuration(sec: number): string {
  const s = Math.abs(sec);
  const sign = sec < 0 ? '-' : '';
  if (s < 60) return `${sign}${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = Math.round(s % 60);
  return h > 0 ? `${sign}${h}h${String(m).padStart(2, '0')}m` : `${sign}${m}m${String(r).padStart(2, '0')}s`;
}

function formatWall(ms: number, span: number): string {
  const d = new Date(ms);
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (span > 86400e3) return `${d.getMonth() + 1}/${d.getDate()} ${hhmm}`;
  return span < 600e3 ? `${hhmm}:${String(d.getSeconds()).padStart(2, '0')}` : hhmm;
}

export function formatStep(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

/** Whole-number ticks only (for a step axis), at most one per integer. */
export function integerTicks<T extends { value: number }>(ticks: readonly T[]): T[] {
  const seen = new Set<number>();
  return ticks.filter((t) => Number.isInteger(t.value) && !seen.has(t.value) && seen.add(t.value));
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(+v.toPrecision(4));
}

export function formatX(v: number, mode: XAxisMode, span: number): string {
  return mode === 'step' ? formatStep(v) : mode === 'relative' ? formatDuration(v) : formatWall(v, span);
}
