/**
 * The output a resumable session keeps for a resume to replay: a bounded log of the most recent
 * output bytes, each at an absolute position (the count of output bytes before it since `ready`).
 *
 * It holds ssh2's own chunk Buffers (never copied: ssh2 allocates one per packet and never reuses
 * it, which the batcher relies on too), trimmed from the front:
 * - past `capacity` bytes, the oldest bytes are dropped (a slice of the first chunk when needed),
 *   so a client that comes back after more than `capacity` bytes learns how much it lost;
 * - `release(pos)` drops what the client has confirmed (flow-control acks), so a client that acks
 *   keeps the log small while attached.
 *
 * Pure data structure: no timers, no sockets. Chunks live in an array used as a queue whose head
 * index advances; the array is compacted when more than half of it is dead, so appends and trims
 * are amortized O(1).
 */
export class OutputLog {
  readonly #capacity: number;
  #chunks: Buffer[] = [];
  #head = 0;
  /** Position of the first retained byte. */
  #start = 0;
  /** Bytes retained. */
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
  }

  /** Position of the oldest byte still retained. */
  get start(): number {
    return this.#start;
  }

  /** Position just after the newest byte: the total output so far. */
  get end(): number {
    return this.#start + this.#size;
  }

  /** Bytes retained. */
  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#capacity;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size > this.#capacity) this.#dropFront(this.#size - this.#capacity);
  }

  /** Forget everything before `pos` (clamped to what is retained). */
  release(pos: number): void {
    const n = Math.min(pos, this.end) - this.#start;
    if (n > 0) this.#dropFront(n);
  }

  /**
   * The retained bytes from `pos` on, as slices of the retained chunks (no copy). `pos` below
   * `start` yields everything retained; the caller compares with `start` to know what was lost.
   * Throws RangeError for a position past `end` (bytes that were never produced).
   */
  since(pos: number): Buffer[] {
    if (pos > this.end) throw new RangeError(`position ${pos} is past the end of the output (${this.end})`);
    const out: Buffer[] = [];
    let at = this.#start;
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      if (c === undefined) continue;
      const next = at + c.length;
      if (next > pos) out.push(pos > at ? c.subarray(pos - at) : c);
      at = next;
    }
    return out;
  }

  #dropFront(n: number): void {
    let left = n;
    while (left > 0 && this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head];
      if (c === undefined) break;
      if (c.length <= left) {
        left -= c.length;
        this.#chunks[this.#head] = EMPTY;
        this.#head++;
      } else {
        this.#chunks[this.#head] = c.subarray(left);
        left = 0;
      }
    }
    const dropped = n - left;
    this.#start += dropped;
    this.#size -= dropped;
    if (this.#head > 32 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
