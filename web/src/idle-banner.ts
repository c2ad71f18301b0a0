/**
 * The idle warning (docs/protocol.md: `idle-warning`, `idle-cleared`): a banner over the terminal
 * that counts down to the close, with an "I'm here" button that tells the gateway (`presence`).
 * Any key typed into the terminal is activity too, and the gateway takes the warning back with
 * `idle-cleared`: the banner goes then, or when the session ends. Owns its countdown timer.
 */
import { byId } from './dom.js';

export class IdleBanner {
  readonly #box = byId('idle-banner');
  readonly #text = byId('idle-text');
  #timer: ReturnType<typeof setInterval> | undefined;
  #closesAt = 0;

  /** `here` sends the user's presence (and puts the focus back in the terminal). */
  constructor(here: () => void) {
    byId('idle-here', HTMLButtonElement).addEventListener('click', here);
  }

  get shown(): boolean {
    return !this.#box.hidden;
  }

  /** The gateway closes the session in `closesInMs` (null: the warning is off). */
  update(closesInMs: number | null): void {
    if (closesInMs === null) {
      this.hide();
      return;
    }
    this.#closesAt = performance.now() + closesInMs;
    this.#render();
    this.#box.hidden = false;
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#render(), 1000);
  }

  hide(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#box.hidden = true;
  }

  #render(): void {
    const seconds = Math.max(0, Math.ceil((this.#closesAt - performance.now()) / 1000));
    this.#text.textContent = `No activity: this session closes in ${seconds} s. Press any key to keep it.`;
  }
}
