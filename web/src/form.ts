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
 */
import type { PageConfig } from './config.js';
import { byId } from './dom.js';
import { EmptyPassword, EMPTY_PASSWORD_TEXT } from './empty-password.js';
import { validToken, type GatewayAuth } from './gateway-auth.js';
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
}

const HINT_EMPTY = 'This gateway asks for an access token. It is kept in this browser tab only.';
const HINT_SAVED = 'A token is saved for this browser tab; enter another one to replace it.';

export function setupForm(
  config: PageConfig,
  onSubmit: (target: Target, creds: Credentials) => void,
  onInvalid: (message: string) => void,
  gateway: GatewayAuth,
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
  for (const el of [host, port, username, key, token]) {
    el.addEventListener('input', () => el.removeAttribute('aria-invalid'));
  }
  const emptyPassword = new EmptyPassword(form, password, method);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    let target: Target;
    let user = username.value.trim();
    if (fixed !== null) {
      target = fixed;
    } else {
      const parsed = parseHostInput(host.value);
      const h = stripBrackets(parsed.host);
      if (h === '') return invalid(host, 'Enter the host to connect to.');
      const portText = port.value.trim() === '' ? '22' : port.value.trim();
      const p = parsed.port ?? Number(portText);
      if (!/^\d+$/.test(portText) || !validPort(p)) return invalid(port, 'The port must be a number from 1 to 65535.');
      if (parsed.user !== undefined && user === '') {
        user = parsed.user;
        username.value = user;
      }
      target = { host: h, port: p };
    }
    if (user === '') return invalid(username, 'Enter your username.');
    let creds: Credentials;
    if (method.value === 'publickey') {
      const k = key.value.trim();
      if (k === '') return invalid(key, 'Paste your private key or load it from a file.');
      if (new TextEncoder().encode(k).length > MAX_KEY_BYTES) return invalid(key, 'The private key is too large (the limit is 16 KiB).');
      creds = { username: user, method: 'publickey', privateKey: `${k}\n`, passphrase: passphrase.value };
    } else if (method.value === 'keyboard-interactive') {
      creds = { username: user, method: 'keyboard-interactive' };
    } else {
      if (!emptyPassword.mayGo()) return invalid(password, EMPTY_PASSWORD_TEXT);
      creds = { username: user, method: 'password', password: password.value };
    }
    const typed = token.value.trim();
    if (askToken && typed !== '') {
      if (!validToken(typed)) return invalid(token, 'The access token contains spaces or characters a token cannot have; paste it again.');
      gateway.tokens.set(typed);
      token.value = '';
    }
    onSubmit(target, creds);
  });

  return {
    focusFirst() {
      const order = fixed === null ? [host, username, password] : [username, password];
      const first = order.find((el) => el.value === '' && !el.closest('[hidden]')) ?? order[0];
      first?.focus();
    },
    focusPassword() {
      const field = method.value === 'publickey' ? key : method.value === 'keyboard-interactive' ? username : password;
      field.focus();
      field.select();
    },
    setBusy(busy) {
      submit.disabled = busy;
      submit.setAttribute('aria-busy', String(busy));
      form.classList.toggle('busy', busy);
    },
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
  };
}
