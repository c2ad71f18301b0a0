/**
 * Output coalescing for the SSH -> client direction: fewer, larger WebSocket frames under load,
 * and no added latency when idle.
 *
 * The rule, with no timer anywhere:
 * - **Idle** (none of our frames is waiting for its write callback): a chunk is handed to
 *   `ws.send` at once, synchronously, as it is (no copy). A keystroke echo goes out inside the
 *   SSH 'data' handler that delivered it.
 * - **Busy** (a frame is still being written): the chunk joins the pending batch. When the last
 *   outstanding write completes, the whole batch goes out as one frame (one copy, of the batch).
 *   On a socket that keeps up, the write callback of a synchronous write runs on the next tick,
 *   so only chunks of the same event-loop turn are coalesced (typically the SSH packets of one
 *   TCP read); on a congested socket it runs when the kernel takes more, so everything that
 *   arrived meanwhile leaves as one frame.
 * - **Bounded**: a batch never grows past `maxFrame` bytes. A chunk that would overflow it sends
 *   the batch first; a chunk of `maxFrame` bytes or more is never merged, it goes alone (ssh2
 *   chunks are at most one SSH packet, 32 KiB, so in practice every frame is <= `maxFrame`).
 *   The caller counts pending bytes as in flight, so its backpressure covers the batch too.
 *
 * Byte order is arrival order: a chunk is sent directly only when nothing is pending or being
 * written, and batches are sent in order. `ws` calls send callbacks in send order, so the sizes
 * of outstanding frames are kept in a FIFO and reported, one frame at a time, to `onWritten`.
 *
 * Hot path: no closure or object per chunk (one bound write callback per batcher, one shared
 * send-options object, the pending list and the size ring are reused); the only per-frame
 * allocation is the batch buffer itself, made only when two or more chunks are merged.
 *
 * The chunks kept in a batch are ssh2's own Buffers; ssh2 allocates one per packet and never
 * reuses it (the old one-frame-per-chunk code relied on that too: `ws` keeps the Buffer until
 * the socket has written it).
 */
import type { WebSocket } from 'ws';

/** Largest frame a batch grows to (64 KiB). */
export const MAX_FRAME = 64 * 1024;

/** The one member of a WebSocket the batcher uses. */
export type FrameSocket = Pick<WebSocket, 'send'>;

/** Shared by every send: `ws` copies it into its own options, it never mutates it. */
const SEND_OPTIONS: { readonly binary: true } = Object.freeze({ binary: true });

/** FIFO of non-negative integers in a growable ring; no allocation until it outgrows its capacity. */
class SizeRing {
  #buf = new Float64Array(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(n: number): void {
    if (this.#length === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#length) % this.#buf.length] = n;
    this.#length++;
  }

  /** The oldest value, removed; 0 when empty. */
  shift(): number {
    if (this.#length === 0) return 0;
    const n = this.#buf[this.#head] ?? 0;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#length--;
    return n;
  }

  #grow(): void {
    const next = new Float64Array(this.#buf.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length] ?? 0;
    this.#buf = next;
    this.#head = 0;
  }
}

export class OutputBatcher {
  readonly #ws: FrameSocket;
  readonly #onWritten: (bytes: number) => void;
  readonly #maxFrame: number;
  /** Pending chunks, slots [0, #count); the array is reused, slots are cleared when sent. */
  readonly #pending: Array<Buffer | undefined> = [];
  #count = 0;
  #pendingBytes = 0;
  /** Sizes of the frames handed to ws.send whose callback has not run yet, oldest first. */
  readonly #writing = new SizeRing();
  #frames = 0;
  #disposed = false;

  /** The one write callback: ws calls it once per frame, in send order (with an error too). */
  readonly #written = (): void => {
    const size = this.#writing.shift();
    // The socket took everything we gave it: what arrived meanwhile leaves as one frame.
    if (this.#writing.length === 0 && this.#count > 0) this.#flush();
    this.#onWritten(size);
  };

  /**
   * @param onWritten called once per frame with its size, when ws reports it written (or failed).
   * @param maxFrame largest merged frame, bytes.
   */
  constructor(ws: FrameSocket, onWritten: (bytes: number) => void, maxFrame = MAX_FRAME) {
    if (!Number.isInteger(maxFrame) || maxFrame < 1) throw new RangeError(`maxFrame must be a positive integer, got ${maxFrame}`);
    this.#ws = ws;
    this.#onWritten = onWritten;
    this.#maxFrame = maxFrame;
  }

  /** Bytes waiting in the batch (not yet handed to ws.send). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Frames handed to ws.send whose write callback has not run yet. */
  get writesInFlight(): number {
    return this.#writing.length;
  }

  /** Frames handed to ws.send so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Send `chunk` now if the socket is idle, else add it to the batch. Empty chunks are dropped. */
  push(chunk: Buffer): void {
    const size = chunk.length;
    if (this.#disposed || size === 0) return;
    if (this.#writing.length === 0 && this.#count === 0) {
      this.#write(chunk);
      return;
    }
    if (this.#pendingBytes + size > this.#maxFrame) this.#flush();
    if (size >= this.#maxFrame) {
      this.#write(chunk);
      return;
    }
    if (this.#count === this.#pending.length) this.#pending.push(chunk);
    else this.#pending[this.#count] = chunk;
    this.#count++;
    this.#pendingBytes += size;
    if (this.#pendingBytes === this.#maxFrame) this.#flush();
  }

  /** Hand the batch to ws.send now, as one frame, behind whatever is being written. */
  flush(): void {
    if (!this.#disposed) this.#flush();
  }

  /**
   * Send what is pending (it was produced before whatever the caller sends next, such as a close
   * frame) and stop: later pushes are dropped, nothing is kept. Write callbacks still report.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#flush();
    this.#disposed = true;
  }

  /** Drop the batch without sending it (the socket is gone) and stop; write callbacks still report. */
  abandon(): void {
    for (let i = 0; i < this.#count; i++) this.#pending[i] = undefined;
    this.#count = 0;
    this.#pendingBytes = 0;
    this.#disposed = true;
  }

  #flush(): void {
    const count = this.#count;
    if (count === 0) return;
    let frame: Buffer;
    if (count === 1) {
      frame = this.#pending[0] ?? Buffer.alloc(0);
      this.#pending[0] = undefined;
    } else {
      frame = Buffer.allocUnsafe(this.#pendingBytes);
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const chunk = this.#pending[i];
        if (chunk === undefined) continue;
        frame.set(chunk, offset);
        offset += chunk.length;
        this.#pending[i] = undefined;
      }
    }
    this.#count = 0;
    this.#pendingBytes = 0;
    this.#write(frame);
  }

  #write(frame: Buffer): void {
    // Recorded before the call, so even a callback that ran synchronously would find its size.
    this.#writing.push(frame.length);
    this.#frames++;
    this.#ws.send(frame, SEND_OPTIONS, this.#written);
  }
}
