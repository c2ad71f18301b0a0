/**
 * The connect form's **Recent** group: one button per recent host (`alice@host:22`, with the
 * method when it is not a password) that fills the form, and one that removes it. In fixed-target
 * mode only the target's own entries are offered, by username. The list itself (what is kept,
 * in which order) is saved-logins.ts.
 */
import { byId } from './dom.js';
import { loginKey, loginLabel, sameTarget, type AuthMethod, type LoginTarget } from './saved-logins.js';
import type { Target } from './target.js';

const METHOD_NOTE: Record<AuthMethod, string> = { password: '', publickey: ' (key)', 'keyboard-interactive': ' (2FA)' };

export interface RecentActions {
  pick(t: LoginTarget): void;
  remove(key: string): void;
  /** The last one was removed: the keyboard goes back to the form. */
  emptied(): void;
}

export class RecentList {
  readonly #group = byId('recent');
  readonly #list = byId('recent-list', HTMLUListElement);
  readonly #fixed: Target | null;
  readonly #actions: RecentActions;
  readonly #abort = new AbortController();
  /** What the buttons stand for, by their list position. */
  #shown: LoginTarget[] = [];

  constructor(fixed: Target | null, actions: RecentActions) {
    this.#fixed = fixed;
    this.#actions = actions;
    // One listener for every button of the list (they are rebuilt on each change).
    this.#list.addEventListener('click', (ev) => {
      const button = ev.target instanceof Element ? ev.target.closest('button') : null;
      const item = button?.closest('li');
      if (button == null || item == null) return;
      const t = this.#shown[Array.from(this.#list.children).indexOf(item)];
      if (t === undefined) return;
      if (button.classList.contains('recent-remove')) this.#remove(item, t);
      else this.#actions.pick(t);
    }, { signal: this.#abort.signal });
  }

  render(list: readonly LoginTarget[]): void {
    const fixed = this.#fixed;
    this.#shown = fixed === null ? [...list] : list.filter((t) => sameTarget(t, fixed));
    this.#list.replaceChildren(...this.#shown.map((t) => {
      const label = fixed === null ? loginLabel(t) : t.username;
      const li = document.createElement('li');
      li.className = 'recent-item';
      const pick = document.createElement('button');
      pick.type = 'button';
      pick.className = 'recent-pick';
      pick.textContent = `${label}${METHOD_NOTE[t.method]}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'recent-remove';
      remove.setAttribute('aria-label', `Remove ${label} from Recent`);
      remove.title = 'Remove from Recent';
      remove.textContent = '×';
      li.append(pick, remove);
      return li;
    }));
    this.#group.hidden = this.#shown.length === 0;
  }

  dispose(): void {
    this.#abort.abort();
  }

  /** Remove one entry; the keyboard goes to the next entry's button (or the previous, or Host). */
  #remove(item: Element, t: LoginTarget): void {
    const items = Array.from(this.#list.children);
    const at = items.indexOf(item);
    this.#actions.remove(loginKey(t));
    const next = this.#list.children[Math.min(at, this.#list.children.length - 1)];
    const target = next?.querySelector<HTMLButtonElement>('.recent-remove') ?? null;
    if (target !== null) target.focus();
    else this.#actions.emptied();
  }
}
