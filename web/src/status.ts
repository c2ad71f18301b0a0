/**
 * The status line (role="status"): target, connection state and latency, e.g.
 * `alice@example.com:22 · connected · 12 ms`. The latency part is aria-hidden so screen readers
 * are not told about it every five seconds; the state part is what gets announced.
 */

export type ConnState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export class StatusLine {
  readonly #root: HTMLElement;
  readonly #target: HTMLElement;
  readonly #sep1: HTMLElement;
  readonly #state: HTMLElement;
  readonly #sep2: HTMLElement;
  readonly #latency: HTMLElement;

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#part('status-dot', true);
    this.#target = this.#part('status-target', false);
    this.#sep1 = this.#part('status-sep', true);
    this.#state = this.#part('status-state', false);
    this.#sep2 = this.#part('status-sep', true);
    this.#latency = this.#part('status-latency', true);
    this.#latency.title = 'Round trip to the gateway';
    this.set('idle', 'not connected');
  }

  #part(cls: string, ariaHidden: boolean): HTMLElement {
    const el = document.createElement('span');
    el.className = cls;
    if (ariaHidden) el.setAttribute('aria-hidden', 'true');
    this.#root.append(el);
    return el;
  }

  target(text: string): void {
    this.#target.textContent = text;
    this.#sep1.textContent = text === '' ? '' : ' · ';
  }

  /** `text` is the visible state word or sentence; `state` colors the dot. */
  set(state: ConnState, text: string): void {
    this.#root.dataset['state'] = state;
    if (this.#state.textContent !== text) this.#state.textContent = text;
    if (state !== 'connected') this.latency(null);
  }

  /** Round-trip time to the gateway in ms, or null to hide it. */
  latency(ms: number | null): void {
    const text = ms === null ? '' : `${Math.max(0, Math.round(ms))} ms`;
    this.#latency.textContent = text;
    this.#sep2.textContent = text === '' ? '' : ' · ';
  }

  text(): string {
    return this.#root.textContent ?? '';
  }
}
