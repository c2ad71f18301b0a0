/**
 * What a client sends between its credentials and the shell being ready (typing ahead, the first
 * resize) is kept, not dropped, up to a bound: past MAX_PENDING bytes the WebSocket is paused and
 * TCP holds the rest. The latest resize becomes the PTY's initial size.
 */
import type { WebSocket } from 'ws';
import type { ClientMessage } from '../protocol/types.js';

export const MAX_PENDING = 256 * 1024;

export class PendingInput {
  #queue: ClientMessage[] = [];
  #bytes = 0;
  #size: { cols: number; rows: number } | undefined;

  push(msg: ClientMessage, ws: WebSocket): void {
    if (msg.kind === 'resize') {
      this.#size = { cols: msg.cols, rows: msg.rows };
      return;
    }
    this.#queue.push(msg);
    if (msg.kind === 'input') this.#bytes += msg.data.length;
    if (this.#bytes > MAX_PENDING && !ws.isPaused) ws.pause();
  }

  /** The last resize seen while connecting, consumed. */
  takeSize(): { cols: number; rows: number } | undefined {
    const size = this.#size;
    this.#size = undefined;
    return size;
  }

  /** Everything queued, in arrival order; the queue is empty afterwards. */
  drain(): ClientMessage[] {
    const out = this.#queue;
    if (this.#size !== undefined) out.push({ kind: 'resize', ...this.#size });
    this.clear();
    return out;
  }

  clear(): void {
    this.#queue = [];
    this.#bytes = 0;
    this.#size = undefined;
  }
}
