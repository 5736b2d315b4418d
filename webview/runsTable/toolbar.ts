/**
 * The runs table's toolbar: the filter box (and the line under it saying why a filter was not applied),
 * group by sweep, the column chooser's button, the row count, the actions on the selected runs (each
 * enabled only where it applies) and CSV export.
 */
import type { PanelRun, RunAction } from '../../src/protocol/panelMessages';
import { el } from './dom';
import type { TableUiState } from './tableModel';

export const ACTIONS: { action: RunAction; label: string; title: string }[] = [
  { action: 'plot', label: 'Plot', title: 'Overlay the selected runs in the Charts tab' },
  { action: 'diff', label: 'Diff configs', title: 'Two runs: VS Code’s diff editor; more: the changed-keys table' },
  { action: 'stop', label: 'Stop', title: 'Stop the selected running runs' },
  { action: 'resume', label: 'Resume', title: 'Resume the selected runs from their last checkpoint' },
  { action: 'delete', label: 'Delete', title: 'Delete the selected runs’ folders (asks first)' },
  { action: 'editNotes', label: 'Edit notes', title: 'Display name, tags and note of the selected run' },
  { action: 'stopSweep', label: 'Stop sweep', title: 'Stop the running run of each selected run’s sweep and drop the queued rest' },
  {
    action: 'export',
    label: 'Export model…',
    title: 'Export the selected run at a dim and precision as a sentence-transformers folder (the advisor’s choice preselected)',
  },
];

/** Which actions apply to the selected runs (n of them). Pure. */
export function actionsEnabled(selected: readonly PanelRun[], n: number): Record<RunAction, boolean> {
  return {
    plot: n >= 1,
    diff: n >= 2,
    stop: selected.some((r) => r.status === 'running'),
    resume: selected.some((r) => r.status === 'stopped' || r.status === 'failed'),
    delete: n >= 1 && selected.every((r) => r.status !== 'running'),
    editNotes: n === 1,
    stopSweep: selected.some((r) => !!r.sweep),
    // One bundled-engine run with a model to take out (trained, stopped, or from a running run's last checkpoint).
    export:
      n === 1 &&
      selected.length === 1 &&
      (!selected[0].engine || selected[0].engine === 'bundled') &&
      (selected[0].status === 'completed' || selected[0].status === 'stopped' || selected[0].status === 'running'),
  };
}

export interface ToolbarCallbacks {
  filter(text: string): void;
  groupBySweep(on: boolean): void;
  groupRepeats(on: boolean): void;
  toggleChooser(): void;
  action(action: RunAction): void;
  exportCsv(): void;
}

export class TableToolbar {
  readonly chooserButton: HTMLButtonElement;
  private readonly filterInput: HTMLInputElement;
  private readonly filterError: HTMLElement;
  private readonly count: HTMLElement;
  private readonly buttons = new Map<RunAction, HTMLButtonElement>();

  /** Appends the toolbar and the filter error line to root. */
  constructor(root: HTMLElement, ui: Readonly<TableUiState>, cb: ToolbarCallbacks) {
    const bar = el('header', 'toolbar table-toolbar');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Runs table');
    this.filterInput = el('input', 'table-filter');
    this.filterInput.type = 'search';
    this.filterInput.id = 'tableFilter';
    this.filterInput.placeholder = 'Filter: text  status:running  tag:x  sweep:id  ndcg@10@64 > 0.2';
    this.filterInput.setAttribute('aria-label', 'Filter runs');
    this.filterInput.setAttribute('aria-describedby', 'tableFilterError');
    this.filterInput.value = ui.filter;
    const groupLabel = el('label', 'field check');
    const groupToggle = el('input');
    groupToggle.type = 'checkbox';
    groupToggle.id = 'groupBySweep';
    groupToggle.checked = ui.groupBySweep;
    groupLabel.append(groupToggle, el('span', undefined, 'Group by sweep'));
    const repeatLabel = el('label', 'field check');
    repeatLabel.title = 'One row per sweep combination for its repeats (sweep "repeat"): mean ± std (n) in the metric cells';
    const repeatToggle = el('input');
    repeatToggle.type = 'checkbox';
    repeatToggle.id = 'groupRepeats';
    repeatToggle.checked = ui.groupRepeats;
    repeatToggle.addEventListener('change', () => cb.groupRepeats(repeatToggle.checked));
    repeatLabel.append(repeatToggle, el('span', undefined, 'Group repeats'));
    this.chooserButton = el('button', 'icon-btn', 'Columns…');
    this.chooserButton.type = 'button';
    this.chooserButton.id = 'columnChooserButton';
    this.chooserButton.setAttribute('aria-expanded', 'false');
    this.chooserButton.setAttribute('aria-controls', 'columnChooser');
    this.count = el('span', 'table-count');
    this.count.id = 'tableCount';
    this.count.setAttribute('aria-live', 'polite');
    const actions = el('span', 'table-actions');
    for (const a of ACTIONS) {
      const b = el('button', 'icon-btn', a.label);
      b.type = 'button';
      b.dataset.action = a.action;
      b.title = a.title;
      b.addEventListener('click', () => cb.action(a.action));
      this.buttons.set(a.action, b);
      actions.append(b);
    }
    const csv = el('button', 'icon-btn', 'Export CSV');
    csv.type = 'button';
    csv.id = 'tableCsv';
    csv.title = 'Save the table as shown (columns, filter, order) as CSV';
    csv.addEventListener('click', () => cb.exportCsv());
    actions.append(csv);
    bar.append(this.filterInput, groupLabel, repeatLabel, this.chooserButton, this.count, actions);
    this.filterError = el('div', 'filter-error');
    this.filterError.id = 'tableFilterError';
    this.filterError.setAttribute('role', 'status');
    this.filterError.hidden = true;
    root.append(bar, this.filterError);

    this.filterInput.addEventListener('input', () => cb.filter(this.filterInput.value));
    groupToggle.addEventListener('change', () => cb.groupBySweep(groupToggle.checked));
    this.chooserButton.addEventListener('click', () => cb.toggleChooser());
  }

  /** Why the filter was not applied (null: it was). */
  showFilterError(error: string | null): void {
    this.filterError.hidden = !error;
    this.filterError.textContent = error ? `Filter not applied: ${error}` : '';
    this.filterInput.setAttribute('aria-invalid', String(!!error));
  }

  showCount(shown: number, total: number): void {
    this.count.textContent = shown === total ? `${total} runs` : `${shown} of ${total} runs`;
  }

  /** Enable the actions that apply to the selected runs (n of them). */
  enableActions(selected: readonly PanelRun[], n: number): void {
    const enable = actionsEnabled(selected, n);
    for (const [a, b] of this.buttons) b.disabled = !enable[a];
  }
}
