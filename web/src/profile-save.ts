/**
 * **Save as profile…** in the connect form: a small panel with **Profile name** and, for the
 * Private key method, the box **Keep this key in this browser, encrypted** with **Choose a storage
 * passphrase** (at least 8 characters). Unchecked by default: keys stay with their user. Where
 * WebCrypto is missing (not a secure context) the box is not offered and the panel says that no
 * key is stored; a profile chosen with a stored key keeps it (the panel says so). Enter saves,
 * Escape closes. Saving itself (validation, sealing, storage) is the caller's (form-saved.ts).
 */
import { byId } from './dom.js';
import { vaultAvailable } from './key-vault.js';

export interface SaveRequest {
  readonly name: HTMLInputElement;
  /** The storage passphrase field when the key is to be kept, else null. */
  readonly keep: HTMLInputElement | null;
}

export interface SaveActions {
  /** Save; true when it worked (the panel closes). */
  save(req: SaveRequest): Promise<boolean>;
  /** The method chosen in the form now. */
  usesKey(): boolean;
  /** The name of the profile whose stored key a Connect would use, or null. */
  storedKeyOf(): string | null;
  /** The name to suggest (the chosen profile's). */
  suggestedName(): string;
}

export class ProfileSave {
  readonly #open = byId('profile-save-open', HTMLButtonElement);
  readonly #panel = byId('profile-save');
  readonly #name = byId('profile-name', HTMLInputElement);
  readonly #keepFields = byId('keep-key-fields');
  readonly #keep = byId('keep-key', HTMLInputElement);
  readonly #passFields = byId('keep-key-pass');
  readonly #pass = byId('storage-passphrase-new', HTMLInputElement);
  readonly #note = byId('keep-key-note');
  readonly #ok = byId('profile-save-ok', HTMLButtonElement);
  readonly #actions: SaveActions;
  readonly #abort = new AbortController();

  constructor(actions: SaveActions) {
    this.#actions = actions;
    const signal = this.#abort.signal;
    this.#open.addEventListener('click', () => (this.#panel.hidden ? this.#show() : this.close(true)), { signal });
    byId('profile-save-cancel').addEventListener('click', () => this.close(true), { signal });
    this.#ok.addEventListener('click', () => void this.#save(), { signal });
    this.#keep.addEventListener('change', () => {
      this.sync();
      if (this.#keep.checked) this.#pass.focus();
    }, { signal });
    this.#panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.close(true);
      } else if (ev.key === 'Enter' && ev.target instanceof HTMLInputElement) {
        // In the connect form, Enter would press Connect.
        ev.preventDefault();
        void this.#save();
      }
    }, { signal });
    for (const el of [this.#name, this.#pass]) el.addEventListener('input', () => el.removeAttribute('aria-invalid'), { signal });
    byId('auth-method').addEventListener('change', () => this.sync(), { signal });
    this.sync();
  }

  /** Which key parts the panel shows (the method, the chosen profile or WebCrypto changed). */
  sync(): void {
    const key = this.#actions.usesKey();
    const stored = key ? this.#actions.storedKeyOf() : null;
    const vault = vaultAvailable();
    this.#keepFields.hidden = !key || !vault || stored !== null;
    if (this.#keepFields.hidden) this.#keep.checked = false;
    this.#passFields.hidden = !this.#keep.checked;
    if (!this.#keep.checked) this.#pass.value = '';
    let note = '';
    if (stored !== null) note = `The key stored with "${stored}" is kept with this profile, under the same storage passphrase.`;
    else if (key && !vault) note = 'This browser can only store a key encrypted on a secure page (https), so no key is stored: the profile keeps the host, port, username and method.';
    else if (key && !this.#keep.checked) note = 'Without this box the key is not stored: the profile keeps the host, port, username and method.';
    this.#note.textContent = note;
    this.#note.hidden = note === '';
  }

  dispose(): void {
    this.#abort.abort();
  }

  close(refocus = false): void {
    const wasOpen = !this.#panel.hidden;
    this.#panel.hidden = true;
    this.#open.setAttribute('aria-expanded', 'false');
    this.#keep.checked = false;
    this.#pass.value = '';
    this.sync();
    if (wasOpen && refocus) this.#open.focus();
  }

  #show(): void {
    this.#panel.hidden = false;
    this.#open.setAttribute('aria-expanded', 'true');
    this.#name.value = this.#actions.suggestedName();
    this.#name.removeAttribute('aria-invalid');
    this.sync();
    this.#name.focus();
    this.#name.select();
  }

  async #save(): Promise<void> {
    if (this.#ok.disabled) return;
    const keep = this.#keep.checked && !this.#keepFields.hidden ? this.#pass : null;
    this.#ok.disabled = true;
    try {
      if (await this.#actions.save({ name: this.#name, keep })) this.close(true);
    } finally {
      this.#ok.disabled = false;
    }
  }
}
