/**
 * Chart.js, registered once with only what the panel draws (tree-shaken: line charts on linear/log scales,
 * legend, tooltip). No date adapter: time axes are linear numbers formatted by our tick callbacks.
 */
import {
  Chart,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  Legend,
  Tooltip,
  Title,
  ScatterController,
} from 'chart.js';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Title);

export { Chart };

export interface PanelTheme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  fg: string;
  muted: string;
  bg: string;
  grid: string;
  border: string;
  accent: string;
  fontFamily: string;
  fontSize: number;
}

/** VS Code puts its theme on <body> as classes and `--vscode-*` custom properties; read them back. */
export function readTheme(): PanelTheme {
  const body = document.body;
  const cs = getComputedStyle(body);
  const v = (name: string, fallback: string): string => cs.getPropertyValue(name).trim() || fallback;
  const cls = body.classList;
  const kind: PanelTheme['kind'] = cls.contains('vscode-high-contrast-light')
    ? 'high-contrast-light'
    : cls.contains('vscode-high-contrast')
      ? 'high-contrast'
      : cls.contains('vscode-light')
        ? 'light'
        : cls.contains('vscode-dark')
          ? 'dark'
          : guessKind(v('--vscode-editor-background', '#1e1e1e'));
  const dark = kind === 'dark' || kind === 'high-contrast';
  const fg = v('--vscode-editor-foreground', v('--vscode-foreground', dark ? '#cccccc' : '#333333'));
  const hc = kind.startsWith('high-contrast');
  return {
    kind,
    fg,
    muted: v('--vscode-descriptionForeground', fg),
    bg: v('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    // grid lines stay quiet even in high contrast (the data must win); the chart borders use contrastBorder
    grid: hc ? (dark ? 'rgba(255,255,255,0.22)' : 'rgba(0,0,0,0.25)') : dark ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0.08)',
    border: hc ? v('--vscode-contrastBorder', fg) : v('--vscode-panel-border', v('--vscode-widget-border', dark ? '#444' : '#ddd')),
    accent: v('--vscode-focusBorder', '#007fd4'),
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(v('--vscode-font-size', '13')) || 13,
  };
}

function guessKind(bg: string): PanelTheme['kind'] {
  const m = /#([0-9a-f]{6})/i.exec(bg);
  if (!m) return 'dark';
  const n = parseInt(m[1], 16);
  const lum = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 128 ? 'light' : 'dark';
}

export function applyChartDefaults(t: PanelTheme): void {
  Chart.defaults.color = t.fg;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.fontFamily;
  Chart.defaults.font.size = Math.max(10, t.fontSize - 1);
}

/** What every card chart (the metric-vs-dim chart, the frontier) sets the same way: no animation,
 *  pre-parsed points, sized by its card, the nearest point under the pointer. */
export function cardChartOptions(): Record<string, unknown> {
  return {
    animation: false,
    parsing: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: true },
    layout: { padding: { top: 4, right: 12 } },
  };
}

/** A linear axis in the theme's colours, its ticks written by `tick`; `extra` adds the axis' own settings. */
export function themedLinearAxis(t: PanelTheme, tick: (v: number) => string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'linear',
    grid: { color: t.grid },
    border: { color: t.border },
    ticks: { color: t.muted, callback: (v: number | string) => tick(Number(v)) },
    ...extra,
  };
}
