/**
 * Mouse and keyboard on the runs table's rows, as in a file list: clicks and keys go through the pure
 * rules of selection.ts, then the selection is painted and the focused row focused (scrolled into the
 * drawn window when it is outside).
 */
import { applyRowKey, clickRow, type Selection } from './selection';

export interface RowInputTarget {
  readonly sel: Selection;
  /** The ids of the rows as shown, in order. */
  order(): string[];
  selectedIds(): string[];
  /** Enter: plot these runs. */
  plot(runIds: string[]): void;
  /** Paint the selection onto the rows drawn (no redraw). */
  paintSelection(): void;
  /** Focus a row, scrolling it into view. */
  focusRow(id: string | null): void;
}

/** Handle clicks and keys on the rows of body. */
export function attachRowInput(body: HTMLElement, t: RowInputTarget): void {
  body.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.run-row');
    if (!tr) return;
    const onBox = (e.target as HTMLElement).matches('input[type="checkbox"]');
    clickRow(t.sel, tr.dataset.id!, { toggle: onBox || e.ctrlKey || e.metaKey, range: e.shiftKey }, t.order());
    if (e.shiftKey) window.getSelection()?.removeAllRanges();
    t.paintSelection();
    // No scroll: the row is where it was clicked (focus would pull a scrolled-right table back left).
    tr.focus({ preventScroll: true });
  });
  body.addEventListener('keydown', (e) => {
    const sel = t.sel;
    const order = t.order();
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.run-row');
    if (tr && sel.focus !== tr.dataset.id) sel.focus = tr.dataset.id!;
    const did = applyRowKey(sel, e.key, { shift: e.shiftKey, ctrlOrMeta: e.ctrlKey || e.metaKey }, order);
    if (!did) return;
    if (did === 'plot' && sel.focus) t.plot(t.selectedIds().length ? t.selectedIds() : [sel.focus]);
    e.preventDefault();
    t.paintSelection();
    t.focusRow(sel.focus);
  });
}
