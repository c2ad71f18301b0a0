/**
 * Pipelined SFTP file streams: a Readable and a Writable over one SFTP handle that keep up to
 * `depth` requests of `chunk` bytes in flight, as OpenSSH's own `sftp` does (it keeps 64 requests
 * of 32 KiB). ssh2's createReadStream/createWriteStream keep one request in flight, so a transfer
 * waits a round trip to sftp-server per chunk; over loopback that held the bridge to 0.3-0.47x of
 * `sftp` (docs/performance.md#files-row-bench_files).
 *
 * Reads are 4 of 128 KiB (READ_PIPE), writes 8 of 64 KiB (WRITE_PIPE): 512 KiB in flight either
 * way. Fewer, larger reads cost the bridge less per MiB (3.1-3.8 against 3.8-3.9 ms, each read is
 * a packet to send and an answer to route); writes of 128 KiB gained nothing, since they are cut
 * from the request body's 64 KiB reads anyway.
 *
 * With the ssh2 patch (patches/ssh2+1.17.0.patch) a read takes the answer's own bytes
 * (`readView`): ssh2 has already gathered them into one buffer, and copying them into one of ours
 * cost a buffer and a copy per read (the bridge's CPU on a download: 3.0-3.1 ms per MiB with
 * readView against 3.3-3.9 without, docs/performance.md#reaching-08x-7-dec-evening-issue-15). Without the patch
 * it reads into a buffer of its own, as before.
 *
 * Memory per stream is bounded by `depth x chunk` (the requests in flight: a read's answer, or a
 * write's packet as ssh2 copied it) plus the stream's own buffer (`chunk`, its highWaterMark);
 * nothing grows with the file. Order is kept: reads are pushed in offset order whatever order
 * their answers come in, and a short read (a server may answer fewer bytes than asked before the
 * end) asks again for the rest of its range before anything after it is pushed.
 *
 * The handle is opened in `_construct` and closed in `_destroy` however the stream ends, so a
 * cancelled download closes its SFTP handle at once; a writer's `_final` waits for every write's
 * acknowledgement, then closes the handle and reports a failed close (a server that flushes on
 * close, NFS say, can fail there).
 */
import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

declare module 'ssh2' {
  interface SFTPWrapper {
    /** Patched ssh2 only: read up to `len` bytes at `position`, the answer's own bytes (empty at the end). */
    readView?: (handle: Buffer, len: number, position: number, cb: (err: Error | undefined, data: Buffer) => void) => void;
  }
}

export interface PipeShape {
  /** Bytes per read or write request. */
  readonly chunk: number;
  /** Requests in flight at most. */
  readonly depth: number;
}

/** A download's reads: 4 of 128 KiB, 512 KiB in flight (docs/protocol.md#files states it). */
export const READ_PIPE: PipeShape = { chunk: 128 * 1024, depth: 4 };

/** An upload's writes: 8 of 64 KiB, 512 KiB in flight. */
export const WRITE_PIPE: PipeShape = { chunk: 64 * 1024, depth: 8 };

const EMPTY = Buffer.alloc(0);

interface ReadSlot {
  /** Where the slot's range starts and how long it is. */
  readonly position: number;
  readonly length: number;
  readonly pieces: Buffer[];
  got: number;
  /** Answered in full, or up to the end of the file. */
  done: boolean;
  eof: boolean;
}

function closeHandle(sftp: SFTPWrapper, handle: Buffer | null, cb: (err: Error | null) => void): void {
  if (handle === null) {
    cb(null);
    return;
  }
  try {
    sftp.close(handle, (err) => cb(err ?? null));
  } catch (err) {
    cb(err as Error); // the channel is closed already
  }
}

export interface ReaderOptions {
  readonly shape?: PipeShape;
  /** Read no byte past this offset (inclusive), as fs.createReadStream's `end`. */
  readonly end?: number;
}

/** Reads the file `path` from offset 0 to its end (or `end`), `depth` reads in flight. */
export class SftpReader extends Readable {
  readonly #sftp: SFTPWrapper;
  readonly #path: string;
  readonly #shape: PipeShape;
  readonly #limit: number;
  #handle: Buffer | null = null;
  #next = 0;
  readonly #slots: ReadSlot[] = [];
  #eof = false;
  #wanted = false;

