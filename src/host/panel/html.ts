/**
 * The metrics panel's HTML: a pure function (no vscode import) so that the host and the browser tests
 * build exactly the same page under exactly the same Content-Security-Policy.
 *
 * CSP: nothing by default; the one bundle runs by nonce; styles, fonts and images only from the webview's
 * own resource origin (dist/ and media/, the host's localResourceRoots). No 'unsafe-inline' and no
 * 'unsafe-eval': Chart.js draws on a canvas and sets sizes through the CSSOM, and the elements use
 * constructable stylesheets, neither of which the policy restricts. `data:`/`blob:` images are for the
 * PNG export preview path only (canvas.toDataURL), never remote.
 */

export interface PanelHtmlOptions {
  /** `webview.cspSource` */
  cspSource: string;
  /** A fresh random nonce per render (see createNonce). */
  nonce: string;
  /** webview.asWebviewUri(dist/webview.js) */
  scriptUri: string;
  /** webview.asWebviewUri(media/panel.css) */
  styleUri: string;
  /** Document title (defaults to "Matryoshka Lab — Metrics"). */
  title?: string;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The CSP string alone (exported so tests and the host can assert on it). */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** A nonce: 32 chars from [A-Za-z0-9], from Web Crypto (available in Node ≥ 19 and in browsers). */
export function createNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

export function renderPanelHtml(opts: PanelHtmlOptions): string {
  const { cspSource, nonce, scriptUri, styleUri } = opts;
  const title = opts.title ?? 'Matryoshka Lab — Metrics';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeAttr(title)}</title>
  <link rel="stylesheet" href="${escapeAttr(styleUri)}">
</head>
<body>
  <div id="app" aria-busy="true">
    <noscript>The metrics panel needs JavaScript.</noscript>
  </div>
  <script nonce="${escapeAttr(nonce)}" src="${escapeAttr(scriptUri)}"></script>
</body>
</html>
`;
}
