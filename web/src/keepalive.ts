/**
 * Latency pings while connected: `{"type":"ping","payload":{"t":performance.now()}}` every 5 s;
 * the pong gives the round trip to the gateway. A ping unanswered for 20 s means the network died
 * without a close frame (the browser may take minutes to notice), so the socket is given up.
 */
const PING_MS = 5000;
const PONG_DEADLINE_MS = 20000;

export class Keepalive {
  #timer: ReturnType<typeof setInterval> | undefined;
  #outstandingSince: number | null = null;

  /** `send` transmits a ping; `dead` is called once when the deadline passes. */
  start(send: (msg: Record<string, unknown>) => void, dead: () => void): void {
    this.stop();
    const tick = (): void => {
      const now = performance.now();
      if (this.#outstandingSince !== null && now - this.#outstandingSince > PONG_DEADLINE_MS) {
        this.stop();
        dead();
        return;
      }
      this.#outstandingSince ??= now;
      send({ type: 'ping', payload: { t: now } });
    };
    tick();
    this.#timer = setInterval(tick, PING_MS);
  }

  /** A pong arrived; returns the round trip in ms when it carried our timestamp. */
  pong(t: number | null): number | null {
    this.#outstandingSince = null;
    return t === null ? null : performance.now() - t;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#outstandingSince = null;
  }
}
