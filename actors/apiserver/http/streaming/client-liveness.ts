/**
 * Ends a session whose client vanished without closing its connection (a dead host, a dropped
 * network path): TCP alone may take hours to notice, while the agent holds a process or a socket
 * for it. Every check pings the client (every WebSocket client answers pings by itself, kubectl
 * also pings on its own); a client heard from in no way for `silenceMaxMs` is terminated.
 */
import type { WebSocket } from 'ws';
import type { Clock, TimerId } from '../../../../bus/index.js';

export function watchClientLiveness(ws: WebSocket, options: { readonly clock: Clock; readonly silenceMaxMs: number; readonly checkEveryMs: number }): void {
  const { clock } = options;
  let lastHeardMs = clock.now();
  const heard = (): void => {
    lastHeardMs = clock.now();
  };
  ws.on('message', heard);
  ws.on('ping', heard);
  ws.on('pong', heard);
  let timer: TimerId | null = null;
  const check = (): void => {
    timer = null;
    if (ws.readyState !== ws.OPEN) return;
    if (clock.now() - lastHeardMs > options.silenceMaxMs) {
      ws.terminate();
      return;
    }
    ws.ping();
    timer = clock.setTimeout(check, options.checkEveryMs);
  };
  timer = clock.setTimeout(check, options.checkEveryMs);
  ws.once('close', () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  });
}
