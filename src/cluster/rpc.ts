/**
 * Request/response over one IPC channel, typed by a request map (src/util/requests.ts): ids, one
 * pending entry per request with a timeout, all pending requests failed when the channel goes
 * away. The asking side is a `Client` of the map; the answering side runs the map's `Authority`
 * (`answer`, `hear`). Used both ways: a worker asking its primary, the primary asking a worker.
 */
import type { AskOp, Authority, Client, RequestMap, TellOp } from '../util/requests.js';
import type { AskMessage, Reply, TellMessage } from './messages.js';

/** How the asking side sends the requests of map `M`. */
export type Send<M extends RequestMap<M>> = (message: AskMessage<M> | TellMessage<M>) => boolean;

interface Pending {
  /** Given what the other side answered: the channel is trusted to answer what the map says. */
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class Rpc<M extends RequestMap<M>> implements Client<M> {
  readonly #send: Send<M>;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closed = false;

  constructor(send: Send<M>, timeoutMs = 5000) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
  }

  ask<K extends AskOp<M>>(op: K, args: M[K]['args']): Promise<M[K]['result']> {
    if (this.#closed) return Promise.reject(new Error(`ipc ${op}: channel closed`));
    const id = this.#next++;
    return new Promise<M[K]['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`ipc ${op}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        const request: AskMessage<M, K> = { uwsb: 1, kind: 'req', id, op, args };
        this.#send(request);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  tell<K extends TellOp<M>>(op: K, args: M[K]['args']): void {
    if (this.#closed) return;
    try {
      const notice: TellMessage<M, K> = { uwsb: 1, kind: 'notice', op, args };
      this.#send(notice);
    } catch {
      // The channel is going away; the other side cleans up by itself (a dead worker's grants are released).
    }
  }

  /** Feed a response; one to a request no longer pending (timed out) is dropped. */
  settle(response: Reply): void {
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new Error(response.error));
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

/** Answer one asked request with `authority` on behalf of `caller`, replying through `reply`. */
export async function answer<M extends RequestMap<M>, C, K extends AskOp<M>>(authority: Authority<M, C>, request: AskMessage<M, K>, caller: C, reply: (response: Reply) => boolean): Promise<void> {
  let response: Reply;
  try {
    if (!Object.hasOwn(authority, request.op)) throw new Error(`unknown request ${request.op}`);
    response = { uwsb: 1, kind: 'res', id: request.id, ok: true, result: await authority[request.op](request.args, caller) };
  } catch (err) {
    response = { uwsb: 1, kind: 'res', id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  try {
    reply(response);
  } catch {
    // The asker is gone.
  }
}

/** Carry out one told request with `authority` on behalf of `caller` (an unknown one is dropped: nobody waits for it). */
export function hear<M extends RequestMap<M>, C, K extends TellOp<M>>(authority: Authority<M, C>, notice: TellMessage<M, K>, caller: C): void {
  if (Object.hasOwn(authority, notice.op)) void authority[notice.op](notice.args, caller);
}
