/**
 * Theme: read from VS Code's `--vscode-*` variables and body classes (chartSetup.readTheme), applied to
 * Chart.js's defaults, and re-read when VS Code switches theme (it rewrites the body's class and style).
 */
import { applyChartDefaults, readTheme, type PanelTheme } from '../charts/chartSetup';

export function sameTheme(a: PanelTheme, b: PanelTheme): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Reads and applies the current theme, and calls `onChange` with each new one (after applying it).
 * Returns the theme at the time of the call.
 */
export function trackTheme(onChange: (theme: PanelTheme) => void): PanelTheme {
  let theme = readTheme();
  applyChartDefaults(theme);
  const check = (): void => {
    const next = readTheme();
    if (sameTheme(next, theme)) return;
    theme = next;
    applyChartDefaults(theme);
    onChange(theme);
  };
  new MutationObserver(check).observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
  new MutationObserver(check).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return theme;
}
