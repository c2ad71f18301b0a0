/**
 * Several sessions in one page: the tabs strip, the panes and the split view (tabs-model.ts
 * decides, this renders). The page's own session is pane 0 (`#app`); every further session is
 * this same page in a same-origin frame (`?pane=N`), so each session keeps its own state table,
 * socket, terminal, dialogs and resume record, and one session's trouble stays in its pane.
 *
 * - The strip shows once there are two panes: a tab per pane (its `user@host`, its state, a mark
 *   when it asks a question or is about to be closed for idleness) with a close button, then New
 *   session and Split. Alt+Shift+N / W / S / arrows / 1-9 work in every pane (pane-link.ts).
 * - Closing a live session asks first, then ends it (the gateway gets the close) before the pane
 *   goes. Pane 0 cannot leave the page: closed, it is parked, and the next New session reuses it.
 * - A hidden pane that asks a question (host key, login prompt) is brought forward.
 * - The tabs are kept in sessionStorage (`webssh-bridge.tabs`): a reload brings the same panes
 *   back, and each pane resumes its own session from its own resume record.
 */
import { byId } from './dom.js';
import type { ConfirmDialog } from './confirm.js';
import { onTabShortcut, type PaneHandlers, type PaneHost } from './frame-pane.js';
import { parseFromPane, TO_PANE, type PaneCommand, type PaneReport, type ToPane } from './pane-link.js';
import {
  addPane, initialTabs, isPaneId, MAX_PANES, nth, parseTabs, removePane, select, shown, step, toggleSplit, type PaneId, type TabsState,
} from './tabs-model.js';
import type { Toast } from './toast.js';

const STORE_KEY = 'webssh-bridge.tabs';
/** How long a frame pane has to end its session before it is removed anyway. */
const END_WAIT_MS = 3000;
/** The split view needs this much width (two terminals of about 80 columns). */
const WIDE = '(min-width: 800px)';
const SELF: PaneId = 0;
const BLANK: PaneReport = { label: 'New session', state: 'idle', live: false, title: '', ask: false, warn: false };

interface TabEls {
  readonly li: HTMLLIElement;
  readonly pick: HTMLButtonElement;
  readonly label: HTMLSpanElement;
  readonly close: HTMLButtonElement;
}

export interface WorkspaceOptions {
  readonly confirm: ConfirmDialog;
  readonly toast: Toast;
  /** The document title when the active pane's terminal has none. */
  readonly defaultTitle: string;
}

/** Pane 0's handlers, plus showing the form again when a parked pane 0 is reused. */
export interface SelfHandlers extends PaneHandlers {
  reuse(): void;
}

function loadStored(): { tabs: TabsState; next: number } | null {
  try {
    const raw = window.sessionStorage.getItem(STORE_KEY);
    if (raw === null) return null;
    const v = JSON.parse(raw) as { tabs?: unknown; next?: unknown };
    const tabs = parseTabs(v.tabs);
    if (tabs === null || !isPaneId(v.next) || tabs.panes.some((p) => p >= (v.next as number))) return null;
    return { tabs, next: v.next };
  } catch {
    return null;
  }
}

export class Workspace {
  readonly #opts: WorkspaceOptions;
  readonly #strip = byId('tabs');
  readonly #list = byId('tab-list');
  readonly #splitBtn = byId('split-btn', HTMLButtonElement);
  readonly #panes = byId('panes');
  readonly #app = byId('app');
  readonly #frames = new Map<PaneId, HTMLIFrameElement>();
  readonly #reports = new Map<PaneId, PaneReport>();
  readonly #closing = new Set<PaneId>();
  /** Each tab's elements in the strip. */
  readonly #tabEls = new Map<PaneId, TabEls>();
  /** Frame panes asked to end their session: the answer's resolver. */
  readonly #waiting = new Map<PaneId, () => void>();
  readonly #wide = window.matchMedia(WIDE);
  readonly #abort = new AbortController();
  #tabs: TabsState = initialTabs(SELF);
  #next = 1;
  #self: SelfHandlers | null = null;

