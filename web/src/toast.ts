/**
 * A short message that comes and goes by itself (`#toast`, `aria-live="polite"`: screen readers
 * hear it without losing their place; not `role="status"`, which is the status line's; the region stays in the page, empty and invisible between
 * messages, so the first message is announced too). One at a time: a new one replaces the one
 * shown. The owner of a Toast disposes it, which empties it and clears its timer.
 */

/** How long a toast stays. */
export const TOAST_MS = 6000;

export class Toast {
  readonly #el: HTMLElement;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(el: HTMLElement) {
    this.#el = el;
  }

  show(text: string, ms = TOAST_MS): void {
    this.#clearTimer();
    this.#el.textContent = text;
    this.#timer = setTimeout(() => this.dispose(), ms);
  }

  dispose(): void {
    this.#clearTimer();
    this.#el.textContent = '';
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
