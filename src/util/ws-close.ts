/**
 * Close a WebSocket with a code and reason, and cut it if the peer has not finished the close
 * handshake within `graceMs`. The timer belongs to the socket: the socket's 'close' clears it.
 */
import type { WebSocket } from 'ws';

export function closeThenCut(ws: WebSocket, code: number, reason: string, graceMs = 3000): void {
  if (ws.readyState === ws.CLOSED) return;
  if (ws.readyState === ws.OPEN) ws.close(code, reason);
  const timer = setTimeout(() => ws.terminate(), graceMs);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
