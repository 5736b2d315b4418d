/**
 * The config diff table: which configs are compared (runs' configs, or config files the host sent), the
 * rows (src/config/diff.ts) and their DOM. The table model is pure; renderDiffTable draws it.
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import { diffConfigs, formatConfigValue, withProvenance, type ConfigDiffRow } from '../../src/config/diff';
import { distinctRunLabels } from '../../src/insights/runLabel';
import { runById, type DiffOnlyConfig, type PanelModel } from '../app/model';

type DiffSource = Pick<PanelModel, 'state' | 'runs' | 'diffOnlyConfigs'>;

export interface DiffColumn {
  id: string;
  /** The header: over the configs compared, what differs between same-named ones leads (`lr=3e-4 · my-sweep`). */
  name: string;
  config: Record<string, unknown>;
}

export interface DiffTableModel {
  /** The first column is the reference the others are compared with. */
  columns: DiffColumn[];
  rows: ConfigDiffRow[];
}

/** A run's config, else a config that belongs to no run (config files), else undefined. */
export function diffEntry(
  runs: readonly PanelRun[],
  diffOnlyConfigs: ReadonlyMap<string, DiffOnlyConfig>,
  id: string,
): DiffOnlyConfig | undefined {
  const r = runById(runs, id);
  // A run's provenance (its commit, its data files' hashes) is compared with its settings.
  if (r?.config) return { name: r.name, config: withProvenance(r.config, r), notes: r.notes, sweep: r.sweep };
  return diffOnlyConfigs.get(id);
}

/**
 * The ids compared, in the order asked for (configDiff's order, else the order the runs were turned on):
 * the first column is the reference the others are compared with. Ids without a config are left out.
 */
export function diffRunIds(m: DiffSource): string[] {
  const ids = m.state.diffRunIds ?? m.state.shownRunIds;
  return ids.filter((id) => !!diffEntry(m.runs, m.diffOnlyConfigs, id));
}

/** The table, or null when fewer than two configs are there to compare. */
export function diffTableModel(m: DiffSource): DiffTableModel | null {
  const ids = diffRunIds(m);
  if (ids.length < 2) return null;
  const entries = ids.map((id) => ({ id, ...diffEntry(m.runs, m.diffOnlyConfigs, id)! }));
  const names = distinctRunLabels(entries);
  const columns = entries.map((e, i) => ({ id: e.id, name: names[i], config: e.config }));
  return {
    columns,
    rows: diffConfigs(
      columns.map((c) => c.config),
      { all: !m.state.diffOnly },
    ),
  };
}

/** Whether column i (> 0) of a changed row differs from the reference column. */
export function cellDiffers(row: ConfigDiffRow, i: number): boolean {
  return row.changed && i > 0 && JSON.stringify(row.values[i]) !== JSON.stringify(row.values[0]);
}

/** What the test hook reports: rows with their values as shown. */
export function diffRowsAsText(rows: readonly ConfigDiffRow[]): { path: string; values: string[]; changed: boolean }[] {
  return rows.map((r) => ({ path: r.path, values: r.values.map(formatConfigValue), changed: r.changed }));
}

export function renderDiffTable(table: HTMLTableElement, model: DiffTableModel): void {
  const { columns, rows } = model;
  const head = document.createElement('tr');
  const th0 = document.createElement('th');
  th0.textContent = 'key';
  th0.scope = 'col';
  head.append(th0);
  for (const c of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c.name;
    th.title = c.id;
    head.append(th);
  }
  table.tHead!.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = columns.length + 1;
    td.className = 'muted';
    td.textContent = 'The configs are identical.';
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) {
    const tr = document.createElement('tr');
    if (row.changed) tr.className = 'changed';
    const k = document.createElement('th');
    k.scope = 'row';
    k.textContent = row.path;
    tr.append(k);
    row.values.forEach((v, i) => {
      const td = document.createElement('td');
      td.textContent = formatConfigValue(v);
      if (v === undefined) td.classList.add('absent');
      if (cellDiffers(row, i)) td.classList.add('differs');
      tr.append(td);
    });
    body.append(tr);
  }
}
