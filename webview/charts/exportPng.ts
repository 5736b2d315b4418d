/** PNG export of a chart canvas, for the host to save. */
import type { WebviewToHostMessage } from '../../src/protocol/panelMessages';
import { safeName } from './exportCsv';

/** PNG with the editor background painted in (a transparent canvas is unreadable in the other theme). */
export function pngMessage(canvas: HTMLCanvasElement, name: string, background: string): WebviewToHostMessage {
  const c = document.createElement('canvas');
  c.width = canvas.width;
  c.height = canvas.height;
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.drawImage(canvas, 0, 0);
  return { type: 'exportPng', suggestedName: `${safeName(name)}.png`, dataUrl: c.toDataURL('image/png') };
}
