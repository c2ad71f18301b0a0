/**
 * A terminal session as the benchmark sees it, whatever carries it (direct SSH or the bridge):
 * bytes in, bytes out, and waits on the output that never buffer the whole stream. Matching
 * runs on every chunk as it arrives (plus the seam with the previous chunk), so a wait's
 * timestamp is taken in the data handler itself, not after a promise hop.
 */
import { performance } from 'node:perf_hooks';

/** Longest needle a wait may use (the seam kept between chunks). */
const MAX_NEEDLE = 256;
/** Output kept since the last mark(), for waits that start after the data arrived. */
const KEEP = 4096;

interface Waiter {
  readonly needle: Buffer;
  readonly resolve: (at: number) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface TermIo {
  write(data: Buffer): void;
  /** Start closing; `closed` settles when the transport is gone. */
  close(): void;
  /** Hard teardown (timeouts, cleanup). */
  destroy(): void;
}

export class Term {
  /** Total output bytes received. */
  bytes = 0;
  /** Output chunks (WebSocket frames or SSH data events) received. */
  chunks = 0;
  /** Resolves once the transport closed (never rejects). */
  readonly closed: Promise<void>;
  #io: TermIo | undefined;
  #tail: Buffer = Buffer.alloc(0);
  #waiters = new Set<Waiter>();
  #lastData = performance.now();
  #closedReason: string | undefined;
  #markClosed!: () => void;

  constructor(readonly label: string) {
    this.closed = new Promise((resolve) => { this.#markClosed = resolve; });
  }

  attach(io: TermIo): void { this.#io = io; }

  get isClosed(): boolean { return this.#closedReason !== undefined; }

  /** Feed output from the transport. */
  push(chunk: Buffer): void {
    const now = performance.now();
    this.bytes += chunk.length;
    this.chunks++;
    this.#lastData = now;
    const prev = this.#tail;
    for (const w of this.#waiters) {
      const seam = Buffer.concat([prev.subarray(Math.max(0, prev.length - w.needle.length + 1)), chunk.subarray(0, w.needle.length - 1)]);
      if (chunk.includes(w.needle) || seam.includes(w.needle)) this.#settle(w, undefined, now);
    }
    // Always a copy, so the tail never pins a big transport buffer.
    this.#tail = chunk.length >= KEEP
      ? Buffer.from(chunk.subarray(chunk.length - KEEP))
      : Buffer.concat([prev.subarray(Math.max(0, prev.length + chunk.length - KEEP)), chunk]);
  }

  /** The transport is gone: fail every pending wait. */
  ended(reason: string): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    for (const w of this.#waiters) this.#settle(w, new Error(`${this.label}: closed while waiting for ${JSON.stringify(w.needle.toString('latin1'))}: ${reason}; output tail: ${this.tailText()}`));
    this.#markClosed();
  }

  /** Forget output seen so far: later waits only match output that arrives after this call. */
  mark(): void { this.#tail = Buffer.alloc(0); }

  tailText(n = 300): string { return JSON.stringify(this.#tail.subarray(Math.max(0, this.#tail.length - n)).toString('latin1')); }

  write(data: string | Buffer): void {
    if (this.#io === undefined || this.isClosed) throw new Error(`${this.label}: write on a closed session`);
    this.#io.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /**
   * Resolve with the performance.now() of the chunk that completed `needle`, counting output
   * since the last mark(). Rejects on timeout or close.
   */
  waitFor(needle: string | Buffer, timeoutMs: number): Promise<number> {
    const n = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
    if (n.length === 0 || n.length > MAX_NEEDLE) throw new Error(`needle length ${n.length} outside 1..${MAX_NEEDLE}`);
    if (this.#tail.includes(n)) return Promise.resolve(this.#lastData);
    if (this.#closedReason !== undefined) return Promise.reject(new Error(`${this.label}: closed: ${this.#closedReason}`));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(w, new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${JSON.stringify(n.toString('latin1'))}; output tail: ${this.tailText()}`)), timeoutMs);
      const w: Waiter = { needle: n, resolve, reject, timer };
      this.#waiters.add(w);
    });
  }

  /** Resolve once no output arrived for `quietMs` (at most `maxMs`, then resolve anyway). */
  async waitQuiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const now = performance.now();
      const idle = now - this.#lastData;
      if (idle >= quietMs || now >= deadline || this.isClosed) return;
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(quietMs - idle, deadline - now))));
    }
  }

  close(): void {
    if (!this.isClosed) this.#io?.close();
  }

  destroy(): void {
    this.#io?.destroy();
    this.ended('destroyed');
  }

  #settle(w: Waiter, err?: Error, at?: number): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (err) w.reject(err); else w.resolve(at ?? performance.now());
  }
}

/** Race a promise against a timer; `onTimeout` runs (for teardown) before the rejection. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => undefined); // a loser that rejects after the timeout must not be unhandled
  const t = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { onTimeout?.(); reject(new Error(`timed out after ${ms} ms: ${what}`)); }, ms);
  });
  try { return await Promise.race([p, t]); } finally { clearTimeout(timer); }
}

export const PTY = { term: 'xterm-256color', cols: 120, rows: 40 } as const;

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly prompt: string;
}

/** Opens one session and resolves once the prompt has been seen. */
export type Opener = (timeoutMs: number) => Promise<Term>;
