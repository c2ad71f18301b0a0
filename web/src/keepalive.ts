/**
 * Latency pings while connected, and a dead network noticed within seconds:
 * `{"type":"ping","payload":{"t":performance.now()}}` every second; the pong gives the round trip
 * to the gateway. A network that drops packets without a close (a proxy or Wi-Fi gone silent;
 * the browser may take minutes to notice) shows as a ping unanswered for SILENT_MS while nothing
 * else arrived either: the socket is given up then, about 5 s after the silence began. Anything
 * heard from the gateway (`heard()`: output, any message) proves the path alive, so a pong stuck
 * behind a flood of output is not mistaken for a dead network.
 *
 * A tick that comes late (the tab was frozen or throttled, the page busy) decides nothing: the
 * messages that arrived meanwhile are handled first, and the next tick judges.
 */
const PING_MS = 1000;
const SILENT_MS = 4000;

export class Keepalive {
  #timer: ReturnType<typeof setInterval> | undefined;
  #outstandingSince: number | null = null;
  #lastHeard = 0;
  #lastTick = 0;

  /** `send` transmits a ping; `dead` is called once when the network is judged gone. */
  start(send: (msg: Record<string, unknown>) => void, dead: () => void): void {
    this.stop();
    this.#lastHeard = performance.now();
    const tick = (): void => {
      const now = performance.now();
      const late = now - this.#lastTick > 2 * PING_MS;
      this.#lastTick = now;
      if (!late && this.#outstandingSince !== null && now - this.#outstandingSince > SILENT_MS && now - this.#lastHeard > SILENT_MS) {
        this.stop();
        dead();
        return;
      }
      this.#outstandingSince ??= now;
      send({ type: 'ping', payload: { t: now } });
    };
    this.#lastTick = performance.now();
    tick();
    this.#timer = setInterval(tick, PING_MS);
  }

  /** Something arrived from the gateway: the path is alive. */
  heard(): void {
    this.#lastHeard = performance.now();
  }

  /** A pong arrived; returns the round trip in ms when it carried our timestamp. */
  pong(t: number | null): number | null {
    this.#outstandingSince = null;
    this.heard();
    return t === null ? null : performance.now() - t;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#outstandingSince = null;
  }
}
