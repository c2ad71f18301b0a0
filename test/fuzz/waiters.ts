/** Predicate waits re-checked on every event of a connection, each bounded by a timer. */
export class Waiters {
  readonly #checks = new Set<() => void>();

  /** Re-run every pending check (call on each event that may change a predicate). */
  notify(): void {
    for (const check of [...this.#checks]) check();
  }

  /** Resolve true once `pred` holds, false after `ms` or when `isClosed()` turns true first. */
  waitFor(pred: () => boolean, ms: number, isClosed: () => boolean): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.#checks.delete(check);
        resolve(v);
      };
      const check = (): void => {
        if (pred()) done(true);
        else if (isClosed()) done(false);
      };
      const timer = setTimeout(() => done(pred()), ms);
      this.#checks.add(check);
    });
  }
}
