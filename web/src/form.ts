/**
 * The connect form: Host, Port, Username, then Password or Private key (+ Passphrase, or a key
 * file read into the textarea), or Keyboard-interactive (the server's questions come later, in
 * the prompt dialog). Pre-filled from `?host=&port=&user=` (never a password). In
 * fixed-target mode Host and Port are hidden and the configured target is used.
 *
 * Gateway authentication (token / JWT modes): an Access token field at the end of the form. A
 * token typed there is moved into the tab's token store on Connect (the field is emptied); a
 * stored token is announced in the field's hint with a Forget token button.
 *
 * An empty password is never sent by a slip (it would count toward the gateway's login ban):
 * Connect says "The password is empty." and offers **Log in with an empty password**, which
 * sends it once (empty-password.ts).
 *
 * Recent hosts and profiles (form-saved.ts) fill the fields. A profile's stored key is unlocked
 * with its storage passphrase at Connect; a wrong one says so and sends nothing.
 *
 * **Advanced: jump host** (jump-fields.ts): up to three jump hosts, each with its own login, sent with the target's.
 */
import type { PageConfig } from './config.js';
import { byId } from './dom.js';
import { EmptyPassword, EMPTY_PASSWORD_TEXT } from './empty-password.js';
import { SavedLogins, type FormAccess } from './form-saved.js';
import { JumpFields } from './jump-fields.js';
import { validToken, type GatewayAuth } from './gateway-auth.js';
import { openKey, type SealedKey } from './key-vault.js';
import type { LoginTarget } from './saved-logins.js';
import { parseHostInput, stripBrackets, targetLabel, validPort, type Credentials, type Target } from './target.js';

const MAX_KEY_BYTES = 16 * 1024;

/** What a login waits for once `auth` is out (the gateway reaches the server, then the server checks). */
export function loginWaitText(method: Credentials['method'], target: string): string {
  if (method === 'password') return `Checking the password with ${target}…`;
  if (method === 'publickey') return `Checking the key with ${target}…`;
  return `Logging in to ${target}…`;
}

export interface ConnectForm {
  /** Show a validation problem (the caller puts it in the alert). */
  focusFirst(): void;
  /** After a refused login: focus the secret that was refused, its text selected (type to replace it). */
  focusPassword(): void;
  setBusy(busy: boolean): void;
  /** The gateway wants a (new) token: mark the Access token field and focus it. */
  askToken(): void;
  /** Fill in the target and username of a session being resumed (so logging in again is one password away). */
  prefill(target: Target, username: string): void;
  /** The login this form sent succeeded (a new session, not a resumed one): remember it under Recent. */
  loggedIn(): void;
  dispose(): void;
}

const HINT_EMPTY = 'This gateway asks for an access token. It is kept in this browser tab only.';
const HINT_SAVED = 'A token is saved for this browser tab; enter another one to replace it.';

