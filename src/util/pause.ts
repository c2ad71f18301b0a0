/**
 * A wait that can be cut short: the ready delay of a stop (--server-shutdown-ready-delay), which a
 * second signal or the drain itself ends early. It owns its one timer: the timer is cleared when
 * the wait ends, whichever way.
 */
export class Pause {
  #timer: NodeJS.Timeout | undefined;
  #end: (() => void) | undefined;

  /** Wait `ms`, or until cut(); resolves either way. One wait at a time. */
  wait(ms: number): Promise<void> {
    if (this.#end !== undefined) throw new Error('a pause is already under way');
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#end = undefined;
        resolve();
      };
      this.#end = end;
      this.#timer = setTimeout(end, ms);
    });
  }

  /** A wait is under way. */
  get waiting(): boolean {
    return this.#end !== undefined;
  }

  /** End the wait under way now; true when there was one. */
  cut(): boolean {
    const end = this.#end;
    if (end === undefined) return false;
    end();
    return true;
  }
}
