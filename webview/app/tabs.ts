/**
 * The panel's two tabs (Charts, Runs): which pane shows, the tab buttons' ARIA state and arrow keys, and
 * the runs table drawn only while its tab is open (changes meanwhile draw it when it opens).
 */
import type { PanelElements } from './template';
import type { PanelTab, UiState } from './uiState';

export interface TabActions {
  /** The open tab changed: persist the state. */
  save(): void;
  /** Draw the runs table from the current runs. */
  drawTable(): void;
  /** The Charts tab opened: redraw the charts (those hidden meanwhile were laid out at zero size). */
  redrawCharts(): void;
}

export class PanelTabs {
  /** The table missed changes while its tab was closed. */
  private tableStale = true;

  constructor(
    private readonly el: PanelElements,
    private readonly state: UiState,
    private readonly act: TabActions,
  ) {
    el.tabCharts.addEventListener('click', () => this.show('charts'));
    el.tabRuns.addEventListener('click', () => this.show('runs'));
    for (const b of [el.tabCharts, el.tabRuns]) {
      b.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') {
          e.preventDefault();
          this.show(state.tab === 'runs' ? 'charts' : 'runs', true);
        }
      });
    }
  }

  show(tab: PanelTab, focus = false): void {
    const { el, state } = this;
    const changedTab = state.tab !== tab;
    state.tab = tab;
    const runs = tab === 'runs';
    el.chartsPane.hidden = runs;
    el.runsPane.hidden = !runs;
    for (const [b, on] of [
      [el.tabCharts, !runs],
      [el.tabRuns, runs],
    ] as const) {
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    if (focus) (runs ? el.tabRuns : el.tabCharts).focus();
    if (changedTab) this.act.save();
    if (runs && this.tableStale) {
      this.tableStale = false;
      this.act.drawTable();
    }
    if (!runs && changedTab) this.act.redrawCharts();
  }

  /** The runs changed: draw the table now if its tab is open, else when it opens. */
  tableChanged(): void {
    this.tableStale = true;
    if (this.state.tab === 'runs') {
      this.tableStale = false;
      this.act.drawTable();
    }
  }
}
