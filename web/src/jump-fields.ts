/**
 * The connect form's **Advanced: jump host** section (a `<details>`, collapsed unless `?jump=`
 * pre-fills it): one jump host with its own Host, Port, Username and login (password, private key
 * + passphrase, or keyboard-interactive). An empty Jump host means a direct login. Pre-filled from
 * the page's `?jump=user@host:port` (never a password, jump.ts). The hop's secrets are read at
 * Connect and kept in memory with the target's (target.ts `Credentials.jump`), never stored.
 */
import { byId } from './dom.js';
import { readJumpParam } from './jump.js';
import { parseHostInput, stripBrackets, validPort, type JumpHop, type Login } from './target.js';

const MAX_KEY_BYTES = 16 * 1024;

export class JumpFields {
  readonly #section = byId('jump-section', HTMLDetailsElement);
  readonly #host = byId('jump-host', HTMLInputElement);
  readonly #port = byId('jump-port', HTMLInputElement);
  readonly #username = byId('jump-username', HTMLInputElement);
  readonly #method = byId('jump-method', HTMLSelectElement);
  readonly #password = byId('jump-password', HTMLInputElement);
  readonly #key = byId('jump-private-key', HTMLTextAreaElement);
  readonly #passphrase = byId('jump-passphrase', HTMLInputElement);
  readonly #invalid: (el: HTMLElement, message: string) => void;
  readonly #listeners: Array<() => void> = [];

  /** `invalid` marks a field, focuses it and shows the sentence (the form's own). */
  constructor(invalid: (el: HTMLElement, message: string) => void) {
    this.#invalid = invalid;
    const pre = readJumpParam(window.location.search);
    if (pre !== null) {
      this.#host.value = pre.host;
      if (pre.port !== undefined) this.#port.value = String(pre.port);
      if (pre.user !== undefined) this.#username.value = pre.user;
      this.#section.open = true;
    }
    this.#on(this.#method, 'change', () => this.#syncMethod());
    for (const el of [this.#host, this.#port, this.#username, this.#password, this.#key]) {
      this.#on(el, 'input', () => el.removeAttribute('aria-invalid'));
    }
    this.#syncMethod();
  }

  /**
   * The route's jump hosts as Connect sends them: [] for a direct login (no Jump host), one hop,
   * or null when a field is wrong (the section is opened and the problem shown at its field).
   */
  read(): JumpHop[] | null {
    if (this.#host.value.trim() === '') return [];
    const parsed = parseHostInput(this.#host.value);
    const host = stripBrackets(parsed.host);
    const portText = this.#port.value.trim() === '' ? '22' : this.#port.value.trim();
    const port = parsed.port ?? Number(portText);
    let user = this.#username.value.trim();
    if (user === '' && parsed.user !== undefined) user = parsed.user;
    if (host === '') return this.#fail(this.#host, 'Enter the jump host, or empty the field to connect directly.');
    if (!/^\d+$/.test(portText) || !validPort(port)) return this.#fail(this.#port, 'The jump host port must be a number from 1 to 65535.');
    if (user === '') return this.#fail(this.#username, 'Enter your username on the jump host.');
    const login = this.#login(user);
    return login === null ? null : [{ host, port, login }];
  }

  dispose(): void {
    for (const off of this.#listeners.splice(0)) off();
  }

  #login(username: string): Login | null {
    const m = this.#method.value;
    if (m === 'keyboard-interactive') return { username, method: 'keyboard-interactive' };
    if (m === 'publickey') {
      const k = this.#key.value.trim();
      if (k === '') return this.#fail(this.#key, 'Paste your private key for the jump host.');
      if (new TextEncoder().encode(k).length > MAX_KEY_BYTES) return this.#fail(this.#key, 'The jump host private key is too large (the limit is 16 KiB).');
      return { username, method: 'publickey', privateKey: `${k}\n`, passphrase: this.#passphrase.value };
    }
    if (this.#password.value === '') return this.#fail(this.#password, 'Enter your password on the jump host.');
    return { username, method: 'password', password: this.#password.value };
  }

  #fail(el: HTMLElement, message: string): null {
    this.#section.open = true;
    this.#invalid(el, message);
    return null;
  }

  #syncMethod(): void {
    const m = this.#method.value;
    byId('jump-password-fields').hidden = m !== 'password';
    byId('jump-key-fields').hidden = m !== 'publickey';
  }

  #on(el: HTMLElement, type: string, fn: () => void): void {
    el.addEventListener(type, fn);
    this.#listeners.push(() => el.removeEventListener(type, fn));
  }
}
