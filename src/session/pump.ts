/**
 * Both directions of the byte pump, with explicit backpressure.
 *
 * SSH -> client: output goes through an OutputBatcher (./batch.ts): a chunk is sent at once when
 * the socket is idle, and chunks that arrive while a frame is still being written are coalesced
 * into one frame of at most 64 KiB. A byte counts as in flight from its arrival (so a pending
 * batch counts too) until the write callback of the frame that carried it fires; each byte is
 * counted once. Past HIGH_WATER in flight the SSH channel (stdout and stderr) is paused; the channel then
 * stops granting window to the server, so the remote program blocks instead of the bridge
 * buffering. Below LOW_WATER it resumes. Memory per session is therefore bounded by HIGH_WATER
 * plus one SSH window (`--ssh-window`, 256 KiB by default, src/ssh/channel-window.ts): 1.25 MiB
 * (plus the one chunk, at most an SSH packet, that crossed HIGH_WATER).
 * While paused, no write progress for `stallMs` closes the session (a client that stopped
 * reading is closed, never left frozen).
 *
 * Render-acknowledged flow control (v1 `flowControl`): the page acknowledges output only after
 * xterm.js has parsed it, so the same watermarks also apply to bytes sent but not yet
 * acknowledged. This chains the three layers: browser parse -> WebSocket buffer -> SSH window.
 * A page that cannot keep up slows the remote program instead of growing its own backlog.
 * The client acknowledges bytes, not frames, so coalescing does not change what it acks.
 *
 * The channel's 'close' flushes the batch first (Pump listens before the session does), so the
 * last output still precedes the session's `exit` message; dispose() flushes it too, before the
 * session's `error` message and close frame. The stall timer is the only timer, owned here.
 *
 * Client -> SSH: when `channel.write` returns false the WebSocket is paused (ws stops reading its
 * socket, so TCP pushes back on the browser) until the channel's 'drain'.
 *
 * Resume (docs/protocol.md#resume): a resumable session gives the pump an OutputLog. Every output
 * chunk goes into it (by reference) before it goes to the socket; flow-control acks release it.
 * `detach()` lets go of a dropped socket: what was batched for it is dropped (the log still has
 * it), the channel is un-paused so the shell runs on, and output only goes to the log (which keeps
 * its newest `resume-buffer` bytes). `attach(ws, from)` takes a new socket: the log's bytes from
 * `from` are sent first, counted in flight like any output (so backpressure covers the replay),
 * then live output follows. Write callbacks of an old socket are ignored.
 */
import type { ClientChannel } from 'ssh2';
import type { WebSocket } from 'ws';
import { OutputBatcher } from './batch.js';
import { TRACE_INPUT, TRACE_OUTPUT, TRACE_SENT } from './trace.js';
import type { OutputLog } from '../transport/output-log.js';

/** Pause SSH output above this many output bytes not yet flushed by the socket (batched or written). */
export const HIGH_WATER = 1024 * 1024;
/** Resume SSH output once in-flight bytes fall below this. */
export const LOW_WATER = 256 * 1024;

/**
 * ssh2 gives a channel's readable side a highWaterMark of its whole window (2 MiB) and keeps
 * re-granting SSH window until that buffer is full. Once the pump has paused the channel, a
 * mark of 0 makes ssh2 stop granting window at the first chunk it has to keep, so a paused
 * session holds at most the window already granted instead of that plus 2 MiB more (a 64 KiB
 * mark let 64 KiB more through). While the channel flows, a chunk goes straight to 'data' and
 * push() still says go on (Node: `length < highWaterMark || length === 0`). (Node reads
 * `highWaterMark` from the stream state on every push; there is no public setter.)
 */
export const CHANNEL_READ_MARK = 0;

function limitReadBuffer(stream: unknown): void {
  const state = (stream as { _readableState?: { highWaterMark?: unknown } } | null)?._readableState;
  if (state !== undefined && typeof state.highWaterMark === 'number' && state.highWaterMark > CHANNEL_READ_MARK) {
    state.highWaterMark = CHANNEL_READ_MARK;
  }
}