  constructor(sftp: SFTPWrapper, path: string, opts: ReaderOptions = {}) {
    const shape = opts.shape ?? READ_PIPE;
    super({ highWaterMark: shape.chunk });
    this.#sftp = sftp;
    this.#path = path;
    this.#shape = shape;
    this.#limit = opts.end === undefined ? Number.MAX_SAFE_INTEGER : opts.end + 1;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    this.#sftp.open(this.#path, 'r', (err, handle) => {
      if (err !== undefined && err !== null) {
        cb(err);
        return;
      }
      this.#handle = handle;
      cb();
    });
  }

  override _read(): void {
    this.#wanted = true;
    this.#fill();
  }

  #fill(): void {
    while (this.#wanted && !this.#eof && !this.destroyed && this.#slots.length < this.#shape.depth && this.#next < this.#limit) {
      const length = Math.min(this.#shape.chunk, this.#limit - this.#next);
      const slot: ReadSlot = { position: this.#next, length, pieces: [], got: 0, done: false, eof: false };
      this.#next += length;
      this.#slots.push(slot);
      this.#ask(slot);
    }
    // Nothing left to ask for and nothing in flight: the range ended exactly at `end`.
    if (this.#slots.length === 0 && this.#next >= this.#limit && !this.#eof) {
      this.#eof = true;
      this.push(null);
    }
  }

  #ask(slot: ReadSlot): void {
    const handle = this.#handle;
    if (handle === null || this.destroyed) return;
    const want = slot.length - slot.got;
    const position = slot.position + slot.got;
    const answered = (err: Error | null | undefined, data: Buffer): void => {
      if (this.destroyed) return;
      if (err !== undefined && err !== null) {
        this.destroy(err);
        return;
      }
      if (data.length > 0) {
        slot.pieces.push(data);
        slot.got += data.length;
      }
      if (data.length === 0) slot.eof = true;
      if (data.length === 0 || slot.got === slot.length) {
        slot.done = true;
        this.#deliver();
      } else {
        this.#ask(slot); // a short read: the rest of this range before anything after it
      }
    };
    try {
      const view = this.#sftp.readView;
      if (view !== undefined) view.call(this.#sftp, handle, want, position, answered);
      else this.#sftp.read(handle, Buffer.allocUnsafe(want), 0, want, position, (err, n, data) => answered(err, err === undefined || err === null ? data.subarray(0, n) : EMPTY));
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #deliver(): void {
    for (let head = this.#slots[0]; head?.done === true; head = this.#slots[0]) {
      this.#slots.shift();
      for (const piece of head.pieces) {
        if (!this.push(piece)) this.#wanted = false;
      }
      if (head.eof) {
        // The file ended inside this range; later answers (all empty) are not waited for.
        this.#eof = true;
        this.#slots.length = 0;
        this.push(null);
        return;
      }
    }
    this.#fill();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = null;
    this.#slots.length = 0;
    closeHandle(this.#sftp, handle, () => cb(err));
  }
}

export interface WriterOptions {
  readonly shape?: PipeShape;
  /** Open flags as ssh2's open takes them (`wx`: create, refuse an existing name). */
  readonly flags: string;
  readonly mode: number;
}

/** Writes the file `path` from offset 0, `depth` writes in flight; finishes when all are acknowledged and the handle is closed. */
export class SftpWriter extends Writable {
  readonly #sftp: SFTPWrapper;
  readonly #path: string;
  readonly #shape: PipeShape;
  readonly #opts: WriterOptions;
  #handle: Buffer | null = null;
  #position = 0;
  #inFlight = 0;
  /** Requests not sent yet: the pieces of the last write, at most one incoming buffer. */
  readonly #pending: Buffer[] = [];
  /** The callback of the write that waits for a free slot, and of `_final` waiting for the rest. */
  #waiting: ((err?: Error | null) => void) | null = null;
  #finishing: ((err?: Error | null) => void) | null = null;

  constructor(sftp: SFTPWrapper, path: string, opts: WriterOptions) {
    const shape = opts.shape ?? WRITE_PIPE;
    super({ highWaterMark: shape.chunk });
    this.#sftp = sftp;
    this.#path = path;
    this.#shape = shape;
    this.#opts = opts;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    // ssh2's typings take a mode number where its code takes attributes.
    this.#sftp.open(this.#path, this.#opts.flags as 'w', { mode: this.#opts.mode }, (err, handle) => {
      if (err !== undefined && err !== null) {
        cb(err);
        return;
      }
      this.#handle = handle;
      cb();
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#queue(chunk);
    this.#waiting = cb;
    this.#pump();
  }

  /** Gathers what is buffered into requests of at most `chunk` bytes. */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let batch: Buffer[] = [];
    let size = 0;
    for (const { chunk } of chunks) {
      if (size > 0 && size + chunk.length > this.#shape.chunk) {
        this.#queue(Buffer.concat(batch, size));
        batch = [];
        size = 0;
      }
      batch.push(chunk);
      size += chunk.length;
    }
    if (size > 0) this.#queue(batch.length === 1 ? batch[0] as Buffer : Buffer.concat(batch, size));
    this.#waiting = cb;
    this.#pump();
  }

  /** Cuts `data` into requests of at most `chunk` bytes, sent as slots free up. */
  #queue(data: Buffer): void {
    for (let at = 0; at < data.length; at += this.#shape.chunk) this.#pending.push(data.subarray(at, at + this.#shape.chunk));
  }

  /** Sends what is queued while fewer than `depth` are out; the write waiting for room goes on once the queue is empty and a slot is free. */
  #pump(): void {
    while (this.#pending.length > 0 && this.#inFlight < this.#shape.depth && !this.destroyed) this.#send(this.#pending.shift() as Buffer);
    const waiting = this.#waiting;
    if (waiting !== null && this.#pending.length === 0 && this.#inFlight < this.#shape.depth) {
      this.#waiting = null;
      waiting();
    }
  }

  #send(data: Buffer): void {
    const handle = this.#handle;
    if (handle === null) return;
    const position = this.#position;
    this.#position += data.length;
    this.#inFlight += 1;
    try {
      // ssh2 copies `data` into its packet before it returns, so nothing here holds it.
      this.#sftp.write(handle, data, 0, data.length, position, (err) => this.#acked(err ?? null));
    } catch (err) {
      this.#acked(err as Error);
    }
  }

  #acked(err: Error | null): void {
    this.#inFlight -= 1;
    if (this.destroyed) return;
    if (err !== null) {
      this.destroy(err);
      return;
    }
    this.#pump();
    if (this.#inFlight === 0 && this.#pending.length === 0 && this.#finishing !== null) this.#close();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#finishing = cb;
    if (this.#inFlight === 0) this.#close();
  }

  #close(): void {
    const cb = this.#finishing;
    this.#finishing = null;
    const handle = this.#handle;
    this.#handle = null;
    closeHandle(this.#sftp, handle, (err) => cb?.(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = null;
    this.#waiting = null;
    this.#finishing = null;
    this.#pending.length = 0;
    closeHandle(this.#sftp, handle, () => cb(err));
  }
}
