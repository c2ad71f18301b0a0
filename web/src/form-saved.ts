/**
 * Recent hosts and profiles in the connect form: the store (saved-store.ts), the Recent group
 * (recent-list.ts), the Profile choice (profile-picker.ts) and Save as profile (profile-save.ts),
 * wired to the form through `FormAccess`. A login the form sent is remembered under Recent once it
 * succeeded (`loggedIn`); a key is sealed (key-vault.ts) only when its user asked for it.
 * Confirmations go to a polite status line; problems to the form's alert, their field focused.
 */
import { byId } from './dom.js';
import { MIN_STORAGE_PASSPHRASE, sealKey, type SealedKey } from './key-vault.js';
import { ProfilePicker, type StoredKey } from './profile-picker.js';
import { ProfileSave, type SaveRequest } from './profile-save.js';
import { RecentList } from './recent-list.js';
import {
  addRecent, findProfile, profileName, profileProblem, removeProfile, removeRecent, renameProfile, saveProfile,
  type LoginTarget, type Profile,
} from './saved-logins.js';
import { SavedStore } from './saved-store.js';
import type { Target } from './target.js';

/** What the saved logins need from the connect form. */
export interface FormAccess {
  /** Target, username and method as Connect would take them, or null (the problem is shown, its field focused). */
  current(): LoginTarget | null;
  /** The Private key field's text as Connect would send it, or null (the problem is shown). */
  keyText(): string | null;
  usesKey(): boolean;
  fill(t: LoginTarget): void;
  /** Focus what is left to type: the password, the key (or its storage passphrase), or Connect. */
  focusSecret(): void;
  focusFirst(): void;
  /** Mark `el` invalid, focus it and show `message` in the form's alert. */
  invalid(el: HTMLElement, message: string): void;
  /** Ask before something is lost for good (a stored key): true to go on. */
  confirm(spec: { title: string; text: string; action: string }): Promise<boolean>;
}

export class SavedLogins {
  readonly #form: FormAccess;
  readonly #status = byId('saved-status');
  readonly #store: SavedStore;
  readonly #recent: RecentList;
  readonly #picker: ProfilePicker;
  readonly #saver: ProfileSave;
  /** The login the form sent last, remembered once it succeeds. */
  #pending: LoginTarget | null = null;

