/**
 * The one place a stop is asked for: SIGTERM, SIGINT, or, in a cluster worker, the primary's
 * `unready` (the first step of its stop: the ready delay) and `drain` commands. The entry point
 * (cli.ts) installs it before it loads anything heavy, so a stop at any moment of the start is
 * seen and none is lost:
 *
 * - While nothing has taken ownership (the modules are still loading, nothing is listening, no
 *   worker is forked), a stop ends the process at once with exit 0: there is nothing to drain.
 * - From `own(handler)` on, every stop goes to the handler (the App's drain, the primary's), with
 *   how many stops have come so far, so a second signal can mean "now".
 *
 * Why a worker says `hello`: node:cluster's IPC channel reads messages while the worker is still
 * loading, and a message that arrives before a `message` listener exists is dropped. The primary
 * sends `unready` or `drain` to every worker when its stop begins; a worker that had no listener
 * yet loses it. So the listener is installed here, first, and then the worker sends `hello`; the
 * primary answers a `hello` that comes during its stop with the command of the step it is in. A
 * command sent before the listener existed is therefore always followed by one sent after it.
 * Imports here stay light (node: built-ins and type-only modules).
 */
import { isToWorker, type Message, type ToPrimary } from '../cluster/messages.js';
import type { Logger } from '../log.js';

/** A signal, or a cluster worker's command from its primary: `unready` (its ready delay began), `drain`. */
export type StopReason = 'SIGTERM' | 'SIGINT' | 'unready' | 'drain';

/** Receives every stop from `own()` on; `count` is 1 for the first, 2 for the second, ... */
export type StopHandler = (reason: StopReason, count: number) => void;

/** What the stop request needs of its process (the real one in production; a fake in unit tests). */
export interface StopHost {
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  /** Present in a process with an IPC channel (a cluster worker). */
  send?: ((m: Message) => boolean) | undefined;
  readonly connected?: boolean;
}

export class StopRequest {
  readonly #exit: (code: number) => void;
  #handler: StopHandler | null = null;
  #count = 0;

  private constructor(exit: (code: number) => void) {
    this.#exit = exit;
  }

  /**
   * Listens for SIGTERM and SIGINT, and when `worker` is true for the primary's `unready` and
   * `drain` (then says `hello` to the primary). Call once, first thing.
   */
  static install(host: StopHost, worker: boolean, exit: (code: number) => void): StopRequest {
    const stop = new StopRequest(exit);
    host.on('SIGTERM', () => stop.request('SIGTERM'));
    host.on('SIGINT', () => stop.request('SIGINT'));
    if (worker) {
      host.on('message', (m: unknown) => {
        if (isToWorker(m) && m.kind === 'cmd' && (m.op === 'drain' || m.op === 'unready')) stop.request(m.op);
      });
      if (host.connected === true) host.send?.({ uwsb: 1, kind: 'notice', op: 'hello', args: {} } satisfies ToPrimary);
    }
    return stop;
  }

  /** Stops asked for so far. */
  get count(): number {
    return this.#count;
  }

  /** From now on every stop goes to `handler`. Call it before anything that listens or forks. */
  own(handler: StopHandler): void {
    this.#handler = handler;
  }

  request(reason: StopReason): void {
    this.#count++;
    if (this.#handler === null) this.#exit(0);
    else this.#handler(reason, this.#count);
  }
}

/**
 * The stop handler of a role that drains (one process, the cluster primary): the first stop
 * drains (after the ready delay, if any); a later one skips what is left of the ready delay when
 * `hurry` says one was under way, and otherwise does not wait for the drain and ends the process
 * with `now`.
 */
export function drainThenNow(logger: Logger, drain: () => void, now: () => void, hurry: () => boolean = () => false): StopHandler {
  return (reason, count) => {
    if (count > 1) {
      if (hurry()) {
        logger.warn({ signal: reason }, 'second signal: draining now, without the rest of the ready delay');
        return;
      }
      logger.warn({ signal: reason }, 'second signal: exiting without waiting');
      now();
      return;
    }
    logger.info({ signal: reason }, 'shutting down');
    drain();
  };
}
