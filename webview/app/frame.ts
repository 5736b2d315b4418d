/**
 * What one animation frame draws, from what changed since the last (scheduler.ts's Dirty): the run and
 * dim chips, the Precision select, the charts (all specs anew, or only those whose metrics got points), the
 * MRL card and the frontier card under it (live points at most every MRL_LIVE_INTERVAL_MS), the config diff card, the runs table (via its tab), and
 * the line that says why nothing is plotted.
 */
import type { ConfigDiffRow } from '../../src/config/diff';
import type { ChartGrid } from '../charts/chartGrid';
import type { PanelTheme } from '../charts/chartSetup';
import { buildSpecs, isOverlay } from '../charts/chartSpecs';
import { renderDims, renderRuns } from '../charts/chips';
import { overlayDim, runLooks } from '../charts/overlaySpecs';
import { assignColorSlots } from '../charts/runPalette';
import type { RunLegend } from '../charts/runLegend';
import { diffTableModel, renderDiffTable } from '../diff/diffTable';
import { currentMrlMetric } from '../mrl/mrlData';
import type { FrontierView } from '../mrl/frontierView';
import type { MrlView } from '../mrl/mrlView';
import { syncPrecision } from './controls';
import { shownRuns, type PanelModel } from './model';
import type { Dirty, FrameScheduler } from './scheduler';
import type { PanelTabs } from './tabs';
import type { PanelElements } from './template';

export interface FrameParts {
  el: PanelElements;
  model: PanelModel;
  grid: ChartGrid;
  mrl: MrlView;
  frontier: FrontierView;
  sched: FrameScheduler;
  tabs: PanelTabs;
  theme(): PanelTheme;
  legend: RunLegend;
  toggleRun(id: string): void;
  toggleDim(dim: number): void;
  /** An overlay's chart per metric: plot this dim. */
  chooseDim(dim: number): void;
  /** Persist the UI state (the run colour slots changed). */
  save(): void;
}

export class PanelFrame {
  /** The config diff rows last drawn. */
  diffRows: ConfigDiffRow[] = [];

  constructor(private readonly p: FrameParts) {}

  draw(d: Dirty): void {
    const { el, model, grid, mrl, sched } = this.p;
    const { state, store } = model;
    const theme = this.p.theme();
    const shown = shownRuns(model);
    // A run shown anew takes a colour slot; the others keep theirs (runPalette.ts). Persisted with the state.
    const slots = assignColorSlots(
      state.runColors,
      shown.map((r) => r.id),
    );
    if (slots !== state.runColors) {
      state.runColors = slots;
      this.p.save();
    }
    const looks = runLooks(model, shown, theme.kind);
    if (d.runs || d.view) renderRuns(el.runs, el.banners, model, looks, (id) => this.p.toggleRun(id));
    const colors = new Map([...looks].filter(([, l]) => l.color).map(([id, l]) => [id, l.color!]));
    if (d.runs || d.structural || d.view) {
      this.p.legend.render(shown, colors, new Map([...looks].map(([id, l]) => [id, l.dash])));
    }
    if (d.structural || d.view) {
      syncPrecision(el, store, state);
      const overlay = isOverlay(model);
      const choose = overlay && state.viewMode === 'metric';
      el.dimsLabel.textContent = choose ? 'Dim' : 'Dims';
      renderDims(
        el.dims,
        model,
        theme,
        (dim) => this.p.toggleDim(dim),
        choose ? { dim: overlayDim(store, state.overlayDim), onChoose: (dim) => this.p.chooseDim(dim) } : null,
        !overlay,
      );
      grid.reconcile(buildSpecs(model, theme), { smoothing: state.smoothing, logY: state.logY, xAxis: state.xAxis, theme }, d.view);
      d.mrl = true;
    } else if (d.metrics.size) {
      grid.refreshTouched(d.metrics);
      const mm = currentMrlMetric(store, state);
      if (mm === null || d.metrics.has(mm) || [...d.metrics].some((m) => m.includes('funnel:'))) d.mrlData = true;
    }
    grid.drawPending();
    if (d.mrl || (d.mrlData && sched.mrlLiveDue())) {
      sched.noteMrlDrawn();
      mrl.render(model, theme, colors);
      this.p.frontier.render(model, theme, colors);
    }
    if (d.diff || d.runs) this.renderDiff();
    if (d.runs) this.p.tabs.tableChanged();
    this.renderEmpty();
  }

  private renderDiff(): void {
    const { el, model } = this.p;
    const table = diffTableModel(model);
    el.diff.hidden = !table;
    el.openDiff.hidden = table?.columns.length !== 2;
    this.diffRows = table?.rows ?? [];
    if (table) renderDiffTable(el.diffTable, table);
  }

  private renderEmpty(): void {
    const { el, model, grid } = this.p;
    const shown = shownRuns(model);
    let msg = '';
    if (model.runs.length === 0) msg = 'No runs yet. Start one with “Matryoshka Lab: Start Run”, or from a terminal with npm run train.';
    else if (shown.length === 0) msg = 'Pick one or more runs above to plot them.';
    else if (shown.every((r) => !model.store.runs.get(r.id)?.loaded)) msg = 'Loading metrics…';
    else if (grid.size === 0) msg = 'No metrics logged yet. Points appear here as the trainer writes them.';
    el.empty.hidden = !msg;
    el.empty.textContent = msg;
  }
}
