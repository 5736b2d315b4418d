/**
 * Browser harness for the panel tests and the panel bench: builds the panel with its test hook
 * (panelWithHook.ts, as esbuild.mjs builds dist/test/webview-with-hook.js) in memory with esbuild from the
 * current sources, serves it on 127.0.0.1 inside the real panel HTML (src/host/panel/html.ts, real CSP), and opens it
 * in Debian Chromium through playwright-core with a stand-in `acquireVsCodeApi()` (state kept in
 * sessionStorage so it survives a reload, like VS Code's) and the theme variables VS Code would inject.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { after, before } from 'node:test';
import { renderPanelHtml } from '../../src/host/panel/html';

export const ROOT = resolve(__dirname, '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** A webview entry bundled as esbuild.mjs bundles it (iife, browser), in memory. */
function bundleInMemory(entry: string): Promise<string> {
  return build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: false,
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0].text);
}

/** Where the page loads the panel script from (the test bundle's path under dist/). */
export const PANEL_SCRIPT_PATH = '/dist/test/webview-with-hook.js';

let bundle: Promise<string> | null = null;
/** The panel with the tests' read-only window.__mrlPanel hook, from the current sources. */
export function buildPanelWithHook(): Promise<string> {
  bundle ??= bundleInMemory('test/webview/panelWithHook.ts');
  return bundle;
}

/** The shipped webview bundle (webview/main.ts, dist/webview.js), from the current sources. */
export function buildShippedWebview(): Promise<string> {
  return bundleInMemory('webview/main.ts');
}

export type ThemeClass = 'vscode-light' | 'vscode-dark' | 'vscode-high-contrast';

export interface PanelServer {
  origin: string;
  url(theme?: ThemeClass): string;
  close(): Promise<void>;
  /** Nonce of the last page served (a fresh one per request, as the host does). */
  lastNonce: string;
}

export async function startPanelServer(): Promise<PanelServer> {
  const js = await buildPanelWithHook();
  const css = readFileSync(join(ROOT, 'media/panel.css'), 'utf8');
  const themeCss = readFileSync(join(__dirname, 'fixtures/theme.css'), 'utf8');
  let origin = '';
  const srv: PanelServer = { origin: '', url: () => '', close: async () => undefined, lastNonce: '' };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', origin);
    if (u.pathname === '/' || u.pathname === '/index.html') {
      const nonce = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
      srv.lastNonce = nonce;
      const theme = u.searchParams.get('theme') ?? 'vscode-dark';
      let html = renderPanelHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}${PANEL_SCRIPT_PATH}`,
        styleUri: `${origin}/media/panel.css`,
      });
      // What VS Code adds around our HTML: its theme variables and the body theme class.
      html = html.replace('</head>', `  <link rel="stylesheet" href="${origin}/test/theme.css">\n</head>`);
      html = html.replace('<body>', `<body class="${theme}">`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else if (u.pathname === PANEL_SCRIPT_PATH) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(js);
    } else if (u.pathname === '/media/panel.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
      res.end(css);
    } else if (u.pathname === '/test/theme.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
      res.end(themeCss);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  srv.origin = origin;
  srv.url = (theme: ThemeClass = 'vscode-dark') => `${origin}/?theme=${theme}`;
  srv.close = () => new Promise<void>((r) => server.close(() => r()));
  return srv;
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium fonts-dejavu-core`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Stand-in for VS Code's webview API + collectors, installed before any page script runs. */
export const INIT_SCRIPT = `(() => {
  // Functions that tsx (esbuild keepNames) serializes into the page call __name: make it a no-op.
  window.__name = (f) => f;
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => { window.__posted.push(JSON.parse(JSON.stringify(m))); },
    getState: () => { const s = sessionStorage.getItem('vscodeState'); return s ? JSON.parse(s) : undefined; },
    setState: (s) => { sessionStorage.setItem('vscodeState', JSON.stringify(s)); return s; },
  });
})();`;

export interface OpenedPanel {
  page: Page;
  errors: string[];
  send(msg: unknown): Promise<void>;
  settle(): Promise<void>;
  posted(): Promise<any[]>;
}

export async function openPanel(
  browser: Browser,
  srv: PanelServer,
  theme: ThemeClass = 'vscode-dark',
  viewport = { width: 1280, height: 1400 },
): Promise<OpenedPanel> {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(INIT_SCRIPT);
  await page.goto(srv.url(theme));
  await page.waitForFunction(() => (window as any).__mrlPanel !== undefined);
  const opened: OpenedPanel = {
    page,
    errors,
    // window.postMessage: the same MessageEvent path VS Code's host messages take into the webview.
    send: (msg) => page.evaluate((m) => window.postMessage(m, '*'), msg),
    settle: async () => {
      // let queued message events run, then wait for the frame that draws them
      await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
      await page.evaluate(() => (window as any).__mrlPanel.settle());
    },
    posted: () => page.evaluate(() => (window as any).__posted),
  };
  return opened;
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** One panel server and one Chromium for a test file, started before its tests and closed after them;
 *  `open` is openPanel on them. */
export function usePanelBrowser(): {
  readonly srv: PanelServer;
  open: (theme?: ThemeClass, viewport?: { width: number; height: number }) => Promise<OpenedPanel>;
} {
  let srv: PanelServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    srv = await startPanelServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });
  return {
    get srv() {
      return srv!;
    },
    open: (theme, viewport) => openPanel(browser!, srv!, theme, viewport),
  };
}
