/**
 * The extra-keys bar under the terminal on touch and narrow screens (CSS shows it: a coarse
 * pointer or a window up to 640 px wide, in session mode, not for a viewer): Esc, Tab, sticky
 * Ctrl and Alt, the arrows and `| ~ / -` (bytes in keybar-keys.ts).
 *
 * A key goes into the terminal as typed input (`term.input`): the same `onData` path as the
 * keyboard, so clipboard.ts sends it and a viewer's read-only terminal sends nothing. Ctrl and
 * Alt stay armed (`aria-pressed`) until the next key from the bar or from the on-screen keyboard
 * (`filter`, which the input path applies to everything typed).
 *
 * The bar never takes the focus from the terminal (a tap would close the on-screen keyboard).
 * While the on-screen keyboard is up, iOS shrinks only the visual viewport: the page's height
 * follows it (`--app-height`), so the bar stays above the keyboard (Chrome on Android resizes the
 * page itself: `interactive-widget=resizes-content` in index.html).
 */
import type { Terminal } from '@xterm/xterm';
import { byId } from './dom.js';
import { StickyModifiers, type BarKey, type Modifier, type Modifiers } from './keybar-keys.js';

const KEYS: ReadonlySet<string> = new Set<BarKey>(['esc', 'tab', 'up', 'down', 'right', 'left', '|', '~', '/', '-']);

export class KeyBar {
  readonly #root = byId('keybar');
  readonly #term: Terminal;
  readonly #mods: StickyModifiers;
  readonly #abort = new AbortController();

  constructor(term: Terminal) {
    this.#term = term;
    this.#mods = new StickyModifiers((mods) => this.#show(mods));
    const { signal } = this.#abort;
    // Keep the focus (and the on-screen keyboard) in the terminal; the click still comes.
    this.#root.addEventListener('mousedown', (ev) => ev.preventDefault(), { signal });
    this.#root.addEventListener('click', (ev) => this.#press(ev), { signal });
    const vv = window.visualViewport;
    if (vv !== null) {
      const follow = (): void => {
        // Pinch zoom also shrinks the visual viewport: follow it only at the normal scale.
        const zoomed = Math.abs(vv.scale - 1) > 0.01;
        document.documentElement.style.setProperty('--app-height', zoomed ? '' : `${Math.round(vv.height)}px`);
      };
      vv.addEventListener('resize', follow, { signal });
      follow();
    }
  }

  /** Everything typed into the terminal passes here: an armed Ctrl or Alt applies to it. */
  filter(data: string): string {
    return this.#mods.filter(data);
  }

  dispose(): void {
    this.#abort.abort();
    this.#mods.clear();
  }

  #press(ev: MouseEvent): void {
    const button = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (button === null) return;
    const mod = button.dataset['mod'];
    if (mod === 'ctrl' || mod === 'alt') {
      this.#mods.toggle(mod satisfies Modifier);
      return;
    }
    const key = button.dataset['key'];
    if (key === undefined || !KEYS.has(key)) return;
    this.#term.input(this.#mods.key(key as BarKey, this.#term.modes.applicationCursorKeysMode), true);
  }

  #show(mods: Modifiers): void {
    for (const button of this.#root.querySelectorAll<HTMLButtonElement>('button[data-mod]')) {
      const armed = button.dataset['mod'] === 'ctrl' ? mods.ctrl : mods.alt;
      button.setAttribute('aria-pressed', String(armed));
    }
  }
}
