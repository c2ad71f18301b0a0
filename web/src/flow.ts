/**
 * Render-aware acknowledgement accounting for one session (v1 `flowControl: true`).
 *
 * Every binary output frame is counted when it arrives (`received`) and again when xterm.js has
 * parsed it (`rendered`, called from the write callback). Rendered bytes are acknowledged with
 * `{"type":"ack","bytes":n}` once 64 KiB are pending, and otherwise by a short timer so small
 * outputs are acknowledged too. Nothing is ever acknowledged before xterm's callback ran.
 */

export const ACK_THRESHOLD = 64 * 1024;
export const ACK_FLUSH_MS = 50;

export class AckFlow {
  #pending = 0;
  #acked = 0;
  #received = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #send: (bytes: number) => boolean;

  /** `send` transmits one ack; it returns false when the socket can no longer carry it. */
  constructor(send: (bytes: number) => boolean) {
    this.#send = send;
  }

  /** Output bytes received on the socket for this session. */
  get received(): number {
    return this.#received;
  }

  /** Output bytes acknowledged to the server for this session. */
  get acked(): number {
    return this.#acked;
  }

  /** Rendered but not yet acknowledged. */
  get pending(): number {
    return this.#pending;
  }

  /** A binary frame of `bytes` arrived. */
  arrived(bytes: number): void {
    this.#received += bytes;
  }

  /** xterm.js finished parsing a frame of `bytes`. */
  rendered(bytes: number): void {
    if (this.#closed) return;
    this.#pending += bytes;
    if (this.#pending >= ACK_THRESHOLD) {
      this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, ACK_FLUSH_MS);
    }
  }

  /** Send whatever is pending now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#closed || this.#pending === 0) return;
    const bytes = this.#pending;
    if (this.#send(bytes)) {
      this.#acked += bytes;
      this.#pending = 0;
    }
  }

  /** The session is over: stop timers, never send again. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