  constructor(opts: WorkspaceOptions) {
    this.#opts = opts;
    const { signal } = this.#abort;
    window.addEventListener('message', (ev: MessageEvent<unknown>) => this.#message(ev), { signal });
    onTabShortcut(signal, (c) => this.#command(this.#app.contains(document.activeElement) ? SELF : this.#tabs.active, c));
    this.#app.addEventListener('focusin', () => this.#select(SELF, false), { signal });
    byId('tab-new').addEventListener('click', () => this.#command(this.#tabs.active, { kind: 'new' }), { signal });
    this.#splitBtn.addEventListener('click', () => this.#command(this.#tabs.active, { kind: 'split' }), { signal });
    this.#wide.addEventListener('change', () => this.#render(), { signal });
  }

  /** Pane 0's host. Call once, then `restore`. */
  selfHost(handlers: SelfHandlers): PaneHost {
    this.#self = handlers;
    return {
      report: (r) => this.#report(SELF, r),
      command: (c) => this.#command(SELF, c),
    };
  }

  /** The panes of the last visit of this tab (a reload), each resuming its own session. */
  restore(): void {
    const stored = loadStored();
    if (stored !== null) {
      this.#next = stored.next;
      for (const id of stored.tabs.panes) if (id !== SELF) this.#makeFrame(id);
      this.#tabs = stored.tabs;
    }
    this.#render();
  }

  /** Some frame pane holds a session that leaving the page would leave behind. */
  get framesLive(): boolean {
    return [...this.#frames.keys()].some((id) => this.#reports.get(id)?.live === true);
  }

  #report(id: PaneId, r: PaneReport): void {
    const before = this.#reports.get(id);
    this.#reports.set(id, r);
    if (r.ask && before?.ask !== true && !shown(this.#tabs).includes(id)) this.#select(id, false);
    this.#render();
  }

  #command(from: PaneId, c: PaneCommand): void {
    switch (c.kind) {
      case 'new': this.#newPane(); break;
      case 'close': void this.close(from); break;
      case 'split':
        if (!this.#wide.matches) this.#opts.toast.show('The split view needs a wider window.');
        else if (this.#tabs.panes.length < 2) this.#opts.toast.show('Open a second session (Alt+Shift+N) to split the view.');
        else this.#apply(toggleSplit(this.#tabs), true);
        break;
      case 'step': this.#apply(step(this.#tabs, c.by), true); break;
      case 'nth': this.#apply(nth(this.#tabs, c.n), true); break;
      case 'focused': this.#select(from, false); break;
    }
  }

  #newPane(): void {
    if (!this.#tabs.panes.includes(SELF)) {
      // Pane 0 was closed: it comes back with the form.
      this.#self?.reuse();
      this.#apply(addPane(this.#tabs, SELF), true);
      return;
    }
    if (this.#tabs.panes.length >= MAX_PANES) {
      this.#opts.toast.show(`At most ${MAX_PANES} sessions fit in one page; close one first.`);
      return;
    }
    const id = this.#next++;
    this.#makeFrame(id);
    this.#apply(addPane(this.#tabs, id), true);
  }

  /** Close a pane: a live session is ended after the user confirms. */
  async close(id: PaneId): Promise<void> {
    if (this.#tabs.panes.length < 2 || this.#closing.has(id) || !this.#tabs.panes.includes(id)) return;
    const r = this.#reports.get(id) ?? BLANK;
    if (r.live) {
      this.#select(id, false);
      const yes = await this.#opts.confirm.ask({ title: 'Close this session?', text: `This ends the session with ${r.label} and whatever runs in it.`, action: 'Close' });
      if (!yes) {
        this.#focus(this.#tabs.active);
        return;
      }
    }
    this.#closing.add(id);
    try {
      await this.#end(id);
    } finally {
      this.#closing.delete(id);
    }
    this.#reports.delete(id);
    const frame = this.#frames.get(id);
    frame?.remove();
    this.#frames.delete(id);
    this.#apply(removePane(this.#tabs, id), true);
  }

  /** End a pane's session; a frame that does not answer in END_WAIT_MS goes anyway. */
  async #end(id: PaneId): Promise<void> {
    if (id === SELF) {
      await this.#self?.end();
      return;
    }
    const target = this.#frames.get(id)?.contentWindow;
    if (target === null || target === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      done = resolve;
      timer = setTimeout(resolve, END_WAIT_MS);
    });
    this.#waiting.set(id, done);
    this.#post(target, 'end');
    await ended;
    clearTimeout(timer);
    this.#waiting.delete(id);
  }

  #message(ev: MessageEvent<unknown>): void {
    if (ev.origin !== window.location.origin) return;
    const id = [...this.#frames].find(([, f]) => f.contentWindow === ev.source)?.[0];
    if (id === undefined) return;
    const m = parseFromPane(ev.data);
    if (m === null) return;
    if ('report' in m) {
      const frame = this.#frames.get(id);
      if (frame !== undefined) frame.title = `Session: ${m.report.label}`;
      this.#report(id, m.report);
    } else if ('command' in m) this.#command(id, m.command);
    else this.#waiting.get(id)?.();
  }

  #makeFrame(id: PaneId): void {
    const frame = document.createElement('iframe');
    frame.className = 'pane pane-frame';
    frame.id = `pane-${id}`;
    frame.title = 'Session: New session';
    frame.src = `${window.location.pathname}?pane=${id}`;
    this.#frames.set(id, frame);
    this.#panes.append(frame);
  }

  #select(id: PaneId, focus: boolean): void {
    if (this.#tabs.active === id && shown(this.#tabs).includes(id)) return;
    this.#apply(select(this.#tabs, id), focus);
  }

  #apply(next: TabsState, focus: boolean): void {
    this.#tabs = next;
    this.#save();
    this.#render();
    if (focus) this.#focus(next.active);
  }

  #focus(id: PaneId): void {
    if (id === SELF) {
      this.#self?.focus();
      return;
    }
    const frame = this.#frames.get(id);
    if (frame?.contentWindow === null || frame === undefined) return;
    frame.focus();
    this.#post(frame.contentWindow, 'focus');
  }

  #post(target: Window, m: ToPane): void {
    target.postMessage({ [TO_PANE]: m }, window.location.origin);
  }

