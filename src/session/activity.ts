/**
 * When a session last saw activity (src/policy/idle.ts says what counts), and whether its client
 * has been warned of an idle close: a warning goes out once, and activity after it takes it back
 * (`idle-cleared`), so the page can drop its countdown. A client that reads no control messages
 * (seed) is never told anything: the codec has no frame for it.
 */
import type { ServerControl } from '../protocol/types.js';

/** What the idle reaper sees of a session's activity. */
export interface IdleClock {
  /** Epoch ms of the last activity. */
  readonly last: number;
  /** An idle warning is out and no activity came since. */
  readonly warned: boolean;
  /** Warn the client (once) that the session closes in `closesInMs`. */
  warn(closesInMs: number): void;
}

export class Activity implements IdleClock {
  #last = Date.now();
  #warned = false;
  readonly #tell: (msg: ServerControl) => void;

  constructor(tell: (msg: ServerControl) => void) {
    this.#tell = tell;
  }

  /** Epoch ms of the last activity. */
  get last(): number {
    return this.#last;
  }

  /** An idle warning is out and nothing happened since. */
  get warned(): boolean {
    return this.#warned;
  }

  touch(): void {
    this.#last = Date.now();
    if (!this.#warned) return;
    this.#warned = false;
    this.#tell({ type: 'idle-cleared' });
  }

  /** The session will be closed for idleness in `closesInMs` unless something happens. */
  warn(closesInMs: number): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#tell({ type: 'idle-warning', closesInMs });
  }
}
