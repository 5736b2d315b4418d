/**
 * Which curves the smoothing slider applies to. Smoothing stands for "the trend under the noise" of a
 * dense, noisy series — the training loss logged every step. An eval curve has a point per evaluation
 * (often three to ten): an EMA over it lags the last measured value by a lot (0.22 drawn for 0.27
 * measured), so the panel would understate the result. Eval curves are drawn raw, whatever the slider.
 * Pure: the charts and the CSV export use the same rule, so the CSV says what the chart drew.
 */
import type { SeriesKey } from '../app/store';

/** The EMA weight applied to a series at the slider's `weight`: 0 (raw) for eval series. */
export function curveSmoothing(key: Pick<SeriesKey, 'split'>, weight: number): number {
  return key.split === 'train' ? weight : 0;
}

/** The smoothing control's tooltip: says what it applies to. */
export const SMOOTHING_TITLE =
  'Smoothing (time-weighted EMA) of train curves. Eval curves (one point per evaluation) are always drawn raw.';
