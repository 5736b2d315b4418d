// Run colours of overlays (webview/charts/runPalette.ts), in Node: distinct, readable on every theme's
// background, and stable — a run keeps its colour when others are shown or hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assignColorSlots,
  contrastRatio,
  PALETTE_SIZE,
  REMEMBERED_SLOTS_MAX,
  runColorMap,
  runSlotColor,
} from '../../webview/charts/runPalette';
import type { ThemeKind } from '../../webview/charts/colors';

const BACKGROUNDS: Record<ThemeKind, string> = {
  light: '#ffffff',
  dark: '#1f1f1f',
  'high-contrast': '#000000',
  'high-contrast-light': '#ffffff',
};

/** #rrggbb → OKLab (for a perceptual distance between two colours). */
function oklab(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((x) => {
    const c = x / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}
function distance(a: string, b: string): number {
  const [x, y] = [oklab(a), oklab(b)];
  return Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]);
}
function minDistance(colors: string[]): number {
  let min = Infinity;
  for (let i = 0; i < colors.length; i++) for (let j = i + 1; j < colors.length; j++) min = Math.min(min, distance(colors[i], colors[j]));
  return min;
}

for (const theme of Object.keys(BACKGROUNDS) as ThemeKind[]) {
  test(`palette (${theme}): ${PALETTE_SIZE} distinct colours, each ≥ 3:1 against the background; the first ten far apart`, () => {
    const colors = Array.from({ length: PALETTE_SIZE }, (_, i) => runSlotColor(i, theme));
    for (const c of colors) assert.match(c, /^#[0-9a-f]{6}$/);
    assert.equal(new Set(colors).size, PALETTE_SIZE, 'no colour twice');
    for (const c of colors) {
      const r = contrastRatio(c, BACKGROUNDS[theme]);
      assert.ok(r >= 3, `${c} on ${BACKGROUNDS[theme]}: contrast ${r.toFixed(2)}`);
    }
    // OKLab distances: ~0.02 is a just-noticeable difference; the first ten (a usual comparison) are far apart.
    assert.ok(minDistance(colors.slice(0, 10)) >= 0.09, `first ten: ${minDistance(colors.slice(0, 10)).toFixed(3)}`);
    assert.ok(minDistance(colors.slice(0, 50)) >= 0.015, `first fifty: ${minDistance(colors.slice(0, 50)).toFixed(3)}`);
    // Past the palette the sequence goes on with new colours (turned), not the first ones again.
    assert.notEqual(runSlotColor(PALETTE_SIZE, theme), colors[0]);
    assert.equal(runSlotColor(7, theme), colors[7], 'the same slot, the same colour');
  });
}

test('palette: a slot has a different colour per theme (lighter on dark backgrounds)', () => {
  const lum = (hex: string) => oklab(hex)[0];
  for (let i = 0; i < 20; i++) assert.ok(lum(runSlotColor(i, 'dark')) > lum(runSlotColor(i, 'light')), `slot ${i}`);
});

test('contrastRatio: WCAG figures (black on white 21, a colour on itself 1)', () => {
  assert.equal(Math.round(contrastRatio('#000000', '#ffffff') * 100) / 100, 21);
  assert.equal(contrastRatio('#777777', '#777777'), 1);
  assert.equal(contrastRatio('#ffffff', '#000000'), contrastRatio('#000000', '#ffffff'));
});

test('slots: a batch in id order, lowest first; a run keeps its slot when others come and go', () => {
  let s = assignColorSlots({}, ['c', 'a', 'b']);
  assert.deepEqual(s, { a: 0, b: 1, c: 2 }, 'by id (= by start time), whatever the order shown');
  assert.equal(assignColorSlots(s, ['a', 'b', 'c']), s, 'nothing new: the same object (no save)');
  // b hidden: a and c keep theirs; d new takes the lowest free slot (b's), b remembered
  s = assignColorSlots(s, ['a', 'c', 'd']);
  assert.equal(s.a, 0);
  assert.equal(s.c, 2);
  assert.equal(s.d, 1);
  // b back: its slot 1 is taken by d, so the next free one
  s = assignColorSlots(s, ['a', 'b', 'c', 'd']);
  assert.deepEqual([s.a, s.b, s.c, s.d], [0, 3, 2, 1]);
  // e shown alone later: remembered slots are not held, so it takes 0
  s = assignColorSlots(s, ['e']);
  assert.equal(s.e, 0);
  // a back with e: a's slot 0 is e's now; c back alone with e: its slot 2 is free, so it gets it back
  s = assignColorSlots(s, ['e', 'c']);
  assert.equal(s.c, 2);
  assert.equal(s.e, 0);
});

test('slots: a run shown again takes back its remembered slot before a new run takes the lowest free one', () => {
  let s = assignColorSlots({}, ['a', 'b', 'c']); // a 0, b 1, c 2
  s = assignColorSlots(s, ['c']); // a and b remembered
  s = assignColorSlots(s, ['b', 'c', 'a0']); // a0 < b by id: still b gets 1 back, a0 the lowest free (0)
  assert.deepEqual([s.a0, s.b, s.c], [0, 1, 2]);
});

test('slots: 50 runs get 50 different slots (50 colours), stable under removing any of them', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `run-${String(i).padStart(2, '0')}`);
  const s = assignColorSlots({}, ids);
  assert.equal(new Set(ids.map((id) => s[id])).size, 50);
  const colors = runColorMap(s, ids, 'dark');
  assert.equal(new Set(colors.values()).size, 50);
  const fewer = ids.filter((_, i) => i % 3 !== 0);
  const s2 = assignColorSlots(s, fewer);
  for (const id of fewer) assert.equal(s2[id], s[id], id);
  const c2 = runColorMap(s2, fewer, 'dark');
  for (const id of fewer) assert.equal(c2.get(id), colors.get(id));
});

test('slots: runs not shown are remembered up to REMEMBERED_SLOTS_MAX, the oldest forgotten first', () => {
  let s: Record<string, number> = {};
  for (let i = 0; i < REMEMBERED_SLOTS_MAX + 20; i++) s = assignColorSlots(s, [`r${String(i).padStart(4, '0')}`]);
  assert.equal(Object.keys(s).length, REMEMBERED_SLOTS_MAX + 1);
  assert.equal(s.r0000, undefined, 'the oldest forgotten');
  assert.equal(s[`r${String(REMEMBERED_SLOTS_MAX + 19).padStart(4, '0')}`], 0);
});