  #save(): void {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({ tabs: this.#tabs, next: this.#next }));
    } catch {
      // storage full or disabled: a reload then starts with one pane
    }
  }

  #render(): void {
    const tabs = this.#tabs;
    const split = tabs.split !== null && this.#wide.matches ? tabs.split : null;
    const many = tabs.panes.length > 1;
    this.#strip.hidden = !many;
    this.#splitBtn.setAttribute('aria-pressed', String(split !== null));
    this.#splitBtn.hidden = !this.#wide.matches;
    this.#panes.dataset['split'] = String(split !== null);
    const place = (id: PaneId): string => {
      if (split === null) return id === tabs.active ? 'single' : 'none';
      return id === split.left ? 'left' : id === split.right ? 'right' : 'none';
    };
    const panes: [PaneId, HTMLElement][] = [[SELF, this.#app], ...this.#frames];
    for (const [id, el] of panes) {
      const where = tabs.panes.includes(id) ? place(id) : 'none';
      el.dataset['place'] = where;
      el.dataset['active'] = String(id === tabs.active && many);
      el.inert = where === 'none';
    }
    this.#syncTabs();
    const active = this.#reports.get(tabs.active) ?? BLANK;
    document.title = active.title === '' ? this.#opts.defaultTitle : active.title;
  }

  /**
   * The strip's tabs, updated in place (a tab's elements live as long as its pane), so a keyboard
   * user's focus in the strip survives every change.
   */
  #syncTabs(): void {
    const { panes, active } = this.#tabs;
    for (const [id, tab] of this.#tabEls) {
      if (!panes.includes(id)) {
        tab.li.remove();
        this.#tabEls.delete(id);
      }
    }
    panes.forEach((id, i) => {
      const tab = this.#tabEls.get(id) ?? this.#makeTab(id);
      if (this.#list.children[i] !== tab.li) this.#list.insertBefore(tab.li, this.#list.children[i] ?? null);
      const r = this.#reports.get(id) ?? BLANK;
      const mark = r.ask ? ' (asks you)' : r.warn ? ' (idle, closing soon)' : '';
      tab.li.dataset['state'] = r.state;
      tab.label.textContent = `${r.label}${mark}`;
      tab.pick.title = `${r.label}: ${r.state}${mark} (Alt+Shift+${i + 1})`;
      if (id === active) tab.pick.setAttribute('aria-current', 'true');
      else tab.pick.removeAttribute('aria-current');
      tab.close.setAttribute('aria-label', `Close ${r.label}`);
    });
  }

  #makeTab(id: PaneId): TabEls {
    const li = document.createElement('li');
    li.className = 'tab';
    li.dataset['pane'] = String(id);
    const pick = document.createElement('button');
    pick.type = 'button';
    pick.className = 'tab-pick';
    const dot = document.createElement('span');
    dot.className = 'tab-dot';
    dot.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'tab-label';
    pick.append(dot, label);
    pick.addEventListener('click', () => this.#select(id, true));
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'tab-close';
    close.title = 'Close (Alt+Shift+W)';
    close.textContent = '×';
    close.addEventListener('click', () => void this.close(id));
    li.append(pick, close);
    const tab = { li, pick, label, close };
    this.#tabEls.set(id, tab);
    return tab;
  }

  dispose(): void {
    this.#abort.abort();
    for (const done of this.#waiting.values()) done();
  }
}