export function setupForm(
  config: PageConfig,
  onSubmit: (target: Target, creds: Credentials) => void,
  onInvalid: (message: string) => void,
  gateway: GatewayAuth,
  confirm: FormAccess['confirm'],
): ConnectForm {
  const form = byId('connect-form', HTMLFormElement);
  const host = byId('host', HTMLInputElement);
  const port = byId('port', HTMLInputElement);
  const username = byId('username', HTMLInputElement);
  const method = byId('auth-method', HTMLSelectElement);
  const password = byId('password', HTMLInputElement);
  const key = byId('private-key', HTMLTextAreaElement);
  const keyFile = byId('key-file', HTMLInputElement);
  const passphrase = byId('passphrase', HTMLInputElement);
  const submit = byId('connect-btn', HTMLButtonElement);
  const token = byId('access-token', HTMLInputElement);
  const forgetToken = byId('forget-token', HTMLButtonElement);
  const tokenHint = byId('access-token-hint');
  const fixed = config.fixedTarget;

  const askToken = gateway.usesToken;
  byId('token-fields').hidden = !askToken;
  const syncToken = (): void => {
    const saved = gateway.tokens.has;
    forgetToken.hidden = !saved;
    token.placeholder = saved ? 'saved for this tab' : '';
    tokenHint.textContent = saved ? HINT_SAVED : HINT_EMPTY;
  };
  gateway.tokens.onChange(syncToken);
  syncToken();
  forgetToken.addEventListener('click', () => {
    gateway.tokens.forget();
    token.value = '';
    token.focus(); // the button hides itself
  });

  const q = new URLSearchParams(window.location.search);
  if (fixed === null) {
    const h = q.get('host');
    const p = q.get('port');
    if (h !== null) host.value = h;
    if (p !== null && /^\d{1,5}$/.test(p) && validPort(Number(p))) port.value = p;
  } else {
    byId('target-fields').hidden = true;
    host.required = false;
    port.required = false;
    const note = byId('fixed-target');
    note.hidden = false;
    byId('fixed-target-name').textContent = targetLabel(fixed);
  }
  const u = q.get('user');
  if (u !== null) username.value = u;
  if (config.version !== '') byId('version').textContent = `webssh-bridge ${config.version}`;

  const syncMethod = (): void => {
    const isKey = method.value === 'publickey';
    byId('password-fields').hidden = isKey || method.value === 'keyboard-interactive';
    byId('key-fields').hidden = !isKey;
  };
  method.addEventListener('change', syncMethod);
  syncMethod();

  keyFile.addEventListener('change', () => {
    const file = keyFile.files?.[0];
    if (file === undefined) return;
    if (file.size > MAX_KEY_BYTES) {
      onInvalid('That file is too large to be a private key (the limit is 16 KiB).');
      keyFile.value = '';
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      if (typeof reader.result === 'string') key.value = reader.result;
      key.dispatchEvent(new Event('input'));
    };
    reader.onerror = () => onInvalid('The key file could not be read.');
    reader.readAsText(file);
  });

  const invalid = (el: HTMLElement, message: string): void => {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
    onInvalid(message);
  };
  /** `invalid`, for the checks that return what they read. */
  const fail = (el: HTMLElement, message: string): null => {
    invalid(el, message);
    return null;
  };
  for (const el of [host, port, username, key, token]) {
    el.addEventListener('input', () => el.removeAttribute('aria-invalid'));
  }
  const emptyPassword = new EmptyPassword(form, password, method);
  const jump = new JumpFields(invalid);

  /** Target, username and method as Connect takes them; null: the problem is shown at its field. */
  const current = (): LoginTarget | null => {
    let target: Target;
    let user = username.value.trim();
    if (fixed !== null) {
      target = fixed;
    } else {
      const parsed = parseHostInput(host.value);
      const h = stripBrackets(parsed.host);
      if (h === '') return fail(host, 'Enter the host to connect to.');
      const portText = port.value.trim() === '' ? '22' : port.value.trim();
      const p = parsed.port ?? Number(portText);
      if (!/^\d+$/.test(portText) || !validPort(p)) return fail(port, 'The port must be a number from 1 to 65535.');
      if (parsed.user !== undefined && user === '') {
        user = parsed.user;
        username.value = user;
      }
      target = { host: h, port: p };
    }
    if (user === '') return fail(username, 'Enter your username.');
    const m = method.value === 'publickey' || method.value === 'keyboard-interactive' ? method.value : 'password';
    return { host: target.host, port: target.port, username: user, method: m };
  };
  /** The Private key field's text as it is sent; null: the problem is shown. */
  const keyText = (): string | null => {
    const k = key.value.trim();
    if (k === '') return fail(key, 'Paste your private key or load it from a file.');
    if (new TextEncoder().encode(k).length > MAX_KEY_BYTES) return fail(key, 'The private key is too large (the limit is 16 KiB).');
    return `${k}\n`;
  };
  const focusSecret = (): void => {
    const stored = saved.storedKey();
    const field = method.value === 'keyboard-interactive' ? null : method.value !== 'publickey' ? password : stored?.passphrase ?? key;
    if (field === null) {
      submit.focus();
      return;
    }
    field.focus();
    field.select();
  };
  const setBusy = (busy: boolean): void => {
    submit.disabled = busy;
    submit.setAttribute('aria-busy', String(busy));
    form.classList.toggle('busy', busy);
  };
  const focusFirst = (): void => {
    const order = fixed === null ? [host, username, password] : [username, password];
    const first = order.find((el) => el.value === '' && !el.closest('[hidden]')) ?? order[0];
    first?.focus();
  };
  const saved = new SavedLogins(fixed, {
    current,
    keyText,
    usesKey: () => method.value === 'publickey',
    fill(t) {
      if (fixed === null) {
        host.value = t.host;
        port.value = String(t.port);
      }
      username.value = t.username;
      method.value = t.method;
      method.dispatchEvent(new Event('change')); // the fields of the method, the save panel's key part
      for (const el of [host, port, username]) el.removeAttribute('aria-invalid');
    },
    focusSecret,
    focusFirst,
    invalid,
    confirm,
  });

  /** The Access token typed in the form is usable (or none was typed); false: the problem is shown. */
  const tokenOk = (): boolean => {
    const typed = token.value.trim();
    if (!askToken || typed === '' || validToken(typed)) return true;
    invalid(token, 'The access token contains spaces or characters a token cannot have; paste it again.');
    return false;
  };
  const send = (t: LoginTarget, login: Credentials): void => {
    const hops = jump.read();
    if (hops === null) return;
    const creds: Credentials = hops.length === 0 ? login : { ...login, jump: hops };
    const typed = token.value.trim();
    if (askToken && typed !== '') {
      gateway.tokens.set(typed);
      token.value = '';
    }
    saved.sent(t);
    onSubmit({ host: t.host, port: t.port }, creds);
  };
  /** A profile's stored key: unlocked with its storage passphrase, then sent; a wrong passphrase sends nothing. */
  const sendStoredKey = async (t: LoginTarget, sealed: SealedKey, unlock: HTMLInputElement): Promise<void> => {
    setBusy(true);
    const text = await openKey(sealed, unlock.value);
    setBusy(false);
    if (text === null) {
      invalid(unlock, 'That storage passphrase does not unlock the stored key. Nothing was sent.');
      unlock.select();
      return;
    }
    send(t, { username: t.username, method: 'publickey', privateKey: text, passphrase: passphrase.value });
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    const t = current();
    if (t === null) return;
    const user = t.username;
    if (t.method === 'publickey') {
      const stored = saved.storedKey();
      if (stored !== null) {
        if (stored.passphrase.value === '') return invalid(stored.passphrase, 'Enter the storage passphrase that unlocks the stored key.');
        if (!tokenOk()) return;
        void sendStoredKey(t, stored.sealed, stored.passphrase);
        return;
      }
      const k = keyText();
      if (k === null || !tokenOk()) return;
      send(t, { username: user, method: 'publickey', privateKey: k, passphrase: passphrase.value });
    } else if (t.method === 'keyboard-interactive') {
      if (tokenOk()) send(t, { username: user, method: 'keyboard-interactive' });
    } else if (!emptyPassword.mayGo()) {
      invalid(password, EMPTY_PASSWORD_TEXT);
    } else if (tokenOk()) {
      send(t, { username: user, method: 'password', password: password.value });
    }
  });

  return {
    focusFirst,
    focusPassword() {
      const field = method.value === 'publickey' ? saved.storedKey()?.passphrase ?? key : method.value === 'keyboard-interactive' ? username : password;
      field.focus();
      field.select();
    },
    setBusy,
    askToken() {
      if (!askToken) return;
      token.setAttribute('aria-invalid', 'true');
      token.focus();
    },
    prefill(target, user) {
      if (fixed === null) {
        host.value = target.host;
        port.value = String(target.port);
      }
      username.value = user;
    },
    loggedIn() {
      saved.loggedIn();
    },
    dispose() {
      saved.dispose();
      emptyPassword.dispose();
      jump.dispose();
    },
  };
}
