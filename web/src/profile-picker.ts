/**
 * The connect form's **Profile** choice: a select of the saved profiles (choosing one fills the
 * form; the focus stays on the select, so arrowing through it is safe), **Rename** (an inline
 * **New name** field) and **Delete** for the chosen one. A profile that carries a sealed private
 * key (key-vault.ts) replaces the Private key field with a note that the stored key will be used
 * and the **Storage passphrase** field that unlocks it at Connect; **Use another key** brings the
 * Private key field back. What is stored and the list operations are saved-logins.ts.
 */
import { byId } from './dom.js';
import { vaultAvailable, type SealedKey } from './key-vault.js';
import { findProfile, sameTarget, type Profile } from './saved-logins.js';
import type { Target } from './target.js';

export interface PickerActions {
  /** A profile was chosen: fill the form with it. */
  chosen(p: Profile): void;
  /** Rename it; a sentence when refused (shown by the caller). */
  rename(from: string, to: string, field: HTMLInputElement): boolean;
  /** Delete it (a profile with a stored key asks first); resolves once done or declined. */
  remove(name: string): Promise<void>;
  /** The last profile was deleted (the choice is gone): the keyboard goes back to the form. */
  emptied(): void;
}

/** The stored key a Connect will use, and the field with its storage passphrase. */
export interface StoredKey {
  readonly profile: string;
  readonly sealed: SealedKey;
  readonly passphrase: HTMLInputElement;
}

export class ProfilePicker {
  readonly #row = byId('profile-row');
  readonly #select = byId('profile-select', HTMLSelectElement);
  readonly #renameBtn = byId('profile-rename', HTMLButtonElement);
  readonly #deleteBtn = byId('profile-delete', HTMLButtonElement);
  readonly #renameFields = byId('profile-rename-fields');
  readonly #newName = byId('profile-new-name', HTMLInputElement);
  readonly #stored = byId('stored-key');
  readonly #storedNote = byId('stored-key-note');
  readonly #unlock = byId('storage-passphrase', HTMLInputElement);
  readonly #keyText = byId('key-text-field');
  readonly #fixed: Target | null;
  readonly #actions: PickerActions;
  readonly #abort = new AbortController();
  #list: Profile[] = [];
  /** "Use another key": the chosen profile's stored key is set aside until another choice. */
  #keyOff = false;

  constructor(fixed: Target | null, actions: PickerActions) {
    this.#fixed = fixed;
    this.#actions = actions;
    const on = <K extends keyof HTMLElementEventMap>(el: HTMLElement, type: K, fn: (ev: HTMLElementEventMap[K]) => void): void =>
      el.addEventListener(type, fn, { signal: this.#abort.signal });
    on(this.#select, 'change', () => {
      this.#keyOff = false;
      this.#closeRename();
      const p = this.selected();
      if (p !== null) this.#actions.chosen(p);
      this.#sync();
    });
    on(this.#renameBtn, 'click', () => {
      const p = this.selected();
      if (p === null) return;
      this.#renameFields.hidden = false;
      this.#newName.value = p.name;
      this.#newName.removeAttribute('aria-invalid');
      this.#newName.focus();
      this.#newName.select();
    });
    on(byId('profile-rename-ok'), 'click', () => this.#rename());
    on(byId('profile-rename-cancel'), 'click', () => this.#closeRename(true));
    on(this.#newName, 'keydown', (ev) => {
      // In the connect form, Enter would press Connect.
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.#rename();
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        this.#closeRename(true);
      }
    });
    on(this.#newName, 'input', () => this.#newName.removeAttribute('aria-invalid'));
    on(this.#deleteBtn, 'click', () => {
      const p = this.selected();
      if (p === null) return;
      void this.#actions.remove(p.name).then(() => {
        if (this.#row.hidden) this.#actions.emptied();
        else this.#select.focus();
      });
    });
    on(byId('stored-key-off'), 'click', () => {
      this.#keyOff = true;
      this.#sync();
      byId('private-key').focus();
    });
    on(this.#unlock, 'input', () => this.#unlock.removeAttribute('aria-invalid'));
    this.#sync();
  }

  /** The profiles to offer (in fixed-target mode, that target's only); the choice stays if its profile does. */
  render(list: readonly Profile[]): void {
    const fixed = this.#fixed;
    const name = this.selected()?.name ?? '';
    this.#list = fixed === null ? [...list] : list.filter((p) => sameTarget(p, fixed));
    const none = new Option('No profile', '');
    this.#select.replaceChildren(none, ...this.#list.map((p) => new Option(p.key === undefined ? p.name : `${p.name} (key stored)`, p.name)));
    const still = findProfile(this.#list, name);
    this.#select.value = still?.name ?? '';
    if (still === undefined) this.#keyOff = false;
    this.#row.hidden = this.#list.length === 0;
    this.#sync();
  }

  selected(): Profile | null {
    return findProfile(this.#list, this.#select.value) ?? null;
  }

  /** Show `name` as the chosen profile (after saving or renaming it); `keepTypedKey`: its stored key is not used yet. */
  choose(name: string, keepTypedKey?: boolean): void {
    this.#select.value = findProfile(this.#list, name)?.name ?? '';
    if (keepTypedKey !== undefined) this.#keyOff = keepTypedKey;
    this.#sync();
  }

  /** No profile chosen (a recent host filled the form instead). */
  clear(): void {
    this.#select.value = '';
    this.#keyOff = false;
    this.#closeRename();
    this.#sync();
  }

  /** The stored key a Connect with the Private key method uses, or null (the Private key field's text is used). */
  storedKey(): StoredKey | null {
    const p = this.selected();
    if (p?.key === undefined || this.#keyOff || !vaultAvailable()) return null;
    return { profile: p.name, sealed: p.key, passphrase: this.#unlock };
  }

  dispose(): void {
    this.#abort.abort();
  }

  #rename(): void {
    const p = this.selected();
    if (p === null) return;
    if (this.#actions.rename(p.name, this.#newName.value, this.#newName)) this.#closeRename(true);
  }

  #closeRename(refocus = false): void {
    const wasOpen = !this.#renameFields.hidden;
    this.#renameFields.hidden = true;
    if (wasOpen && refocus) this.#select.focus();
  }

  #sync(): void {
    const chosen = this.selected() !== null;
    this.#renameBtn.hidden = !chosen;
    this.#deleteBtn.hidden = !chosen;
    if (!chosen) this.#renameFields.hidden = true;
    const stored = this.storedKey();
    this.#stored.hidden = stored === null;
    this.#keyText.hidden = stored !== null;
    if (stored === null) this.#unlock.value = '';
    else this.#storedNote.textContent = `The private key stored with the profile "${stored.profile}" (encrypted in this browser) will be used. Enter its storage passphrase to unlock it.`;
  }
}
