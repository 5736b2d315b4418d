/**
 * What a run is called in the runs view and the panel's legends: the user's display name (notes.json) if
 * set, else the run's name — followed, for a run of a sweep, by its swept values, since a sweep's runs
 * all carry their config's name. Pure: the host's tree and the webview share it.
 */
import type { RunNotes } from '../protocol/runFolder';

/** "learningRate=0.001 seed=1" from run.json `sweep.params` (a path's last segment, values as JSON). */
export function sweepParamsText(sweep: unknown, max = 60): string {
  const params = (sweep as { params?: unknown } | undefined)?.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return '';
  const repeat = (sweep as { repeat?: unknown }).repeat;
  const text = Object.entries(params as Record<string, unknown>)
    .map(([path, v]) => `${path.split('.').pop()}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .concat(typeof repeat === 'number' ? [`repeat=${repeat + 1}`] : []) // repeats of a combination share its params
    .join(' ')
    .replace(/\s+/g, ' ');
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function runDisplayName(r: { id?: string; name: string; notes?: RunNotes; sweep?: unknown }): string {
  const shown = r.notes?.displayName?.trim();
  if (shown) return shown;
  const base = r.name || r.id || '';
  const params = sweepParamsText(r.sweep);
  return params ? `${base} · ${params}` : base;
}
