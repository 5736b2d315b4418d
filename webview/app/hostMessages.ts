/**
 * The host's messages into the panel (window `message` events): checked against the protocol
 * (src/protocol/panelMessages.ts), counted, and a malformed one or one whose handling throws logged to
 * the host instead of breaking the panel.
 */
import { isHostToWebviewMessage, type HostToWebviewMessage } from '../../src/protocol/panelMessages';
import type { Bridge } from './bridge';

export interface MessageCounters {
  received: number;
  rejected: number;
}

export function receiveHostMessages(
  host: Pick<Bridge, 'log'>,
  counters: MessageCounters,
  handle: (msg: HostToWebviewMessage) => void,
): void {
  window.addEventListener('message', (e: MessageEvent) => {
    counters.received++;
    const data: unknown = e.data;
    if (!isHostToWebviewMessage(data)) {
      counters.rejected++;
      const t = typeof data === 'object' && data !== null ? String((data as { type?: unknown }).type) : typeof data;
      host.log('warn', `ignored a malformed message (type: ${t})`);
      return;
    }
    try {
      handle(data);
    } catch (err) {
      host.log('error', `message ${data.type} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}
