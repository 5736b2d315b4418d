/** The sweep shape's persisted choices (UiState.sweepShape). Brushes are not kept: a filter nobody sees
 *  after a reload would hide runs without a word. Pure: no DOM. */

export interface SweepShapeState {
  /** The section is open. */
  open: boolean;
  /** `sweep:<id>`, `selected` (the table's selected rows) or `all`; null: the newest sweep, else all runs. */
  source: string | null;
  /** A runs-table metric column key (`ndcg@10@64`); null: the headline metric at the largest dim. */
  metric: string | null;
  /** The parameter of the scatter; null: the first axis. */
  param: string | null;
}

export function defaultShapeState(): SweepShapeState {
  return { open: true, source: null, metric: null, param: null };
}

/** Restore what we can; a field of the wrong type falls back to its default. */
export function loadShapeState(raw: unknown): SweepShapeState {
  const s = defaultShapeState();
  if (typeof raw !== 'object' || raw === null) return s;
  const r = raw as Record<string, unknown>;
  if (typeof r.open === 'boolean') s.open = r.open;
  for (const k of ['source', 'metric', 'param'] as const) if (typeof r[k] === 'string') s[k] = r[k] as string;
  return s;
}
