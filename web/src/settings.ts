/**
 * The Settings panel (the toolbar's Settings button; not modal, like the share panel): font
 * family, cursor style and scrollback size. A change applies to the terminal at once and is
 * remembered in localStorage with the other preferences (prefs.ts). Escape or Close closes it.
 */
import { byId } from './dom.js';
import {
  CURSOR_STYLES, cursorStyleOf, FONT_CHOICES, saveTerminalPrefs, SCROLLBACK_CHOICES, scrollbackOf, type Prefs,
} from './prefs.js';
import type { TermLook } from './terminal.js';

export class SettingsPanel {
  readonly #button = byId('settings-btn', HTMLButtonElement);
  readonly #panel = byId('settings-panel');
  readonly #font = byId('settings-font', HTMLSelectElement);
  readonly #cursor = byId('settings-cursor', HTMLSelectElement);
  readonly #scrollback = byId('settings-scrollback', HTMLSelectElement);
  readonly #apply: (look: TermLook) => void;
  readonly #closed: () => void;
  readonly #abort = new AbortController();

  /** `apply` changes the terminal; `closed` runs when the panel closed with the focus in it and its button is not shown. */
  constructor(prefs: Pick<Prefs, 'fontFamily' | 'cursorStyle' | 'scrollback'>, apply: (look: TermLook) => void, closed: () => void) {
    this.#apply = apply;
    this.#closed = closed;
    this.#font.replaceChildren(...FONT_CHOICES.map((f) => new Option(f.label, f.id)));
    this.#cursor.replaceChildren(...CURSOR_STYLES.map((c) => new Option(`${c.charAt(0).toUpperCase()}${c.slice(1)}`, c)));
    this.#scrollback.replaceChildren(...SCROLLBACK_CHOICES.map((n) => new Option(n.toLocaleString('en-US'), String(n))));
    this.#font.value = prefs.fontFamily;
    this.#cursor.value = prefs.cursorStyle;
    this.#scrollback.value = String(prefs.scrollback);
    const { signal } = this.#abort;
    for (const select of [this.#font, this.#cursor, this.#scrollback]) select.addEventListener('change', () => this.#changed(), { signal });
    this.#button.addEventListener('click', () => (this.#panel.hidden ? this.open() : this.close()), { signal });
    byId('settings-close').addEventListener('click', () => this.close(), { signal });
    this.#panel.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      ev.preventDefault();
      this.close();
    }, { signal });
  }

  open(): void {
    this.#panel.hidden = false;
    this.#button.setAttribute('aria-expanded', 'true');
    this.#font.focus();
  }

  close(): void {
    if (this.#panel.hidden) return;
    const hadFocus = this.#panel.contains(document.activeElement);
    this.#panel.hidden = true;
    this.#button.setAttribute('aria-expanded', 'false');
    if (!hadFocus) return;
    // The button may sit in the closed overflow menu: then the caller puts the focus back.
    if (this.#button.getClientRects().length > 0 && this.#button.closest('[hidden]') === null) this.#button.focus();
    else this.#closed();
  }

  dispose(): void {
    this.#abort.abort();
  }

  #changed(): void {
    const look = {
      fontFamily: this.#font.value,
      cursorStyle: cursorStyleOf(this.#cursor.value),
      scrollback: scrollbackOf(this.#scrollback.value),
    };
    saveTerminalPrefs(look);
    this.#apply(look);
  }
}
