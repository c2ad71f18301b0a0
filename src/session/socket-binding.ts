/**
 * A session's hold on one client socket: its message, close and error listeners and its
 * keepalive. A session has one binding at a time (the upgrade's, then each resume's); it lets a
 * binding go when the socket is lost or replaced (`release`), or closes through it (`shut`).
 * Whatever path is taken, every listener and timer it added is removed, and a late `error` from
 * the socket is swallowed (the session has said its last word).
 */
import type { RawData, WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import { Keepalive } from '../transport/keepalive.js';

export interface SocketEvents {
  readonly message: (data: RawData, isBinary: boolean) => void;
  readonly close: (code: number) => void;
  readonly error: (err: Error & { code?: string }) => void;
  /** No pong within ws-pong-timeout. */
  readonly dead: () => void;
}

/** The keepalive's timing. */
export type SocketTiming = Pick<Config, 'wsPingIntervalMs' | 'wsPongTimeoutMs'>;

export class SocketBinding {
  readonly ws: WebSocket;
  readonly #events: SocketEvents;
  readonly #keepalive: Keepalive;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, events: SocketEvents, timing: SocketTiming) {
    this.ws = ws;
    this.#events = events;
    ws.on('message', events.message);
    ws.on('close', events.close);
    ws.on('error', events.error);
    this.#keepalive = new Keepalive(ws, timing.wsPingIntervalMs, timing.wsPongTimeoutMs, events.dead);
  }

  /** Stop listening to the socket (it is gone, or replaced); the caller cuts or closes it. */
  release(): void {
    this.#keepalive.dispose();
    this.ws.removeListener('close', this.#events.close);
    this.#finish();
  }

  /**
   * Close the socket with `code` and `reason` (when it is still open) and call `gone` once it is
   * closed, or after `graceMs` when the peer never completes the close handshake (it is cut then).
   */
  shut(code: number, reason: string, graceMs: number, gone: () => void): void {
    const ws = this.ws;
    this.#keepalive.dispose();
    ws.resume(); // a socket paused for backpressure must still read the peer's close frame
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.#finish();
      gone();
    };
    if (ws.readyState === ws.CLOSED) {
      finish();
      return;
    }
    ws.removeListener('close', this.#events.close);
    ws.once('close', finish);
    if (ws.readyState === ws.OPEN) ws.close(code, reason);
    this.#graceTimer = setTimeout(() => ws.terminate(), graceMs);
  }

  #finish(): void {
    clearTimeout(this.#graceTimer);
    this.ws.removeListener('message', this.#events.message);
    this.ws.removeListener('error', this.#events.error);
    this.ws.on('error', () => undefined);
  }
}
