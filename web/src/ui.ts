/**
 * Page modes and the notice. `form`: the connect card in front. `session`: the terminal fills
 * the window under the toolbar. The one notice (error sentence with role="alert", an info line,
 * Reconnect / Rejoin / Cancel / New session / Open the gateway) sits in the card in form mode and floats over the bottom of
 * the terminal in session mode. Connect and Reconnect are never visible at the same time.
 *
 * In the card the notice comes after the form, in a space kept for it (CSS), so the fields never
 * move when a waiting line or an error appears. An error of several lines is laid out by
 * alert-lines.ts: a title, its lines, each fingerprint on a line of its own in monospace.
 */
import { alertLines } from './alert-lines.js';
import { byId } from './dom.js';

export type Mode = 'form' | 'session';
/** `gateway`: a link to the gateway's own page (a viewer whose link is over). */
export type NoticeAction = 'reconnect' | 'rejoin' | 'cancel' | 'new' | 'gateway';

export interface NoticeSpec {
  readonly error?: string;
  readonly info?: string;
  readonly actions?: readonly NoticeAction[];
}

export class Ui {
  readonly #app = byId('app');
  readonly #screen = byId('connect-screen');
  readonly #card = byId('card');
  readonly #version = byId('version');
  readonly #dock = byId('notice-dock');
  readonly #notice = byId('notice');
  readonly #error = byId('error');
  readonly #info = byId('info');
  readonly #buttons: Record<NoticeAction, HTMLElement> = {
    reconnect: byId('reconnect-btn', HTMLButtonElement),
    rejoin: byId('rejoin-btn', HTMLButtonElement),
    cancel: byId('cancel-btn', HTMLButtonElement),
    new: byId('new-session-btn', HTMLButtonElement),
    gateway: byId('open-gateway', HTMLAnchorElement),
  };
  #mode: Mode = 'form';

  get mode(): Mode {
    return this.#mode;
  }

  /** The card stays invisible until config.json told us which fields to show. */
  reveal(): void {
    this.#card.classList.remove('pending');
  }

  setMode(mode: Mode): void {
    this.#mode = mode;
    this.#app.dataset['mode'] = mode;
    this.#screen.hidden = mode !== 'form';
    if (mode === 'form') this.#card.insertBefore(this.#notice, this.#version);
    else this.#dock.append(this.#notice);
    this.#sync();
  }

  notice(spec: NoticeSpec): void {
    this.#showError(spec.error ?? '');
    this.#info.textContent = spec.info ?? '';
    const actions = new Set(spec.actions ?? []);
    for (const [name, button] of Object.entries(this.#buttons) as Array<[NoticeAction, HTMLElement]>) {
      button.hidden = !actions.has(name);
    }
    this.#sync();
    // In the card the notice comes after the form: on a short screen, scroll an error into view.
    if (this.#mode === 'form' && (spec.error ?? '') !== '') this.#notice.scrollIntoView({ block: 'nearest' });
  }

  /** Update only the info line (countdowns) without re-announcing the error. */
  info(text: string): void {
    this.#info.textContent = text;
    this.#sync();
  }

  clear(): void {
    this.notice({});
  }

  lastError(): string | null {
    const t = this.#error.textContent ?? '';
    return t === '' ? null : t;
  }

  focusAction(action: NoticeAction): void {
    const b = this.#buttons[action];
    if (!b.hidden) b.focus();
  }

  onAction(action: NoticeAction, handler: () => void): void {
    this.#buttons[action].addEventListener('click', handler);
  }

  #showError(message: string): void {
    if (!message.includes('\n')) {
      this.#error.textContent = message;
      return;
    }
    // Line breaks stay in the text too (lastError, a screen reader's reading of the alert).
    this.#error.replaceChildren(...alertLines(message).flatMap((line, i) => {
      let el: HTMLElement;
      if (line.kind === 'fingerprint') {
        el = document.createElement('span');
        const label = document.createElement('span');
        label.className = 'alert-fp-label';
        label.textContent = `${line.label}:`;
        const value = document.createElement('code');
        value.className = 'alert-fp';
        value.textContent = line.value;
        el.append(label, ' ', value);
      } else {
        el = document.createElement(line.kind === 'title' ? 'strong' : 'span');
        el.textContent = line.text;
      }
      el.classList.add('alert-line', `alert-${line.kind}`);
      return i === 0 ? [el] : ['\n', el];
    }));
  }

  #sync(): void {
    // In form mode the card's own Connect button is the way to retry.
    if (this.#mode === 'form') this.#buttons.reconnect.hidden = true;
    const empty = this.#error.textContent === '' && this.#info.textContent === '';
    this.#notice.classList.toggle('empty', empty);
    this.#dock.hidden = this.#mode !== 'session' || empty;
  }
}
