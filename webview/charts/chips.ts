/**
 * The runs bar (one toggle chip per run: status, progress, when shown a line in the run's colour on the
 * charts), the failed-run banners, and the dims bar: one toggle chip per dim, in its colour — or, in an
 * overlay's chart per metric (colour = run), one choice of the dim plotted (radio chips, no colours).
 *
 * At scale (Compare Runs on 500) the bar must not push the charts off-screen: past CHIP_LIMIT runs it is
 * compact (chips show the status dot, no status text; loading is the dot's pulse) and collapsed to the
 * shown runs first, then the others, CHIP_LIMIT chips in all plus a "+ N more" chip; expanded, every
 * chip, in a box of bounded height that scrolls (media/panel.css). The banners scroll in a bounded box too.
 */
import type { PanelRun } from '../../src/protocol/panelMessages';
import type { PanelTheme } from './chartSetup';
import { dimColor } from './colors';
import { allDimsSorted, runLabel, shownRuns, type ViewModel } from '../app/model';

/** A short line: the run's line on the charts (its colour in an overlay, the text colour for one run). */
function dashSvg(dash: number[], color: string | undefined): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '26');
  svg.setAttribute('height', '8');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('dash');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('x2', '25');
  line.setAttribute('y1', '4');
  line.setAttribute('y2', '4');
  line.setAttribute('stroke-width', '2');
  if (color) line.setAttribute('stroke', color); // a presentation attribute (the CSP allows it), over the CSS currentColor
  if (dash.length) line.setAttribute('stroke-dasharray', dash.join(' '));
  svg.append(line);
  return svg;
}

const STATUS_TEXT: Record<string, string> = { running: 'running', completed: 'completed', failed: 'failed', stopped: 'stopped' };

/** Runs past which the bar is compact and collapsed. */
export const CHIP_LIMIT = 24;

/** Whether the runs bar shows every chip (the "+ N more" chip toggles it; not persisted). */
let expanded = false;

/**
 * The chips to render, in order, and how many runs are left out (collapsed). Few runs: all, in run-list
 * order. Many: collapsed = shown runs first (in run order), then the others, CHIP_LIMIT in all.
 */
export function chipRuns(m: Pick<ViewModel, 'runs' | 'state'>, showAll: boolean): { runs: PanelRun[]; hidden: number; compact: boolean } {
  const compact = m.runs.length > CHIP_LIMIT;
  if (!compact || showAll) return { runs: m.runs, hidden: 0, compact };
  const on = new Set(m.state.shownRunIds);
  const pick = m.runs.filter((r) => on.has(r.id)).slice(0, CHIP_LIMIT);
  for (const r of m.runs) {
    if (pick.length >= CHIP_LIMIT) break;
    if (!on.has(r.id)) pick.push(r);
  }
  return { runs: pick, hidden: m.runs.length - pick.length, compact };
}

/** A shown run's look on the charts: its colour (overlays only) and dash. */
export interface RunLook {
  color?: string;
  dash: number[];
}

function runChip(r: PanelRun, look: RunLook | undefined, loading: boolean, onToggle: (runId: string) => void): HTMLButtonElement {
  const on = look !== undefined;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `chip run-chip status-${r.status}`;
  b.dataset.runId = r.id;
  b.setAttribute('aria-pressed', String(on));
  const dot = document.createElement('span');
  dot.className = 'status-dot';
  dot.setAttribute('aria-hidden', 'true');
  b.append(dot);
  if (look) b.append(dashSvg(look.dash, look.color));
  const name = document.createElement('span');
  name.className = 'name';
  const label = runLabel(r);
  name.textContent = label;
  const st = document.createElement('span');
  st.className = 'status';
  const progress = typeof r.step === 'number' ? ` · ${r.step}${typeof r.totalSteps === 'number' ? `/${r.totalSteps}` : ''}` : '';
  st.textContent = `${STATUS_TEXT[r.status] ?? r.status}${progress}`;
  b.append(name, st);
  if (loading) b.classList.add('loading');
  b.title = `${label}${label !== r.name ? ` — ${r.name}` : ''} (${r.id})\n${r.status}${loading ? ' · loading…' : ''}${r.error ? `: ${r.error}` : ''}${r.backend ? `\nbackend: ${r.backend}` : ''}\nClick to ${on ? 'hide' : 'show'}`;
  b.addEventListener('click', () => onToggle(r.id));
  return b;
}

