/**
 * WebSocket keepalive: ping every `intervalMs`; a peer that has not answered within
 * `pongTimeoutMs` of the oldest unanswered ping is declared dead. ws answers the peer's pings
 * with the same payload by itself (autoPong), so only our side is handled here.
 */
import type { WebSocket } from 'ws';

export class Keepalive {
  readonly #ws: WebSocket;
  readonly #pongTimeoutMs: number;
  readonly #onDead: () => void;
  #interval: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  readonly #onPong = (): void => {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = undefined;
  };

  constructor(ws: WebSocket, intervalMs: number, pongTimeoutMs: number, onDead: () => void) {
    this.#ws = ws;
    this.#pongTimeoutMs = pongTimeoutMs;
    this.#onDead = onDead;
    if (intervalMs <= 0) return;
    ws.on('pong', this.#onPong);
    this.#interval = setInterval(() => this.#ping(), intervalMs);
  }

  #ping(): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.ping();
    this.#deadline ??= setTimeout(() => this.#onDead(), this.#pongTimeoutMs);
  }

  dispose(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#interval = undefined;
    this.#deadline = undefined;
    this.#ws.removeListener('pong', this.#onPong);
  }
}
