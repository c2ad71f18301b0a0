/** Counts by key that forget a key at zero, so maps of live connections stay bounded by what is live. */
export class Tally {
  readonly #counts = new Map<string, number>();

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.#counts.set(key, this.get(key) + 1);
  }

  remove(key: string): void {
    const next = this.get(key) - 1;
    if (next <= 0) this.#counts.delete(key);
    else this.#counts.set(key, next);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
