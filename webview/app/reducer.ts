/**
 * Host messages and user picks applied to the model (store, state, run list). Side effects — persisting
 * the state, asking the host for a run's metrics, logging, redrawing — go through `Effects`, in the order
 * they happen, so the reducer runs in Node with a recording fake.
 */
import type { HostToWebviewMessage, PanelRun, WebviewToHostMessage } from '../../src/protocol/panelMessages';
import { parseMetricsJsonl } from '../../src/protocol/runFolder';
import { relabelRuns, relabelUpdated, runById, runIds, sortRuns, type PanelModel } from './model';
import type { DirtyRequest } from './scheduler';

export interface Effects {
  /** Persist model.state (getState/setState). */
  save(): void;
  post(msg: WebviewToHostMessage): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  schedule(d: DirtyRequest): void;
  /** Bring the config diff table into view (after the next frame). */
  revealDiff(): void;
}

/** Replace the run list; forget the data and pending requests of runs that are gone. */
export function setRuns(m: PanelModel, list: PanelRun[]): void {
  const ids = runIds(list);
  for (const id of [...m.store.runs.keys()]) if (!ids.has(id)) m.store.remove(id);
  for (const id of [...m.requested]) if (!ids.has(id)) m.requested.delete(id);
  m.runs = sortRuns(list);
  relabelRuns(m.runs, true);
  for (const r of m.runs) m.store.setStartedAt(r.id, r.startedAt);
}

/** Ask the host for shown runs we hold no metrics for (once per run and load). */
export function requestMissing(m: PanelModel, fx: Pick<Effects, 'post'>): void {
  for (const id of m.state.shownRunIds) {
    if (!runById(m.runs, id) || m.store.runs.get(id)?.loaded || m.requested.has(id)) continue;
    m.requested.add(id);
    fx.post({ type: 'requestRun', runId: id });
  }
}

export function toggleRun(m: PanelModel, id: string, fx: Effects): void {
  const { state } = m;
  if (state.shownRunIds.includes(id)) state.shownRunIds = state.shownRunIds.filter((x) => x !== id);
  else state.shownRunIds = [...state.shownRunIds, id];
  fx.save();
  requestMissing(m, fx);
  fx.schedule({ structural: true, runs: true, diff: true });
}

/** The runs table's Plot: overlay exactly these runs (the host is told too, so it streams them). */
export function plotRuns(m: PanelModel, ids: readonly string[], fx: Effects): void {
  const known = runIds(m.runs);
  m.state.shownRunIds = ids.filter((id) => known.has(id));
  m.state.tab = 'charts';
  fx.save();
  requestMissing(m, fx);
  fx.post({ type: 'runAction', action: 'plot', runIds: [...m.state.shownRunIds] });
  fx.schedule({ structural: true, runs: true, diff: true });
}

export function toggleDim(m: PanelModel, d: number, fx: Effects): void {
  const { state } = m;
  state.hiddenDims = state.hiddenDims.includes(d) ? state.hiddenDims.filter((x) => x !== d) : [...state.hiddenDims, d];
  fx.save();
  fx.schedule({ structural: true });
}

/**
 * runInfo / runInfos: replace each run's object (keeping the config the webview holds when the update has
 * none), add unknown ones. `structural`: a display name or best checkpoint changed (every legend, the
 * curves' marks); `listed`: what the chips and the diff show changed (status, name, a new run).
 */
function upsertRuns(m: PanelModel, runs: readonly PanelRun[]): { structural: boolean; listed: boolean } {
  const index = new Map(m.runs.map((r, i) => [r.id, i]));
  let structural = false;
  let listed = false;
  const added: PanelRun[] = [];
  for (const run of runs) {
    const i = index.get(run.id);
    m.store.setStartedAt(run.id, run.startedAt);
    if (i === undefined) {
      added.push(run);
      listed = true;
      continue;
    }
    const old = m.runs[i];
    // A new display name (notes.json) is in every legend, not only in the chips; a new best checkpoint
    // (training.keepBest) moves its mark on the curves.
    if (old.notes?.displayName !== run.notes?.displayName || JSON.stringify(old.bestCheckpoints) !== JSON.stringify(run.bestCheckpoints))
      structural = true;
    if (old.status !== run.status || old.name !== run.name || old.error !== run.error || old.sweep?.id !== run.sweep?.id) listed = true;
    const next = { ...run, config: run.config !== undefined ? run.config : old.config };
    m.runs[i] = next;
    // A new config or name can change what tells the runs of one name apart (their labels).
    if (relabelUpdated(m.runs, old, next)) structural = true;
  }
  if (added.length) {
    m.runs = sortRuns([...m.runs, ...added]);
    if (relabelRuns(m.runs)) structural = true;
  }
  return { structural, listed: listed || structural };
}

