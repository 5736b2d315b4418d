/**
 * Metrics panel webview entry: bundled by esbuild (esbuild.mjs) as an iife for the browser into
 * dist/webview.js, the script the panel's HTML loads (src/host/panel/html.ts). No Node, no vscode import.
 * It only starts the panel (app/panel.ts). The browser tests and the panel bench load another entry,
 * test/webview/panelWithHook.ts, the same start plus their read-only test hook, so the
 * shipped bundle carries no test hook.
 */
import { startPanel } from './app/panel';

startPanel();