export interface PumpEvents {
  onOutput(bytes: number): void;
  onInput(bytes: number): void;
  onPause(direction: 'ssh_output' | 'client_input'): void;
  onStall(): void;
}

export class Pump {
  readonly #channel: ClientChannel;
  readonly #events: PumpEvents;
  readonly #stallMs: number;
  readonly #log: OutputLog | null;
  #ws: WebSocket | null = null;
  #batch: OutputBatcher | null = null;
  #inFlight = 0;
  /** Sent but not acknowledged as rendered; only counted when the client does flow control. */
  #unacked = 0;
  /** Output position up to which the current socket's client acknowledged (resume log release). */
  #ackedPos = 0;
  /** Output position just after the last byte handed to the current socket. */
  #sentPos = 0;
  readonly #flowControl: boolean;
  #outputPaused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  /** Frames sent on earlier sockets (the counter survives a resume). */
  #framesBefore = 0;
  /**
   * See every output chunk, attached or not, in the order the client gets them: the resume log,
   * a shared session's hub, the recording. A tap must not keep the pump waiting.
   */
  #taps: ((chunk: Buffer) => void)[] = [];

  readonly #onData = (chunk: Buffer): void => {
    if (TRACE_OUTPUT.hasSubscribers) TRACE_OUTPUT.publish(chunk.length);
    for (const tap of this.#taps) tap(chunk);
    if (this.#batch !== null) this.#send(chunk);
    if (TRACE_SENT.hasSubscribers) TRACE_SENT.publish(chunk.length);
  };
  /** The shell's output has ended: what is batched goes out before the session reports the exit. */
  readonly #onChannelClose = (): void => this.#batch?.flush();
  readonly #onStallTimeout = (): void => {
    this.#stallTimer = undefined;
    if (!this.#disposed) this.#events.onStall();
  };
  #inputPaused = false;
  readonly #onDrain = (): void => {
    if (this.#disposed || !this.#inputPaused) return;
    this.#inputPaused = false;
    this.#ws?.resume();
  };

  /** A pump with no socket yet: `attach()` gives it one. `log` is the resume log (null: not resumable). */
  constructor(channel: ClientChannel, stallMs: number, events: PumpEvents, flowControl = false, log: OutputLog | null = null) {
    this.#flowControl = flowControl;
    this.#channel = channel;
    this.#stallMs = stallMs;
    this.#events = events;
    this.#log = log;
    if (log !== null) this.tap((chunk) => log.append(chunk));
    limitReadBuffer(channel);
    limitReadBuffer(channel.stderr);
    channel.on('data', this.#onData);
    channel.stderr.on('data', this.#onData);
    channel.on('drain', this.#onDrain);
    channel.on('close', this.#onChannelClose);
  }

  /**
   * Send output to `ws` from now on, starting with the log's bytes from position `from` (a fresh
   * session passes its log's end, or 0 without a log: nothing to replay).
   */
  attach(ws: WebSocket, from = this.#log?.end ?? 0): void {
    if (this.#disposed) return;
    this.detach();
    this.#ws = ws;
    let batch: OutputBatcher | null = null;
    batch = new OutputBatcher(ws, (bytes) => {
      // Callbacks of a socket we have let go of no longer count.
      if (this.#batch !== batch) return;
      this.#inFlight -= bytes;
      this.#progress();
    });
    this.#batch = batch;
    this.#ackedPos = from;
    this.#sentPos = from;
    if (this.#log !== null) for (const chunk of this.#log.since(from)) this.#send(chunk);
  }

  /** Let go of the socket (it dropped): output goes only to the log until the next attach(). */
  detach(): void {
    const batch = this.#batch;
    if (batch === null) return;
    this.#framesBefore += batch.frames;
    batch.abandon();
    this.#batch = null;
    if (this.#inputPaused) this.#inputPaused = false;
    this.#ws = null;
    this.#inFlight = 0;
    this.#unacked = 0;
    this.#clearStall();
    if (this.#outputPaused) {
      // The shell runs on while nobody watches; the log keeps the newest output.
      this.#outputPaused = false;
      this.#channel.resume();
      this.#channel.stderr.resume();
    }
  }

  /** Give every output chunk (the channel's and `output()`'s) to `tap` too; the result stops it. */
  tap(tap: (chunk: Buffer) => void): () => void {
    if (this.#disposed) return () => undefined;
    this.#taps = [...this.#taps, tap];
    return () => {
      this.#taps = this.#taps.filter((t) => t !== tap);
    };
  }

  /** Output bytes received but not yet flushed by the socket (including the pending batch). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Output bytes this session holds for its client: in flight to the socket (batched or being
   * written) plus what the SSH channel has received and not yet delivered (its readable buffers,
   * where output waits while the pump has paused the channel). The bound on it is HIGH_WATER
   * plus one SSH window (plus the last chunk that crossed HIGH_WATER).
   */
  get held(): number {
    return this.#inFlight + this.#channel.readableLength + this.#channel.stderr.readableLength;
  }

  /** Output bytes waiting in the batch, not yet handed to ws.send. */
  get batched(): number {
    return this.#batch?.pendingBytes ?? 0;
  }

  /** WebSocket frames sent so far (fewer than chunks under load). */
  get framesSent(): number {
    return this.#framesBefore + (this.#batch?.frames ?? 0);
  }

  /** True while the WebSocket is paused waiting for the channel's 'drain'. */
  get inputPaused(): boolean {
    return this.#inputPaused;
  }

  /** Terminal bytes from the client to the shell. */
  input(data: Buffer): void {
    if (this.#disposed || data.length === 0) return;
    if (TRACE_INPUT.hasSubscribers) TRACE_INPUT.publish(data.length);
    this.#events.onInput(data.length);
    if (!this.#channel.write(data) && !this.#inputPaused && this.#ws !== null) {
      this.#inputPaused = true;
      this.#ws.pause();
      this.#events.onPause('client_input');
    }
  }

  /** Output bytes not yet acknowledged as rendered (0 without flow control). */
  get unacked(): number {
    return this.#unacked;
  }

  /** The client rendered `bytes` more output. Over-acknowledging cannot go below zero. */
  ack(bytes: number): void {
    if (this.#disposed || !this.#flowControl) return;
    this.#unacked = Math.max(0, this.#unacked - bytes);
    if (this.#log !== null) {
      this.#ackedPos = Math.min(this.#sentPos, this.#ackedPos + bytes);
      this.#log.release(this.#ackedPos);
    }
    this.#progress();
  }

  /** Extra output that does not come from the channel (the seed mode's banner text). */
  output(data: Buffer): void {
    if (!this.#disposed) this.#onData(data);
  }

  #send(chunk: Buffer): void {
    const size = chunk.length;
    const batch = this.#batch;
    if (size === 0 || batch === null) return;
    this.#inFlight += size;
    this.#sentPos += size;
    if (this.#flowControl) this.#unacked += size;
    this.#events.onOutput(size);
    batch.push(chunk);
    if (!this.#outputPaused && (this.#inFlight > HIGH_WATER || this.#unacked > HIGH_WATER)) {
      this.#outputPaused = true;
      this.#channel.pause();
      this.#channel.stderr.pause();
      this.#events.onPause('ssh_output');
      this.#armStall();
    }
  }

  #progress(): void {
    if (this.#disposed || !this.#outputPaused) return;
    this.#armStall(); // progress: restart the stall clock
    if (this.#inFlight < LOW_WATER && this.#unacked < LOW_WATER) {
      this.#outputPaused = false;
      this.#clearStall();
      this.#channel.resume();
      this.#channel.stderr.resume();
    }
  }

  /** (Re)start the stall clock; one timer per pause, refreshed on progress, not reallocated. */
  #armStall(): void {
    if (this.#stallTimer === undefined) this.#stallTimer = setTimeout(this.#onStallTimeout, this.#stallMs);
    else this.#stallTimer.refresh();
  }

  #clearStall(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clearStall();
    this.#taps = [];
    this.#channel.removeListener('data', this.#onData);
    this.#channel.stderr.removeListener('data', this.#onData);
    this.#channel.removeListener('drain', this.#onDrain);
    this.#channel.removeListener('close', this.#onChannelClose);
    // Output already received goes out ahead of the session's error message and close frame.
    this.#batch?.dispose();
  }
}
