/** Reconnect backoff: 1 s, 2 s, 4 s ... at most 30 s, with a once-a-second countdown. */

export const MAX_RETRIES = 5;
const MAX_DELAY_S = 30;

/** Delay in whole seconds before retry number `attempt` (1-based). */
export function retryDelay(attempt: number): number {
  return Math.min(MAX_DELAY_S, 2 ** Math.max(0, attempt - 1));
}

export class Backoff {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;

  /** Call `tick(secondsLeft)` now and every second, then `fire()` after `seconds`. */
  schedule(seconds: number, tick: (left: number) => void, fire: () => void): void {
    this.cancel();
    let left = seconds;
    tick(left);
    this.#ticker = setInterval(() => {
      left = Math.max(0, left - 1);
      tick(left);
    }, 1000);
    this.#timer = setTimeout(() => {
      this.cancel();
      fire();
    }, seconds * 1000);
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#timer = undefined;
    this.#ticker = undefined;
  }
}