  constructor(fixed: Target | null, form: FormAccess) {
    this.#form = form;
    this.#store = new SavedStore(() => this.#refresh());
    this.#recent = new RecentList(fixed, {
      pick: (t) => {
        form.fill(t);
        this.#picker.clear();
        this.#saver.sync();
        this.#say('');
        form.focusSecret();
      },
      remove: (key) => {
        this.#store.setRecent(removeRecent(this.#store.recent(), key));
        this.#recent.render(this.#store.recent());
      },
      emptied: () => form.focusFirst(),
    });
    this.#picker = new ProfilePicker(fixed, {
      chosen: (p) => {
        form.fill(p);
        this.#saver.sync();
        this.#say('');
      },
      rename: (from, to, field) => this.#rename(from, to, field),
      remove: (name) => this.#remove(name),
      emptied: () => form.focusFirst(),
    });
    this.#saver = new ProfileSave({
      save: (req) => this.#save(req),
      usesKey: () => form.usesKey(),
      storedKeyOf: () => this.#picker.storedKey()?.profile ?? null,
      suggestedName: () => this.#picker.selected()?.name ?? '',
    });
    this.#refresh();
  }

  /** The stored key a Connect with the Private key method uses, or null. */
  storedKey(): StoredKey | null {
    return this.#picker.storedKey();
  }

  /** The form sent this login (remembered once `loggedIn` says it worked). */
  sent(t: LoginTarget): void {
    this.#pending = t;
    this.#say('');
  }

  /** The login the form sent succeeded: it goes first under Recent. */
  loggedIn(): void {
    const t = this.#pending;
    this.#pending = null;
    if (t === null) return;
    this.#store.setRecent(addRecent(this.#store.recent(), t));
    this.#recent.render(this.#store.recent());
  }

  dispose(): void {
    this.#store.dispose();
    this.#recent.dispose();
    this.#picker.dispose();
    this.#saver.dispose();
  }

  #refresh(): void {
    this.#recent.render(this.#store.recent());
    this.#picker.render(this.#store.profiles());
    this.#saver.sync();
  }

  #say(text: string): void {
    this.#status.textContent = text;
  }

  /** Store `list`; false (and said so at `field`) when the browser would not. */
  #keep(list: readonly Profile[], field: HTMLElement): boolean {
    if (this.#store.setProfiles(list)) return true;
    this.#form.invalid(field, 'The profile could not be saved: this browser\'s storage is full or turned off.');
    return false;
  }

  async #save(req: SaveRequest): Promise<boolean> {
    const form = this.#form;
    const name = profileName(req.name.value);
    if (name === '') {
      form.invalid(req.name, profileProblem('name', ''));
      return false;
    }
    const t = form.current();
    if (t === null) return false;
    let key: SealedKey | null = null;
    if (req.keep !== null) {
      const text = form.keyText();
      if (text === null) return false;
      if (req.keep.value.length < MIN_STORAGE_PASSPHRASE) {
        form.invalid(req.keep, `The storage passphrase needs at least ${MIN_STORAGE_PASSPHRASE} characters.`);
        return false;
      }
      this.#say('Encrypting the key…');
      try {
        key = await sealKey(text, req.keep.value);
      } catch {
        this.#say('');
        form.invalid(req.keep, 'This browser could not encrypt the key, so it was not stored.');
        return false;
      }
    } else if (t.method === 'publickey') {
      key = this.#picker.storedKey()?.sealed ?? null;
    }
    const before = findProfile(this.#store.profiles(), name);
    const replaced = before !== undefined;
    if (before?.key !== undefined && key === null) {
      const yes = await form.confirm({
        title: 'Replace this profile?', action: 'Replace',
        text: `Profile "${before.name}" holds a key encrypted in this browser; saving over it without a key removes that key.`,
      });
      if (!yes) return false;
    }
    const change = saveProfile(this.#store.profiles(), name, t, key);
    if (!change.ok) {
      this.#say('');
      form.invalid(req.name, profileProblem(change.reason, name));
      return false;
    }
    if (!this.#keep(change.list, req.name)) {
      this.#say('');
      return false;
    }
    this.#picker.render(change.list);
    this.#picker.choose(name, req.keep !== null);
    this.#saver.sync();
    const withKey = key === null ? '' : req.keep !== null ? ', with the key encrypted in this browser' : ', with its stored key';
    this.#say(`Profile "${name}" ${replaced ? 'updated' : 'saved'}${withKey}.`);
    return true;
  }

  #rename(from: string, to: string, field: HTMLInputElement): boolean {
    const change = renameProfile(this.#store.profiles(), from, to);
    if (!change.ok) {
      this.#form.invalid(field, profileProblem(change.reason, to));
      return false;
    }
    if (!this.#keep(change.list, field)) return false;
    const name = profileName(to);
    this.#picker.render(change.list);
    this.#picker.choose(name);
    this.#saver.sync();
    this.#say(`Profile "${from}" renamed to "${name}".`);
    return true;
  }

  async #remove(name: string): Promise<void> {
    const had = findProfile(this.#store.profiles(), name);
    if (had?.key !== undefined) {
      const yes = await this.#form.confirm({
        title: 'Delete this profile?', action: 'Delete',
        text: `Profile "${had.name}" holds a key encrypted in this browser; deleting the profile deletes the key too.`,
      });
      if (!yes) return;
    }
    const list = this.#store.profiles();
    if (!this.#keep(removeProfile(list, name), byId('profile-select'))) return;
    this.#refresh();
    this.#say(`Profile "${had?.name ?? name}" deleted${had?.key === undefined ? '' : ', with its stored key'}.`);
  }
}
