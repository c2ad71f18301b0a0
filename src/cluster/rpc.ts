/**
 * Request/response over one IPC channel: ids, one pending entry per request with a timeout,
 * all pending requests failed when the channel goes away. Used on both sides (a worker asking
 * its primary, the primary asking a worker).
 */
import type { Message } from './messages.js';

export type Send = (message: Message) => boolean;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class Rpc {
  readonly #send: Send;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closed = false;

  constructor(send: Send, timeoutMs = 5000) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
  }

  request<R>(op: string, args: unknown): Promise<R> {
    if (this.#closed) return Promise.reject(new Error(`ipc ${op}: channel closed`));
    const id = this.#next++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`ipc ${op}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#send({ uwsb: 1, kind: 'req', id, op, args });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  notice(op: string, args: unknown): void {
    if (this.#closed) return;
    try {
      this.#send({ uwsb: 1, kind: 'notice', op, args });
    } catch {
      // The channel is going away; the other side cleans up by itself (a dead worker's grants are released).
    }
  }

  /** Feed a response; returns false when the message was not a response to us. */
  settle(message: Message): boolean {
    if (message.kind !== 'res') return false;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return true;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(message.error));
    return true;
  }

  /** Fail everything pending and refuse new requests. Idempotent. */
  close(reason: string): void {
    this.#closed = true;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.#pending.delete(id);
    }
  }
}

/** Answer one request with `handler`, replying through `send`. */
export async function answer(message: Extract<Message, { kind: 'req' }>, send: Send, handler: (op: string, args: unknown) => unknown): Promise<void> {
  let reply: Message;
  try {
    reply = { uwsb: 1, kind: 'res', id: message.id, ok: true, result: await handler(message.op, message.args) };
  } catch (err) {
    reply = { uwsb: 1, kind: 'res', id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  try {
    send(reply);
  } catch {
    // The asker is gone.
  }
}
