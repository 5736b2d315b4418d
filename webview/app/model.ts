/**
 * The panel's model: the metrics store, the UI state and the run list, plus the read-only views of them
 * that every part of the panel shares (which runs are shown, metric order, dims). Pure: no DOM.
 */
import { DEFAULT_ADVISOR_PERCENT } from '../../src/insights/dimAdvisor';
import { distinctRunLabels, runDisplayName } from '../../src/insights/runLabel';
import type { PanelRun, PanelSettings } from '../../src/protocol/panelMessages';
import { SYS_PREFIX } from '../../src/protocol/runFolder';
import { MetricsStore } from './store';
import { defaultState, type UiState } from './uiState';

export interface DiffOnlyConfig {
  name: string;
  config: Record<string, unknown>;
  /** A run's: what its label is made of besides the name and the config (src/insights/runLabel.ts). */
  notes?: PanelRun['notes'];
  sweep?: PanelRun['sweep'];
}

export interface PanelModel {
  readonly store: MetricsStore;
  readonly state: UiState;
  /** Newest first (sortRuns). */
  runs: PanelRun[];
  /** Runs we asked the host for and have not had metrics for yet (once per run and load). */
  readonly requested: Set<string>;
  /** Configs the host sent for diffing that belong to no run (config files). */
  readonly diffOnlyConfigs: Map<string, DiffOnlyConfig>;
  /** Whether this load restored a state (a reload): then, without a host choice, we keep our own picks. */
  readonly hadState: boolean;
  /** The extension's settings the panel uses (init.settings, then `settings` messages). */
  settings: PanelSettings;
}

export function createModel(state: UiState = defaultState(), hadState = false): PanelModel {
  return {
    store: new MetricsStore(),
    state,
    runs: [],
    requested: new Set(),
    diffOnlyConfigs: new Map(),
    hadState,
    settings: { advisorPercent: DEFAULT_ADVISOR_PERCENT },
  };
}

/** The parts of the model that what is drawn depends on. */
export type ViewModel = Pick<PanelModel, 'store' | 'state' | 'runs'>;

export function runById(runs: readonly PanelRun[], id: string): PanelRun | undefined {
  return runs.find((r) => r.id === id);
}

export function runIds(runs: readonly PanelRun[]): Set<string> {
  return new Set(runs.map((r) => r.id));
}

/** Shown runs in run-list order; their index picks the dash/marker. */
export function shownRuns(m: Pick<ViewModel, 'state' | 'runs'>): PanelRun[] {
  const set = new Set(m.state.shownRunIds);
  return m.runs.filter((r) => set.has(r.id));
}

/** Newest first, then by name. */
export function sortRuns(list: readonly PanelRun[]): PanelRun[] {
  return [...list].sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.name.localeCompare(b.name));
}

export function allDimsSorted(store: MetricsStore): number[] {
  return [...store.dims].sort((a, b) => a - b);
}

const METRIC_ORDER = ['loss', 'ndcg@10', 'mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100', 'spearman'];
function metricRank(split: string, metric: string): [number, number, string] {
  // funnel figures after the metrics, the process' resources (sys.cpu, sys.rssMB) last
  const fun = metric.startsWith('funnel:') ? 1 : metric.startsWith(SYS_PREFIX) ? 2 : 0;
  const i = METRIC_ORDER.indexOf(metric);
  return [fun * 10 + (split === 'train' ? 0 : 1), i < 0 ? 99 : i, metric];
}

/** Chart order: train before eval, funnel figures last, the usual metrics in a fixed order, then by name. */
export function compareMetricIds(store: MetricsStore, a: string, b: string): number {
  const ma = store.metrics.get(a)!;
  const mb = store.metrics.get(b)!;
  const ra = metricRank(ma.split, ma.metric);
  const rb = metricRank(mb.split, mb.metric);
  return ra[0] - rb[0] || ra[1] - rb[1] || ra[2].localeCompare(rb[2]);
}

/** Funnel settings and costs ride along as values (`funnel:shortlistDim`, `funnel:macsSaved` …) but are
 *  constants of a run, not curves: a chart of them is a flat line that pushes the useful charts down. They
 *  show in the metric-vs-dim chart (funnel marker, advisor line) and the runs table instead. */
const FUNNEL_PARAMS = /^funnel:(shortlistDim|rerankDim|shortlistSize|shortlist|rerank|macsSaved)$/;
export function isPlottedMetric(store: MetricsStore, mid: string): boolean {
  return !FUNNEL_PARAMS.test(store.metrics.get(mid)!.metric);
}

/** Each run's label over the run list (relabelRuns), kept beside the run object (a runInfo replaces it),
 *  and the last label per run id (to tell whether the legends must be redrawn). */
const listLabels = new WeakMap<object, string>();
const lastLabelById = new Map<string, string>();

/**
 * Label every run of the list (src/insights/runLabel.ts): runs that share a name lead with what differs
 * between them (`lr=3e-4 · my-sweep`), in the table, the legends and the chips alike. → whether a run's
 * label already drawn changed. Configs are flattened once per config object, so this is a pass over the list.
 */
export function relabelRuns(runs: readonly PanelRun[], newList = false): boolean {
  // A new list (init) is drawn anew: the labels of an earlier list are no reference.
  if (newList) lastLabelById.clear();
  const labels = distinctRunLabels(runs);
  let changed = false;
  runs.forEach((r, i) => {
    listLabels.set(r, labels[i]);
    const last = lastLabelById.get(r.id);
    if (last !== labels[i]) {
      // A run's first label is no change: nothing drew it yet.
      if (last !== undefined) changed = true;
      lastLabelById.set(r.id, labels[i]);
    }
  });
  return changed;
}

/** A run's object replaced (runInfo): what its label is made of unchanged (a metrics update, the common
 *  case) carries the label over; otherwise the list is labelled again. → whether a label changed. */
export function relabelUpdated(runs: readonly PanelRun[], before: PanelRun | undefined, after: PanelRun): boolean {
  const label = before && listLabels.get(before);
  const same =
    before &&
    label !== undefined &&
    before.name === after.name &&
    before.config === after.config &&
    before.notes?.displayName === after.notes?.displayName &&
    JSON.stringify(before.sweep) === JSON.stringify(after.sweep);
  if (!same) return relabelRuns(runs);
  listLabels.set(after, label);
  return false;
}

/** What the panel calls a run: the user's display name (notes.json) if set, else its name led by what
 *  tells it apart from the runs of the list with the same name (relabelRuns). */
export function runLabel(r: Pick<PanelRun, 'name' | 'notes' | 'sweep'>): string {
  return listLabels.get(r) ?? runDisplayName(r);
}

export function prettyMetric(split: string, metric: string): string {
  return `${metric} · ${split}`;
}

/** Whether shown runs we asked the host for have not arrived yet (a burst of replays is under way). */
export function awaitingReplays(m: Pick<PanelModel, 'state' | 'requested'>): boolean {
  return m.requested.size > 0 && m.state.shownRunIds.some((id) => m.requested.has(id));
}
