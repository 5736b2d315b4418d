/**
 * Row selection of the runs table, as in a file list: click selects one, Ctrl/Cmd-click toggles one,
 * Shift-click selects the range from the anchor (in the order shown), Space toggles the focused row, the
 * arrows move the focus (Shift+arrow extends), Home/End jump, Ctrl/Cmd+A toggles all. Pure: no DOM.
 */

export interface Selection {
  selected: Set<string>;
  /** Where a Shift range starts. */
  anchor: string | null;
  /** The row that has the keyboard focus. */
  focus: string | null;
}

export function emptySelection(): Selection {
  return { selected: new Set(), anchor: null, focus: null };
}

export interface ClickMods {
  toggle: boolean;
  range: boolean;
}

function range(order: readonly string[], a: string, b: string): string[] {
  const i = order.indexOf(a);
  const j = order.indexOf(b);
  if (i < 0 || j < 0) return [b];
  return order.slice(Math.min(i, j), Math.max(i, j) + 1);
}

export function clickRow(sel: Selection, id: string, mods: ClickMods, order: readonly string[]): void {
  if (mods.range && sel.anchor !== null) {
    const ids = range(order, sel.anchor, id);
    if (!mods.toggle) sel.selected.clear();
    for (const x of ids) sel.selected.add(x);
  } else if (mods.toggle) {
    if (sel.selected.has(id)) sel.selected.delete(id);
    else sel.selected.add(id);
    sel.anchor = id;
  } else {
    sel.selected.clear();
    sel.selected.add(id);
    sel.anchor = id;
  }
  sel.focus = id;
}

export function toggleFocused(sel: Selection): void {
  if (sel.focus === null) return;
  if (sel.selected.has(sel.focus)) sel.selected.delete(sel.focus);
  else sel.selected.add(sel.focus);
  sel.anchor = sel.focus;
}

/** Move the focus by `delta` rows (clamped); `extend` selects the range from the anchor to it. */
export function moveFocus(sel: Selection, delta: number, order: readonly string[], extend: boolean): void {
  if (!order.length) return;
  const i = sel.focus === null ? -1 : order.indexOf(sel.focus);
  const j = i < 0 ? (delta > 0 ? 0 : order.length - 1) : Math.max(0, Math.min(order.length - 1, i + delta));
  sel.focus = order[j];
  if (extend) {
    sel.anchor ??= order[i < 0 ? j : i];
    sel.selected.clear();
    for (const x of range(order, sel.anchor, sel.focus)) sel.selected.add(x);
  }
}

/** Select-all checkbox: all shown rows, or none when all are selected already. */
export function toggleAll(sel: Selection, order: readonly string[]): void {
  const all = order.length > 0 && order.every((id) => sel.selected.has(id));
  sel.selected.clear();
  if (!all) for (const id of order) sel.selected.add(id);
}

/** Drop ids that are no longer rows (deleted runs). */
export function pruneSelection(sel: Selection, known: ReadonlySet<string>): void {
  for (const id of [...sel.selected]) if (!known.has(id)) sel.selected.delete(id);
  if (sel.anchor !== null && !known.has(sel.anchor)) sel.anchor = null;
  if (sel.focus !== null && !known.has(sel.focus)) sel.focus = null;
}

export interface KeyMods {
  shift: boolean;
  /** Ctrl, or Cmd on macOS. */
  ctrlOrMeta: boolean;
}

/**
 * A key pressed on the focused row, applied to sel: 'select' when it moved the focus or changed the
 * selection, 'plot' for Enter (the caller plots the selection, or the focused row), null when the key is
 * not the table's.
 */
export function applyRowKey(sel: Selection, key: string, mods: KeyMods, order: readonly string[]): 'select' | 'plot' | null {
  switch (key) {
    case 'ArrowDown':
    case 'ArrowUp':
      moveFocus(sel, key === 'ArrowDown' ? 1 : -1, order, mods.shift);
      return 'select';
    case 'Home':
    case 'End':
      moveFocus(sel, key === 'Home' ? -order.length : order.length, order, mods.shift);
      return 'select';
    case ' ':
      toggleFocused(sel);
      return 'select';
    case 'a':
      if (!mods.ctrlOrMeta) return null;
      toggleAll(sel, order);
      return 'select';
    case 'Enter':
      return 'plot';
    default:
      return null;
  }
}
