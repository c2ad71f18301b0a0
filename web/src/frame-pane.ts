/**
 * This page as one pane of a workspace: either a frame pane (`?pane=N` inside the page that holds
 * the tabs; messages to and from the parent, pane-link.ts) or the page's own pane (workspace.ts
 * implements the same host by calls). A pane reports what its tab shows and passes on commands
 * typed in it; the workspace tells it to take the keyboard or to end its session.
 */
import { FROM_PANE, parseToPane, tabShortcut, type FromPane, type PaneCommand, type PaneReport } from './pane-link.js';

/** The width up to which a window counts as narrow (web/styles.css uses the same). */
const NARROW_WINDOW_PX = 640;

/**
 * The tabs' shortcuts (pane-link.ts `tabShortcut`) typed anywhere in this document, taken before
 * the terminal or a field sees them, until `signal` aborts.
 */
export function onTabShortcut(signal: AbortSignal, run: (c: PaneCommand) => void): void {
  window.addEventListener('keydown', (ev) => {
    const c = tabShortcut(ev);
    if (c === null) return;
    ev.preventDefault();
    ev.stopPropagation();
    run(c);
  }, { capture: true, signal });
}

/** What a pane does for the workspace. */
export interface PaneHandlers {
  /** Give the keyboard to the terminal (or the form). */
  focus(): void;
  /** End the session (the user confirmed); resolves once the gateway has the close. */
  end(): Promise<void>;
}

/** The workspace, seen from a pane. */
export interface PaneHost {
  report(r: PaneReport): void;
  command(c: PaneCommand): void;
}

/** A frame pane's host: its parent page (same origin). */
export class FramePane implements PaneHost {
  readonly #abort = new AbortController();

  constructor(handlers: PaneHandlers) {
    window.addEventListener('message', (ev: MessageEvent<unknown>) => {
      if (ev.source !== window.parent || ev.origin !== window.location.origin) return;
      const m = parseToPane(ev.data);
      if (m === 'focus') handlers.focus();
      else if (m === 'end') void handlers.end().then(() => this.#post({ ended: true }));
    }, { signal: this.#abort.signal });
    // The extra-keys bar is for narrow windows (CSS), not for a half of a wide one (the split view).
    const markWidth = (): void => {
      document.documentElement.dataset['wideParent'] = String(window.parent.innerWidth > NARROW_WINDOW_PX);
    };
    markWidth();
    window.addEventListener('resize', markWidth, { signal: this.#abort.signal });
    // The tabs' shortcuts typed in this pane go to the workspace.
    onTabShortcut(this.#abort.signal, (c) => this.command(c));
    // The keyboard came into this frame (the workspace focused it, or a click): it becomes the
    // active pane, and focus that landed on nothing goes to the terminal (or the form) at once,
    // before the next key, not when the workspace's message arrives.
    window.addEventListener('focus', () => {
      if (document.activeElement === null || document.activeElement === document.body) handlers.focus();
      this.command({ kind: 'focused' });
    }, { signal: this.#abort.signal });
  }

  /** Opened as `?pane=N` inside a page of the same origin (a page opened alone is its own workspace). */
  static inFrame(): boolean {
    try {
      return window.parent !== window && window.parent.location.origin === window.location.origin;
    } catch {
      return false; // another origin framed us (the CSP forbids it; belt and braces)
    }
  }

  report(r: PaneReport): void {
    this.#post({ report: r });
  }

  command(c: PaneCommand): void {
    this.#post({ command: c });
  }

  #post(m: FromPane): void {
    window.parent.postMessage({ [FROM_PANE]: m }, window.location.origin);
  }

  dispose(): void {
    this.#abort.abort();
  }
}

/** Keeps a pane's report and sends it whenever a part of it changes. */
export class PaneReporter {
  #now: PaneReport = { label: 'New session', state: 'idle', live: false, title: '', ask: false, warn: false };
  readonly #host: PaneHost;

  constructor(host: PaneHost) {
    this.#host = host;
  }

  set(part: Partial<PaneReport>): void {
    const next = { ...this.#now, ...part };
    const changed = (Object.keys(next) as (keyof PaneReport)[]).some((k) => next[k] !== this.#now[k]);
    this.#now = next;
    if (changed) this.#host.report(next);
  }
}
