/**
 * Both directions of the byte pump, with explicit backpressure.
 *
 * SSH -> client: every frame handed to `ws.send` counts as in flight until its write callback
 * fires. Past HIGH_WATER in flight the SSH channel (stdout and stderr) is paused; the channel then
 * stops granting window to the server, so the remote program blocks instead of the bridge
 * buffering. Below LOW_WATER it resumes. Memory per session is therefore bounded by HIGH_WATER
 * plus one SSH window (ssh2's channel buffer), about 3 MiB in the worst case.
 * While paused, no write progress for `stallMs` closes the session (a client that stopped
 * reading is closed, never left frozen).
 *
 * Render-acknowledged flow control (v1 `flowControl`): the page acknowledges output only after
 * xterm.js has parsed it, so the same watermarks also apply to bytes sent but not yet
 * acknowledged. This chains the three layers: browser parse -> WebSocket buffer -> SSH window.
 * A page that cannot keep up slows the remote program instead of growing its own backlog.
 *
 * Client -> SSH: when `channel.write` returns false the WebSocket is paused (ws stops reading its
 * socket, so TCP pushes back on the browser) until the channel's 'drain'.
 */
import type { ClientChannel } from 'ssh2';
import type { WebSocket } from 'ws';

/** Pause SSH output above this many bytes written to the WebSocket but not yet flushed. */
export const HIGH_WATER = 1024 * 1024;
/** Resume SSH output once in-flight bytes fall below this. */
export const LOW_WATER = 256 * 1024;

export interface PumpEvents {
  onOutput(bytes: number): void;
  onInput(bytes: number): void;
  onPause(direction: 'ssh_output' | 'client_input'): void;
  onStall(): void;
}

export class Pump {
  readonly #ws: WebSocket;
  readonly #channel: ClientChannel;
  readonly #events: PumpEvents;
  readonly #stallMs: number;
  #inFlight = 0;
  /** Sent but not acknowledged as rendered; only counted when the client does flow control. */
  #unacked = 0;
  readonly #flowControl: boolean;
  #outputPaused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #disposed = false;

  readonly #onData = (chunk: Buffer): void => this.#send(chunk);
  #inputPaused = false;
  readonly #onDrain = (): void => {
    if (this.#disposed || !this.#inputPaused) return;
    this.#inputPaused = false;
    this.#ws.resume();
  };

  constructor(ws: WebSocket, channel: ClientChannel, stallMs: number, events: PumpEvents, flowControl = false) {
    this.#ws = ws;
    this.#flowControl = flowControl;
    this.#channel = channel;
    this.#stallMs = stallMs;
    this.#events = events;
    channel.on('data', this.#onData);
    channel.stderr.on('data', this.#onData);
    channel.on('drain', this.#onDrain);
  }

  /** Bytes written to the WebSocket that the socket has not flushed yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** True while the WebSocket is paused waiting for the channel's 'drain'. */
  get inputPaused(): boolean {
    return this.#inputPaused;
  }

  /** Terminal bytes from the client to the shell. */
  input(data: Buffer): void {
    if (this.#disposed || data.length === 0) return;
    this.#events.onInput(data.length);
    if (!this.#channel.write(data) && !this.#inputPaused) {
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
    this.#progress();
  }

  /** Extra output that does not come from the channel (the seed mode's banner text). */
  output(data: Buffer): void {
    if (!this.#disposed) this.#send(data);
  }

  #send(chunk: Buffer): void {
    const size = chunk.length;
    this.#inFlight += size;
    if (this.#flowControl) this.#unacked += size;
    this.#events.onOutput(size);
    this.#ws.send(chunk, { binary: true }, () => this.#flushed(size));
    if (!this.#outputPaused && (this.#inFlight > HIGH_WATER || this.#unacked > HIGH_WATER)) {
      this.#outputPaused = true;
      this.#channel.pause();
      this.#channel.stderr.pause();
      this.#events.onPause('ssh_output');
      this.#armStall();
    }
  }

  #flushed(size: number): void {
    this.#inFlight -= size;
    this.#progress();
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

  #armStall(): void {
    this.#clearStall();
    this.#stallTimer = setTimeout(() => {
      if (!this.#disposed) this.#events.onStall();
    }, this.#stallMs);
  }

  #clearStall(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clearStall();
    this.#channel.removeListener('data', this.#onData);
    this.#channel.stderr.removeListener('data', this.#onData);
    this.#channel.removeListener('drain', this.#onDrain);
  }
}