function moreChip(text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'chip more-chip';
  b.dataset.action = 'more';
  b.textContent = text;
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export function renderRuns(
  runsEl: HTMLElement,
  bannersEl: HTMLElement,
  m: ViewModel,
  looks: ReadonlyMap<string, RunLook>,
  onToggle: (runId: string) => void,
): void {
  runsEl.replaceChildren();
  const shown = shownRuns(m);
  const { runs, hidden, compact } = chipRuns(m, expanded);
  runsEl.classList.toggle('compact', compact);
  runsEl.classList.toggle('expanded', compact && expanded);
  const redraw = () => renderRuns(runsEl, bannersEl, m, looks, onToggle);
  for (const r of runs) {
    const look = looks.get(r.id);
    const loading = look !== undefined && !m.store.runs.get(r.id)?.loaded;
    runsEl.append(runChip(r, look, loading, onToggle));
  }
  if (hidden > 0) {
    runsEl.append(
      moreChip(`+ ${hidden} more`, `Show all ${m.runs.length} runs (the runs table filters and picks many)`, () => {
        expanded = true;
        redraw();
      }),
    );
  } else if (compact && expanded) {
    runsEl.append(
      moreChip('Show fewer', 'Collapse the runs bar', () => {
        expanded = false;
        redraw();
      }),
    );
  }
  // Failed runs say why, in full, where it cannot be missed.
  bannersEl.replaceChildren();
  for (const r of shown) {
    if (r.status !== 'failed') continue;
    const d = document.createElement('div');
    d.className = 'banner error';
    d.setAttribute('role', 'alert');
    d.dataset.runId = r.id;
    d.textContent = `${runLabel(r)} failed${r.error ? `: ${r.error}` : ''}`;
    bannersEl.append(d);
  }
}

/**
 * The dims bar. `choice`: an overlay's chart per metric plots one dim — the chips are a radio group, the
 * chosen one pressed, no colour swatch (colour is the run). Otherwise each chip shows or hides its dim.
 */
export function renderDims(
  dimsEl: HTMLElement,
  m: ViewModel,
  theme: PanelTheme,
  onToggle: (dim: number) => void,
  choice: { dim: number | null; onChoose: (dim: number) => void } | null,
  /** Whether the dims are colours on the charts (one run): then each chip shows its colour. */
  colored = true,
): void {
  dimsEl.replaceChildren();
  const dims = allDimsSorted(m.store);
  if (choice) {
    dimsEl.setAttribute('role', 'radiogroup');
    dimsEl.setAttribute('aria-label', 'Dim plotted (one per chart while several runs are shown)');
  } else {
    dimsEl.removeAttribute('role');
    dimsEl.removeAttribute('aria-label');
  }
  for (const d of dims) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip dim-chip';
    b.dataset.dim = String(d);
    if (choice) {
      const on = d === choice.dim;
      b.setAttribute('role', 'radio');
      b.setAttribute('aria-checked', String(on));
      b.setAttribute('aria-pressed', String(on));
      b.append(document.createTextNode(String(d)));
      b.title = `Plot dim ${d} (several runs: colour is the run, so one dim at a time; “Chart per dim” shows every dim)`;
      b.addEventListener('click', () => choice.onChoose(d));
      dimsEl.append(b);
      continue;
    }
    const on = !m.state.hiddenDims.includes(d);
    b.setAttribute('aria-pressed', String(on));
    if (colored) {
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.backgroundColor = dimColor(d, dims, theme.kind); // CSSOM: allowed by the CSP (no inline style attribute)
      b.append(sw);
    }
    b.append(document.createTextNode(String(d)));
    b.title = `${on ? 'Hide' : 'Show'} dim ${d}`;
    b.addEventListener('click', () => onToggle(d));
    dimsEl.append(b);
  }
  (dimsEl.parentElement as HTMLElement).hidden = dims.length === 0;
}
