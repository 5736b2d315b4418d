/**
 * The webview's end of the host bridge: VS Code's `acquireVsCodeApi()` (a no-op stand-in outside a
 * webview), typed posting (src/protocol/panelMessages.ts) and logging to the host's output channel.
 */
import type { WebviewToHostMessage } from '../../src/protocol/panelMessages';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface Bridge {
  post(msg: WebviewToHostMessage): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  getState(): unknown;
  setState(s: unknown): void;
}

export function connectHost(): Bridge {
  const vscode: VsCodeApi =
    typeof acquireVsCodeApi === 'function'
      ? acquireVsCodeApi()
      : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };
  const post = (msg: WebviewToHostMessage): void => vscode.postMessage(msg);
  return {
    post,
    log(level, message) {
      if (level === 'error') console.error(`[mrl-panel] ${message}`);
      else if (level === 'warn') console.warn(`[mrl-panel] ${message}`);
      post({ type: 'log', level, message });
    },
    getState: () => vscode.getState(),
    setState: (s) => vscode.setState(s),
  };
}
