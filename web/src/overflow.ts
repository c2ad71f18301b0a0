/**
 * The toolbar's overflow: the buttons that do not fit fold into the More menu, so every action
 * stays reachable on a phone, also with the Recordings link and "N watching" shown.
 *
 * The toolbar gives the status line its CSS `min-width` first; the tools get the rest. On every
 * change that can move the line (the toolbar's size, a tool shown or hidden or relabelled, the
 * page's mode) all tools go back into the toolbar, are measured, and toolbar-fold.ts decides
 * which fold; those move into the menu, in their toolbar order. The same elements move (no
 * copies), so their own handlers, labels and states go with them; the focus stays on a tool that
 * moved. The menu (a group of buttons under More, not modal) closes on a choice, Escape (focus
 * back on More), a click or the focus going elsewhere.
 */
import { byId } from './dom.js';
import { foldTools } from './toolbar-fold.js';

export interface FoldTool {
  readonly el: HTMLElement;
  /** Higher stays in the toolbar longer. */
  readonly priority: number;
}

const px = (value: string): number => Number.parseFloat(value) || 0;

export class ToolbarOverflow {
  readonly #bar = byId('toolbar');
  readonly #brand = byId('brand');
  readonly #status = byId('status');
  readonly #tools = byId('tools');
  readonly #more = byId('more-btn', HTMLButtonElement);
  readonly #menu = byId('more-menu');
  readonly #items: readonly FoldTool[];
  readonly #abort = new AbortController();
  readonly #resize = new ResizeObserver(() => this.refresh());
  readonly #mutations = new MutationObserver(() => this.refresh());
  #moving = false;

  constructor(items: readonly FoldTool[]) {
    this.#items = items;
    const { signal } = this.#abort;
    this.#resize.observe(this.#bar);
    for (const { el } of items) {
      this.#mutations.observe(el, { attributes: true, attributeFilter: ['hidden'], characterData: true, childList: true, subtree: true });
    }
    this.#mutations.observe(byId('app'), { attributes: true, attributeFilter: ['data-mode', 'data-view', 'data-viewer'] });
    this.#more.addEventListener('click', () => this.#toggle(), { signal });
    // A choice closes the menu (after the tool's own click handler, which ran at the target).
    this.#menu.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('button, a') !== null) this.#close(false);
    }, { signal });
    this.#menu.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      ev.preventDefault();
      this.#close(true);
    }, { signal });
    this.#menu.addEventListener('focusout', (ev) => {
      const to = ev.relatedTarget;
      if (this.#moving || (to instanceof Node && (this.#menu.contains(to) || to === this.#more))) return;
      this.#close(false);
    }, { signal });
    document.addEventListener('pointerdown', (ev) => {
      const on = ev.target;
      if (this.#menu.hidden || (on instanceof Node && (this.#menu.contains(on) || this.#more.contains(on)))) return;
      this.#close(false);
    }, { capture: true, signal });
    this.refresh();
  }

  /** Whether some tools are in the menu now. */
  get folding(): boolean {
    return !this.#more.hidden;
  }

  /** Measure and fold again (the observers call this; so may anything that changes a tool's width unseen). */
  refresh(): void {
    const focused = document.activeElement;
    this.#moving = true;
    for (const { el } of this.#items) this.#tools.insertBefore(el, this.#more);
    this.#more.hidden = false;
    const folded = foldTools(this.#items.map(({ el, priority }) => ({ width: this.#width(el), priority })), this.#available(), this.#width(this.#more));
    this.#items.forEach(({ el }, i) => {
      if (folded[i] === true) this.#menu.append(el);
    });
    this.#more.hidden = !folded.includes(true);
    if (this.#more.hidden) this.#close(false);
    if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
    this.#moving = false;
  }

  dispose(): void {
    this.#abort.abort();
    this.#resize.disconnect();
    this.#mutations.disconnect();
  }

  /** The width the tools may take: the toolbar's, less its padding, the brand, the status line's minimum and the gaps. */
  #available(): number {
    const bar = getComputedStyle(this.#bar);
    const gap = px(bar.columnGap);
    return this.#bar.clientWidth - px(bar.paddingLeft) - px(bar.paddingRight) - this.#brand.offsetWidth
      - px(getComputedStyle(this.#status).minWidth) - 2 * gap;
  }

  /** A tool's width in the toolbar with its margins and the gap after it; 0 when it is not shown. */
  #width(el: HTMLElement): number {
    if (el.getClientRects().length === 0) return 0;
    const style = getComputedStyle(el);
    return el.getBoundingClientRect().width + px(style.marginLeft) + px(style.marginRight) + px(getComputedStyle(this.#tools).columnGap);
  }

  #toggle(): void {
    if (!this.#menu.hidden) {
      this.#close(false);
      return;
    }
    this.#menu.hidden = false;
    this.#more.setAttribute('aria-expanded', 'true');
    // The first tool shown (a tool can be in the menu yet hidden by CSS, e.g. search in form mode).
    const first = Array.from(this.#menu.querySelectorAll<HTMLElement>('button:not(:disabled), a[href]')).find((el) => el.getClientRects().length > 0);
    first?.focus();
  }

  #close(focusMore: boolean): void {
    if (this.#menu.hidden) return;
    this.#menu.hidden = true;
    this.#more.setAttribute('aria-expanded', 'false');
    if (focusMore) this.#more.focus();
  }
}
