/**
 * The Charts tab's controls: chart layout, x axis, smoothing, log y, "differing keys only", and the MRL
 * card's metric, step slider, Latest and PNG buttons, and Open diff. Shown from the UI state; a change
 * is written to the state, then persisted and redrawn by the caller.
 */
import { mrlStepAtSlider } from '../mrl/mrlData';
import { currentPrecision, presentVariants, variantLabel } from './precision';
import type { MetricsStore } from './store';
import type { DirtyRequest } from './scheduler';
import { selectOption, type PanelElements } from './template';
import type { UiState } from './uiState';

export interface ControlActions {
  /** The state changed: persist it and redraw what it affects. */
  changed(d: DirtyRequest): void;
  /** The eval steps the MRL slider moves over. */
  mrlSteps(): number[];
  exportMrlPng(): void;
  exportFrontierPng(): void;
  openDiff(): void;
}

/** The controls as the state says (at start-up). */
export function syncControls(el: PanelElements, state: UiState): void {
  selectOption(el.viewMode, state.viewMode);
  selectOption(el.xAxis, state.xAxis);
  el.smoothing.value = String(state.smoothing);
  el.smoothingValue.value = state.smoothing.toFixed(2);
  el.logY.checked = state.logY;
  el.diffOnly.checked = state.diffOnly;
}

export function wireControls(el: PanelElements, state: UiState, act: ControlActions): void {
  const { changed } = act;
  el.viewMode.addEventListener('change', () => {
    const v = el.viewMode.value;
    if (v !== 'metric' && v !== 'dim') return;
    state.viewMode = v;
    changed({ structural: true });
  });
  el.xAxis.addEventListener('change', () => {
    const v = el.xAxis.value;
    if (v !== 'step' && v !== 'relative' && v !== 'wall') return;
    state.xAxis = v;
    changed({ view: true });
  });
  el.smoothing.addEventListener('input', () => {
    state.smoothing = Math.min(0.99, Math.max(0, Number(el.smoothing.value) || 0));
    el.smoothingValue.value = state.smoothing.toFixed(2);
    changed({ view: true });
  });
  el.logY.addEventListener('change', () => {
    state.logY = !!el.logY.checked;
    changed({ view: true });
  });
  el.diffOnly.addEventListener('change', () => {
    state.diffOnly = !!el.diffOnly.checked;
    changed({ diff: true });
  });
  el.mrlMetric.addEventListener('change', () => {
    if (!el.mrlMetric.value || el.mrlMetric.value === state.mrlMetric) return;
    state.mrlMetric = el.mrlMetric.value;
    changed({ mrl: true });
  });
  el.mrlStep.addEventListener('input', () => {
    state.mrlStep = mrlStepAtSlider(act.mrlSteps(), Number(el.mrlStep.value));
    changed({ mrl: true });
  });
  el.mrlLatest.addEventListener('click', () => {
    state.mrlStep = null;
    changed({ mrl: true });
  });
  el.mrlPng.addEventListener('click', () => act.exportMrlPng());
  el.frontierPng.addEventListener('click', () => act.exportFrontierPng());
  el.precision.addEventListener('change', () => {
    const v = el.precision.value;
    if (!v || v === state.precision) return;
    state.precision = v;
    changed({ structural: true });
  });
  el.openDiff.addEventListener('click', () => act.openDiff());
}

/** The Precision select: shown once the store holds a quantised variant, its options those it holds. */
export function syncPrecision(el: PanelElements, store: MetricsStore, state: UiState): void {
  const present = presentVariants(store);
  el.precisionField.hidden = present.length === 0;
  const current = currentPrecision(store, state.precision);
  const sig = present.join(',') + '|' + current;
  if (el.precision.dataset.sig === sig) return;
  el.precision.dataset.sig = sig;
  el.precision.replaceChildren(
    ...present.map((v) => {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', v);
      o.textContent = variantLabel(v);
      return o;
    }),
  );
  if (present.length) selectOption(el.precision, current);
}
