/**
 * Run colours for overlays (more than one run shown: colour = run, webview/charts/overlaySpecs.ts).
 *
 * A run holds a colour *slot*, kept in the UI state (`runColors`): a run keeps its slot while others are
 * added or removed, a run shown anew takes the lowest free slot (its old one if still free), and a batch
 * shown at once (Compare Runs, the table's Plot) is handed slots in run-id order, i.e. by start time, so
 * that the same set always gets the same colours. Slot → colour is a fixed sequence per theme (runSlotColor):
 * 17 hues × 3 lightness levels in OKLCH (equal steps look equal), each level chosen so that every colour
 * keeps ≥ 3:1 contrast against the theme's background.
 * Pure: no DOM.
 */
import type { ThemeKind } from './colors';

/** OKLCH (L 0..1, C, hue in degrees) → sRGB 0..1 channels; `null` when outside the sRGB gamut. */
function oklchToSrgb(L: number, C: number, hDeg: number): [number, number, number] | null {
  const h = (hDeg * Math.PI) / 180;
  const a = C * Math.cos(h);
  const b = C * Math.sin(h);
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  const lin = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
  if (lin.some((v) => v < -1e-4 || v > 1 + 1e-4)) return null;
  const gamma = (v: number) => {
    const x = Math.min(1, Math.max(0, v));
    return x <= 0.0031308 ? 12.92 * x : 1.055 * x ** (1 / 2.4) - 0.055;
  };
  return [gamma(lin[0]), gamma(lin[1]), gamma(lin[2])];
}

/** The colour at (L, hue) with the most chroma up to `maxC` that sRGB can show (chroma reduced until it fits). */
function fitted(L: number, maxC: number, hDeg: number): [number, number, number] {
  for (let C = maxC; C > 0; C -= 0.005) {
    const rgb = oklchToSrgb(L, C, hDeg);
    if (rgb) return rgb;
  }
  return oklchToSrgb(L, 0, hDeg)!;
}

function hex(rgb: readonly number[]): string {
  return (
    '#' +
    rgb
      .map((v) =>
        Math.round(v * 255)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')
  );
}

/** Lightness levels per theme (OKLCH L): mid-dark on a light background, light on a dark one, further out
 *  in high contrast. */
const LEVELS: Record<ThemeKind, readonly number[]> = {
  light: [0.55, 0.44, 0.63],
  'high-contrast-light': [0.45, 0.36, 0.52],
  dark: [0.74, 0.84, 0.65],
  'high-contrast': [0.8, 0.9, 0.72],
};
const CHROMA = 0.16;
/** Hues on the circle, and the step between consecutive slots' hues (7/17 of a turn: the first few runs
 *  get far-apart hues). */
const HUES = 17;
const HUE_STEP = 7;
/** The first hue: a blue, so that two runs read as the usual blue and orange-red. */
const FIRST_HUE = 250;
/** Distinct colours: every (hue, lightness) pair once. Past it the sequence turns a little and repeats. */
export const PALETTE_SIZE = HUES * 3;

const cache = new Map<string, string>();

/**
 * The colour of colour slot `slot` (0, 1, 2 …) in a theme: stable forever, the first PALETTE_SIZE all
 * distinct. Consecutive slots differ in hue (7/17 of the circle on) and in lightness (three levels, in
 * turn); since 17 and 3 share no factor, the first 51 slots visit every (hue, level) pair once. Each level
 * is turned by a third of a hue step, so that no two levels share a hue.
 */
export function runSlotColor(slot: number, theme: ThemeKind): string {
  const key = `${theme}|${slot}`;
  let c = cache.get(key);
  if (c) return c;
  const levels = LEVELS[theme];
  const level = slot % levels.length;
  const hueIndex = ((slot % HUES) * HUE_STEP) % HUES;
  // Past PALETTE_SIZE (more than 51 runs shown) each round turns by a further sixth of a step.
  const turn = level / levels.length + Math.floor(slot / PALETTE_SIZE) / (2 * levels.length);
  const hue = (FIRST_HUE + ((hueIndex + turn) * 360) / HUES) % 360;
  c = hex(fitted(levels[level], CHROMA, hue));
  cache.set(key, c);
  return c;
}

/** WCAG relative luminance of #rrggbb. */
export function relativeLuminance(color: string): number {
  const v = parseInt(color.slice(1), 16);
  const lin = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((x) => {
    const c = x / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

/** WCAG contrast ratio of two #rrggbb colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Runs not shown whose last slot is remembered (so a run hidden and shown again gets its colour back if free). */
export const REMEMBERED_SLOTS_MAX = 200;

/**
 * The slots after `shownIds` became the shown runs. A shown run keeps the slot it has (its remembered one
 * too, if it was hidden and the slot is still free); when two shown runs claim one slot, the one that got it
 * last keeps it. The others, in id order, take the lowest free slots. Slots of runs no longer shown are
 * remembered (oldest forgotten first, past REMEMBERED_SLOTS_MAX), not held. The record lists runs from the
 * least to the most recently assigned. Returns `prev` itself when nothing changed (the caller saves the
 * state only on change).
 */
export function assignColorSlots(prev: Readonly<Record<string, number>>, shownIds: readonly string[]): Record<string, number> {
  const shown = [...new Set(shownIds)].sort();
  const order = Object.keys(prev);
  const recency = new Map(order.map((id, i) => [id, i]));
  const taken = new Set<number>();
  const kept = new Set<string>();
  // Claims, most recent first: the run that got a slot last keeps it.
  for (const id of shown.filter((x) => prev[x] !== undefined).sort((x, y) => recency.get(y)! - recency.get(x)!)) {
    if (taken.has(prev[id])) continue;
    taken.add(prev[id]);
    kept.add(id);
  }
  const fresh = shown.filter((id) => !kept.has(id));
  if (!fresh.length) return prev as Record<string, number>;
  const out: Record<string, number> = {};
  const shownSet = new Set(shown);
  const remembered = order.filter((id) => !shownSet.has(id));
  for (const id of remembered.slice(Math.max(0, remembered.length - REMEMBERED_SLOTS_MAX))) out[id] = prev[id];
  for (const id of order) if (kept.has(id)) out[id] = prev[id];
  let next = 0;
  for (const id of fresh) {
    while (taken.has(next)) next++;
    out[id] = next;
    taken.add(next);
  }
  return out;
}

/** Each shown run's colour in this theme (slots from `assignColorSlots`; a run without one gets none). */
export function runColorMap(slots: Readonly<Record<string, number>>, shownIds: readonly string[], theme: ThemeKind): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of shownIds) {
    const s = slots[id];
    if (s !== undefined) out.set(id, runSlotColor(s, theme));
  }
  return out;
}
