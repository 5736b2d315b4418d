/**
 * The runs table's DOM, composed: the toolbar (toolbar.ts), the column chooser (columnChooser.ts), the
 * virtually scrolled table (virtualGrid.ts, its header tableHead.ts) and the row mouse and keyboard
 * handling (rowInput.ts). What is shown comes from tableModel.ts; selection rules from selection.ts.
 * Every dynamic text goes in through textContent.
 */
import type { PanelRun, PanelSettings, RunAction } from '../../src/protocol/panelMessages';
import { ColumnChooser } from './columnChooser';
import { tableCsv, tableCsvFileName } from './csv';
import { attachRowInput } from './rowInput';
import { memberIds, memberRuns } from './repeatRows';
import { emptySelection, pruneSelection, toggleAll, type Selection } from './selection';
import { nextSort } from './sort';
import { buildTableView, type TableUiState, type TableView } from './tableModel';
import { TableToolbar } from './toolbar';
import { VirtualGrid } from './virtualGrid';

export interface RunsTableCallbacks {
  /** The table's UI state changed: persist it. */
  save(): void;
  action(action: RunAction, runIds: string[]): void;
  exportCsv(suggestedName: string, csv: string): void;
}

export class RunsTableView {
  readonly sel: Selection = emptySelection();
  view: TableView | null = null;
  private readonly toolbar: TableToolbar;
  private readonly chooser: ColumnChooser;
  private readonly grid: VirtualGrid;
  private runs: PanelRun[] = [];
  /** The runs to keep besides the filter (the sweep shape's brushes); null: all. */
  private only: ReadonlySet<string> | null = null;
  private settings: PanelSettings = { advisorPercent: 95 };
  /** Time of the last render: durations of running runs and filters on them read the same clock. */
  private now = Date.now();
  /** The last render's time, and the part of it spent deriving the rows and columns (the bench). */
  lastRenderMs = NaN;
  lastBuildMs = NaN;

  constructor(
    root: HTMLElement,
    private readonly ui: TableUiState,
    private readonly cb: RunsTableCallbacks,
  ) {
    this.toolbar = new TableToolbar(root, ui, {
      filter: (text) => {
        ui.filter = text;
        this.changed();
      },
      groupBySweep: (on) => {
        ui.groupBySweep = on;
        this.changed();
      },
      groupRepeats: (on) => {
        ui.groupRepeats = on;
        this.changed();
      },
      toggleChooser: () => this.chooser.toggle(),
      action: (action) => {
        const ids = this.selectedIds();
        if (ids.length) cb.action(action, ids);
      },
      exportCsv: () => cb.exportCsv(tableCsvFileName(this.now), this.csv()),
    });
    this.chooser = new ColumnChooser(
      root,
      this.toolbar.chooserButton,
      ui,
      () => this.view,
      () => this.changed(),
    );
    this.grid = new VirtualGrid(root, {
      sort: (key) => this.sortBy(key),
      selectAll: () => {
        toggleAll(this.sel, this.order());
        this.syncSelection();
      },
      drawn: (hadFocus) => {
        this.syncSelection();
        if (hadFocus) this.grid.focusRow(this.sel.focus, false);
      },
    });
    attachRowInput(this.grid.body, {
      sel: this.sel,
      order: () => this.order(),
      selectedIds: () => this.selectedIds(),
      plot: (runIds) => cb.action('plot', runIds),
      paintSelection: () => this.syncSelection(),
      focusRow: (id) => this.grid.focusRow(id),
    });
  }

  /** New data (run list, settings): redraw. */
  update(runs: PanelRun[], settings: PanelSettings): void {
    this.runs = runs;
    this.settings = settings;
    this.grid.measureIfUnknown();
    this.render();
  }

  /** Keep only these runs (and what the filter keeps of them); null shows every run again. */
  setOnly(ids: ReadonlySet<string> | null): void {
    this.only = ids;
    this.render();
  }

  private changed(): void {
    this.cb.save();
    this.render();
  }

  /** The ids of the rows as shown, in order. */
  order(): string[] {
    return this.view ? this.view.rows.map((r) => r.run.id) : [];
  }

  /** The selected runs, in order (a combination's row of repeats: every repeat). */
  selectedIds(): string[] {
    return this.view ? this.view.rows.filter((r) => this.sel.selected.has(r.run.id)).flatMap(memberIds) : [];
  }

  csv(): string {
    return this.view ? tableCsv(this.view.columns, this.view.rows, this.now) : '';
  }

  render(): void {
    const t0 = performance.now();
    this.now = Date.now();
    const v = buildTableView(this.runs, this.settings, this.ui, this.now, this.only);
    this.view = v;
    this.lastBuildMs = performance.now() - t0;
    pruneSelection(this.sel, new Set(v.rows.map((r) => r.run.id)));
    this.toolbar.showFilterError(v.filterError);
    this.toolbar.showCount(
      v.rows.reduce((k, r) => k + memberRuns(r).length, 0),
      v.total,
    );
    this.grid.render(v, this.ui.sort, this.now);
    this.syncSelection();
    if (this.chooser.open) this.chooser.render();
    this.lastRenderMs = performance.now() - t0;
  }

  /** Selection and focus onto the rows drawn (no redraw), the select-all box, and the buttons that apply. */
  private syncSelection(): void {
    const order = this.order();
    this.grid.paintSelection(this.sel.selected, this.sel.focus ?? order[0] ?? null);
    const n = order.filter((id) => this.sel.selected.has(id)).length;
    this.grid.head.paintSelectAll(n, order.length);
    // A combination's row of repeats acts on every repeat.
    const runs = this.view ? this.view.rows.filter((r) => this.sel.selected.has(r.run.id)).flatMap(memberRuns) : [];
    this.toolbar.enableActions(runs, runs.length);
  }

  private sortBy(key: string): void {
    this.ui.sort = nextSort(this.ui.sort, key);
    this.changed();
    this.grid.head.focus(key);
  }
}
