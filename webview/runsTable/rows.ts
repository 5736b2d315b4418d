/**
 * The runs table's rows: one per run, with what every column reads precomputed once per run object (the
 * flattened config, the dim advice, the frontier's answer). A runInfo replaces a run's object, so a WeakMap keyed on it recomputes
 * exactly the rows that changed. Pure: no DOM.
 */
import { flattenConfig, type FlatConfig } from '../../src/config/diff';
import { adviseDim, type DimAdvice } from '../../src/insights/dimAdvisor';
import { adviseFrontier, type FrontierAdvice } from '../../src/insights/frontier';
import type { PanelRun, PanelSettings } from '../../src/protocol/panelMessages';
import { runLabel } from '../app/model';

export interface TableRow {
  run: PanelRun;
  /** What the tree and the legends call the run: over the run list, runs of one name lead with what
   *  differs between them (src/insights/runLabel.ts, relabelRuns). */
  name: string;
  tags: string[];
  /** config.json flattened to dotted paths (src/config/diff.ts). */
  params: FlatConfig;
  /** The dim advisor on the latest eval (null: no per-dim eval at two dims yet). */
  advice: DimAdvice | null;
  /** The frontier's answer on the latest eval (cheapest dim × precision reaching p % of full-dim float32). */
  frontier: FrontierAdvice | null;
  startedMs: number | undefined;
  endedMs: number | undefined;
  /** Lower-cased text the free-text filter searches: name, display name, tags, id, note. */
  haystack: string;
}

const cache = new WeakMap<PanelRun, { percent: number; name: string; row: TableRow }>();

function ms(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

export function tableRow(run: PanelRun, settings: PanelSettings): TableRow {
  const hit = cache.get(run);
  const name = runLabel(run);
  // Another run of the same name came or went: the label (and what the filter searches) changes.
  if (hit && hit.percent === settings.advisorPercent && hit.name === name) return hit.row;
  const s = run.summary;
  const advice = s ? adviseDim(s.last, { percent: settings.advisorPercent, values: s.lastValues }) : null;
  const frontier = s ? adviseFrontier(s.last, { percent: settings.advisorPercent }) : null;
  const tags = run.notes?.tags ?? [];
  const row: TableRow = {
    run,
    name,
    tags,
    params: run.config ? flattenConfig(run.config) : new Map(),
    advice,
    frontier,
    startedMs: ms(run.startedAt),
    endedMs: ms(run.endedAt),
    haystack: [name, run.name, run.id, ...tags, run.notes?.note ?? ''].join('\n').toLowerCase(),
  };
  cache.set(run, { percent: settings.advisorPercent, name, row });
  return row;
}

export function tableRows(runs: readonly PanelRun[], settings: PanelSettings): TableRow[] {
  return runs.map((r) => tableRow(r, settings));
}