export function reduce(m: PanelModel, msg: HostToWebviewMessage, fx: Effects): void {
  const { state, store } = m;
  switch (msg.type) {
    case 'init': {
      setRuns(m, msg.runs);
      const known = runIds(m.runs);
      // The host decides what to show (a command's runs, else the shownRunIds our `ready` carried, else the
      // latest run) and replays those runs right after init, so we do not request them again.
      if (msg.showRuns) {
        state.shownRunIds = msg.showRuns.filter((id) => known.has(id));
        for (const id of state.shownRunIds) if (!store.runs.get(id)?.loaded) m.requested.add(id);
      } else {
        state.shownRunIds = state.shownRunIds.filter((id) => known.has(id));
        if (state.shownRunIds.length === 0 && m.runs.length && !m.hadState) state.shownRunIds = [m.runs[0].id];
      }
      if (msg.configDiff) state.diffRunIds = msg.configDiff;
      if (msg.settings) m.settings = { ...msg.settings };
      fx.save();
      requestMissing(m, fx);
      fx.schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'runs': {
      setRuns(m, msg.runs);
      const known = runIds(m.runs);
      state.shownRunIds = state.shownRunIds.filter((id) => known.has(id));
      fx.save();
      fx.schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'runInfo': {
      const ch = upsertRuns(m, [msg.run]);
      fx.schedule(ch.structural ? { runs: true, diff: true, structural: true } : { runs: true, diff: true });
      break;
    }
    case 'runInfos': {
      // Rows whose metrics were read (many at once while a workspace loads): the table redraws; the chips,
      // legends and diff only when something they show changed too.
      const ch = upsertRuns(m, msg.runs);
      fx.schedule(ch.structural ? { runs: true, diff: true, structural: true } : ch.listed ? { runs: true, diff: true } : { table: true });
      break;
    }
    case 'metrics': {
      m.requested.delete(msg.runId);
      let lines = msg.lines;
      if (msg.jsonl !== undefined) {
        const parsed = parseMetricsJsonl(msg.jsonl);
        if (parsed.invalid) fx.log('warn', `run ${msg.runId}: ${parsed.invalid} unreadable metrics line(s) skipped`);
        lines = lines.length ? [...lines, ...parsed.lines] : parsed.lines;
      }
      const res = store.ingest(msg.runId, lines, msg.reset);
      if (res.dropped) fx.log('warn', `run ${msg.runId}: ${res.dropped} byDim entries with a non-numeric dim ignored`);
      if (!state.shownRunIds.includes(msg.runId)) {
        if (msg.reset) fx.schedule({ runs: true });
        break;
      }
      fx.schedule({ structural: res.structural, metrics: res.touched, runs: msg.reset === true });
      break;
    }
    case 'showRuns': {
      const known = runIds(m.runs);
      state.shownRunIds = msg.runIds.filter((id) => known.has(id));
      if (msg.compare) state.diffRunIds = [...state.shownRunIds];
      fx.save();
      requestMissing(m, fx);
      fx.schedule({ structural: true, runs: true, diff: true });
      break;
    }
    case 'settings': {
      m.settings = { ...msg.settings };
      // The dim advisor's target moves the advisor line (metric-vs-dim chart) and the table's columns.
      fx.schedule({ runs: true, mrl: true });
      break;
    }
    case 'configDiff': {
      if (msg.configs) {
        for (const [id, cfg] of Object.entries(msg.configs)) {
          const r = runById(m.runs, id);
          // Configs that are not runs (two config files, `file:<name>`) are diffed too, not dropped.
          if (r) r.config = cfg;
          else if (cfg) m.diffOnlyConfigs.set(id, { name: id.replace(/^file:/, ''), config: cfg });
        }
        if (relabelRuns(m.runs)) fx.schedule({ runs: true, structural: true });
      }
      state.diffRunIds = msg.runIds;
      fx.save();
      fx.schedule({ diff: true });
      fx.revealDiff();
      break;
    }
  }
}
