/**
 * The runs bar (one toggle chip per run: status, progress, the run's dash when shown), the failed-run
 * banners, and the dims bar (one toggle chip per dim, in its colour).
 */
import type { PanelRun } from '../src/protocol/panelMessages';
import type { PanelTheme } from './chartSetup';
import { dimColor, RUN_DASHES } from './colors';
import { allDimsSorted, shownRuns, type ViewModel } from './model';

function dashSvg(dash: number[]): SVGSVGElement {
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
  if (dash.length) line.setAttribute('stroke-dasharray', dash.join(' '));
  svg.append(line);
  return svg;
}

const STATUS_TEXT: Record<string, string> = { running: 'running', completed: 'completed', failed: 'failed', stopped: 'stopped' };

function runChip(r: PanelRun, on: boolean, shownIndex: number, loading: boolean, onToggle: (runId: string) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `chip run-chip status-${r.status}`;
  b.dataset.runId = r.id;
  b.setAttribute('aria-pressed', String(on));
  const dot = document.createElement('span');
  dot.className = 'status-dot';
  dot.setAttribute('aria-hidden', 'true');
  b.append(dot);
  if (on) b.append(dashSvg(RUN_DASHES[shownIndex % RUN_DASHES.length]));
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = r.name;
  const st = document.createElement('span');
  st.className = 'status';
  const progress = typeof r.step === 'number' ? ` · ${r.step}${typeof r.totalSteps === 'number' ? `/${r.totalSteps}` : ''}` : '';
  st.textContent = `${STATUS_TEXT[r.status] ?? r.status}${progress}`;
  b.append(name, st);
  if (loading) b.classList.add('loading');
  b.title = `${r.name} (${r.id})\n${r.status}${r.error ? `: ${r.error}` : ''}${r.backend ? `\nbackend: ${r.backend}` : ''}\nClick to ${on ? 'hide' : 'show'}`;
  b.addEventListener('click', () => onToggle(r.id));
  return b;
}

export function renderRuns(runsEl: HTMLElement, bannersEl: HTMLElement, m: ViewModel, onToggle: (runId: string) => void): void {
  runsEl.replaceChildren();
  const shown = shownRuns(m);
  for (const r of m.runs) {
    const on = m.state.shownRunIds.includes(r.id);
    const idx = shown.findIndex((s) => s.id === r.id);
    const loading = on && !m.store.runs.get(r.id)?.loaded;
    runsEl.append(runChip(r, on, idx, loading, onToggle));
  }
  // Failed runs say why, in full, where it cannot be missed.
  bannersEl.replaceChildren();
  for (const r of shown) {
    if (r.status !== 'failed') continue;
    const d = document.createElement('div');
    d.className = 'banner error';
    d.setAttribute('role', 'alert');
    d.dataset.runId = r.id;
    d.textContent = `${r.name} failed${r.error ? `: ${r.error}` : ''}`;
    bannersEl.append(d);
  }
}

export function renderDims(dimsEl: HTMLElement, m: ViewModel, theme: PanelTheme, onToggle: (dim: number) => void): void {
  dimsEl.replaceChildren();
  const dims = allDimsSorted(m.store);
  for (const d of dims) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip dim-chip';
    b.dataset.dim = String(d);
    const on = !m.state.hiddenDims.includes(d);
    b.setAttribute('aria-pressed', String(on));
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.backgroundColor = dimColor(d, dims, theme.kind); // CSSOM: allowed by the CSP (no inline style attribute)
    b.append(sw, document.createTextNode(String(d)));
    b.title = `${on ? 'Hide' : 'Show'} dim ${d}`;
    b.addEventListener('click', () => onToggle(d));
    dimsEl.append(b);
  }
  (dimsEl.parentElement as HTMLElement).hidden = dims.length === 0;
}
