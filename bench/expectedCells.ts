/**
 * What the runs table must show for a run once its metrics are read, computed from its metrics.jsonl
 * alone (plain JSON.parse, the resume rule written out here again): the latest evaluation per metric and
 * dim (`ndcg@10@64`), the best over every evaluation (`best:ndcg@10@64`, max, or min for a loss) and the
 * latest evaluation's funnel values (`funnel:ndcg@10`). Shared by the bench's `cells500` case and the
 * end-to-end scale test, so that neither trusts the reader it checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Line {
  type?: string;
  fromStep?: number;
  step?: number;
  split?: string;
  values?: Record<string, unknown>;
  byDim?: Record<string, Record<string, unknown>>;
}

/** Column key → value, for the columns the table fills from a run's metrics. */
export type ExpectedCells = Map<string, number>;

export function expectedCells(runDir: string): ExpectedCells {
  const events: Line[] = [];
  for (const raw of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!raw.trim()) continue;
    let l: Line;
    try {
      l = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (l.type === 'resume' && typeof l.fromStep === 'number') {
      const from = l.fromStep;
      // A resume drops every earlier event past its step (they are trained again).
      for (let i = events.length - 1; i >= 0; i--) if ((events[i].step ?? 0) > from) events.splice(i, 1);
    } else if (typeof l.step === 'number') events.push(l);
  }
  const out: ExpectedCells = new Map();
  const evals = events.filter((e) => e.split === 'eval');
  const last = evals[evals.length - 1];
  if (!last) return out;
  for (const [d, ms] of Object.entries(last.byDim ?? {}))
    for (const [m, v] of Object.entries(ms)) if (typeof v === 'number') out.set(`${m}@${d}`, v);
  for (const [k, v] of Object.entries(last.values ?? {})) if (k.startsWith('funnel:') && typeof v === 'number') out.set(k, v);
  for (const e of evals)
    for (const [d, ms] of Object.entries(e.byDim ?? {}))
      for (const [m, v] of Object.entries(ms)) {
        if (typeof v !== 'number') continue;
        const k = `best:${m}@${d}`;
        const lower = /loss|error|time/i.test(m);
        const had = out.get(k);
        if (had === undefined || (lower ? v < had : v > had)) out.set(k, v);
      }
  return out;
}
