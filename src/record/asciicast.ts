/**
 * asciicast v2 encoding (https://docs.asciinema.org/manual/asciicast/v2/), independent of files:
 * the first line is a JSON header object, each further line one event
 * `[seconds_since_start, code, data]` with the codes the v2 format defines: "o" output,
 * "i" input, "r" resize ("COLSxROWS") and "m" marker.
 *
 * AsciicastWriter turns terminal traffic into those lines and hands them to a CastSink (the file
 * of src/record/recorder.ts, or an array in the tests):
 *
 * - Bytes are decoded with one streaming StringDecoder per direction, so a UTF-8 character split
 *   across two SSH chunks comes out whole in the later event; invalid bytes become U+FFFD. JSON
 *   escaping (control characters as \u001b and so on) is JSON.stringify's.
 * - Times come from a monotonic clock, rounded to microseconds, never decreasing.
 * - The size cap: an event that would take the file past `maxBytes` (keeping room for the
 *   closing marker) is not written; a marker `[t, "m", "recording truncated: ..."]` is, and the
 *   writer stops. The file stays valid asciicast and never exceeds `maxBytes` (unless the header
 *   alone does).
 * - The backlog cap: the sink reports how many bytes it holds that are not yet on disk. When an
 *   event would take that past `maxPending` (the disk is slower than the output), the writer
 *   stops the same way instead of buffering without bound. Nothing is dropped silently: what
 *   was accepted before the marker is written in order.
 */
import { StringDecoder } from 'node:string_decoder';

export interface AsciicastHeader {
  readonly width: number;
  readonly height: number;
  /** Unix time in seconds of the start. */
  readonly timestamp: number;
  readonly term: string;
  readonly title: string;
  /** Extra top-level fields (players ignore unknown keys). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export type EventCode = 'o' | 'i' | 'r' | 'm';

/** Where the lines go. `pending` is what has been written to it but is not yet on disk. */
export interface CastSink {
  write(text: string): void;
  readonly pending: number;
}

/** Why a writer stopped: finished normally, hit a cap, or its sink failed. */
export type StopReason = 'finished' | 'size' | 'backlog' | 'failed';

export interface WriterOptions {
  readonly header: AsciicastHeader;
  readonly sink: CastSink;
  /** The file never grows past this (the header aside). */
  readonly maxBytes: number;
  /** Bytes the sink may hold unwritten before recording stops. */
  readonly maxPending: number;
  /** Monotonic milliseconds (performance.now by default). */
  readonly clock?: () => number;
  /** Told once, when the writer stops for any reason. */
  readonly onStop?: (reason: StopReason, message: string | undefined) => void;
}

/** Room kept under the size cap for the truncation marker (its line is well under 200 bytes). */
export const MARKER_RESERVE = 256;

export function encodeHeader(h: AsciicastHeader): string {
  return `${JSON.stringify({ version: 2, width: h.width, height: h.height, timestamp: h.timestamp, env: { TERM: h.term }, title: h.title, ...h.extra })}\n`;
}

/** Seconds with microsecond precision, as asciinema writes them. */
function seconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

export function encodeEvent(ms: number, code: EventCode, data: string): string {
  return `${JSON.stringify([seconds(ms), code, data])}\n`;
}

export class AsciicastWriter {
  readonly #sink: CastSink;
  readonly #maxBytes: number;
  readonly #maxPending: number;
  readonly #clock: () => number;
  readonly #onStop: ((reason: StopReason, message: string | undefined) => void) | undefined;
  readonly #start: number;
  readonly #out = new StringDecoder('utf8');
  readonly #in = new StringDecoder('utf8');
  #lastMs = 0;
  #bytes = 0;
  #events = 0;
  #stopped: StopReason | undefined;

  constructor(opts: WriterOptions) {
    this.#sink = opts.sink;
    this.#maxBytes = opts.maxBytes;
    this.#maxPending = opts.maxPending;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#onStop = opts.onStop;
    this.#start = this.#clock();
    this.#put(encodeHeader(opts.header));
  }

  /** Bytes handed to the sink so far, header included. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events written (markers included). */
  get events(): number {
    return this.#events;
  }

  /** Why the writer stopped; undefined while it records. */
  get stopped(): StopReason | undefined {
    return this.#stopped;
  }

  output(chunk: Buffer): void {
    if (this.#stopped === undefined) this.#event('o', this.#out.write(chunk));
  }

  input(chunk: Buffer): void {
    if (this.#stopped === undefined) this.#event('i', this.#in.write(chunk));
  }

  resize(cols: number, rows: number): void {
    if (this.#stopped === undefined) this.#event('r', `${cols}x${rows}`);
  }

  /** A marker ("m" event): something that happened in the session besides its terminal, such as a file transfer. */
  marker(text: string): void {
    if (this.#stopped === undefined) this.#event('m', text);
  }

  /** The end of the session: bytes still held by the decoders (an incomplete character becomes U+FFFD), then stop. */
  finish(): void {
    if (this.#stopped !== undefined) return;
    this.#event('o', this.#out.end());
    this.#event('i', this.#in.end());
    this.#stop('finished', undefined);
  }

  /** The sink failed: write nothing more. */
  fail(message: string): void {
    this.#stop('failed', message);
  }

  #elapsed(): number {
    this.#lastMs = Math.max(this.#lastMs, this.#clock() - this.#start);
    return this.#lastMs;
  }

  #event(code: EventCode, data: string): void {
    if (data === '' || this.#stopped !== undefined) return;
    const ms = this.#elapsed();
    const line = encodeEvent(ms, code, data);
    const size = Buffer.byteLength(line);
    if (this.#bytes + size + MARKER_RESERVE > this.#maxBytes) {
      this.#truncate(ms, 'size', `recording truncated: the size limit of ${this.#maxBytes} bytes was reached`);
    } else if (this.#sink.pending + size > this.#maxPending) {
      this.#truncate(ms, 'backlog', `recording truncated: more than ${this.#maxPending} bytes were waiting for the disk`);
    } else {
      this.#put(line, size);
      this.#events++;
    }
  }

  #truncate(ms: number, reason: 'size' | 'backlog', message: string): void {
    this.#put(encodeEvent(ms, 'm', message));
    this.#events++;
    this.#stop(reason, message);
  }

  #put(line: string, size = Buffer.byteLength(line)): void {
    this.#sink.write(line);
    this.#bytes += size;
  }

  #stop(reason: StopReason, message: string | undefined): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    this.#onStop?.(reason, message);
  }
}
