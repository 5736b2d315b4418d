/**
 * The panel as the browser tests and the panel bench load it: the shipped start (webview/app/panel.ts)
 * plus the read-only `window.__mrlPanel` hook (debugHook.ts). Bundled by test/webview/harness.ts, and by
 * esbuild.mjs to dist/test/webview-with-hook.js, which the .vsix does not carry; the shipped entry is
 * webview/main.ts (dist/webview.js).
 */
import { startPanel } from '../../webview/app/panel';
import { installDebugHook } from './debugHook';

installDebugHook(startPanel());
