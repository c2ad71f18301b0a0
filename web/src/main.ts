/**
 * Wiring: preferences, terminal, connection, form, notice, toolbar, test hooks.
 */
import { setupInput } from './clipboard.js';
import { loadConfig } from './config.js';
import { Connection, MAX_RETRIES, type SessionEnd } from './connection.js';
import { byId } from './dom.js';
import { setupForm, type ConnectForm } from './form.js';
import { clampFont, DEFAULT_FONT, loadPrefs, saveFontSize, saveTheme, type ThemeName } from './prefs.js';
import { setupSearch } from './search.js';
import { StatusLine, type ConnState } from './status.js';
import { targetLabel, type Credentials, type Target } from './target.js';
import { createTerminal } from './terminal.js';
import { Ui } from './ui.js';
import { installTestHooks } from './hooks.js';
import { HostKeyDialog } from './hostkey.js';
import { AuthPromptDialog } from './prompt.js';
import { GatewayAuth, isCredentialProblem, takeFragmentToken, TokenStore } from './gateway-auth.js';
import { RecordingsView } from './recordings.js';

const DEFAULT_TITLE = 'webssh-bridge';

async function main(): Promise<void> {
  // First of all: a `#token=` from a portal leaves the address bar (and history) right away.
  const fragmentToken = takeFragmentToken();
  const tokens = new TokenStore();
  let gateway: GatewayAuth | null = null;
  const prefs = loadPrefs();
  let theme: ThemeName = prefs.theme;
  let fontSize = prefs.fontSize;
  document.documentElement.dataset['theme'] = theme;

  const ui = new Ui();
  ui.setMode('form');
  const hostKeyDialog = new HostKeyDialog();
  const status = new StatusLine(byId('status'));
  const container = byId('terminal');
  const view = createTerminal(container, { fontSize, theme });
  const { term } = view;
  const disconnectBtn = byId('disconnect-btn', HTMLButtonElement);
  const themeBtn = byId('theme-btn', HTMLButtonElement);
  let form: ConnectForm | null = null;

  // A dim note in the terminal, on a line of its own (decided after pending output is parsed).
  const dimLine = (text: string, hideCursor: boolean): void => term.write('', () => {
    const lead = term.buffer.active.cursorX === 0 ? '' : '\r\n';
    term.write(`\x1b[0m${lead}\x1b[2m${text}\x1b[0m\r\n${hideCursor ? '\x1b[?25l' : ''}`);
  });

  // "reconnecting in 4s" -> "Reconnecting in 4 s (attempt 3 of 5)…" for the notice.
  let retryAttempt = 1;
  const retryInfo = (text: string): string => {
    const m = /^reconnecting in (\d+)s$/.exec(text);
    if (m === null) return `${text.charAt(0).toUpperCase()}${text.slice(1)}…`;
    return `Reconnecting in ${m[1] ?? ''} s (attempt ${retryAttempt} of ${MAX_RETRIES})…`;
  };

  const onEnded = (ending: SessionEnd): void => {
    form?.setBusy(false);
    const gatewayCredential = ending.kind === 'error' && isCredentialProblem(ending.code);
    const tokenField = gateway?.usesToken === true;
    // Proxy / mTLS: nothing to type here, the sign-in happens in front of the gateway.
    const end: SessionEnd = gatewayCredential && !tokenField
      ? { ...ending, message: 'The gateway did not recognize your sign-in; reload the page to sign in again.' }
      : ending;
    if (end.wasReady) dimLine(end.message, end.kind !== 'retrying');
    if (gatewayCredential && tokenField) {
      // Never retried: the form (with the Access token field) is the way on.
      if (end.code === 'BRIDGE_AUTH_INVALID') tokens.forget();
      ui.setMode('form');
      ui.notice({ error: end.message });
      form?.askToken();
      return;
    }
    if (!end.hadSession) {
      ui.setMode('form');
      if (end.kind === 'user') ui.clear();
      else ui.notice({ error: end.message });
      if (end.message.startsWith('Authentication failed')) form?.focusPassword();
      return;
    }
    ui.setMode('session');
    if (end.kind === 'retrying') {
      retryAttempt = end.attempt ?? 1;
      ui.notice({ error: end.message, info: retryInfo(`reconnecting in ${end.retryInSeconds ?? 1}s`), actions: ['reconnect', 'cancel'] });
      return;
    }
    if (end.kind === 'error') ui.notice({ error: end.message, actions: ['reconnect', 'new'] });
    else ui.notice({ info: end.message, actions: ['reconnect', 'new'] });
    ui.focusAction('reconnect');
  };

  const conn = new Connection({
    size: () => view.fit(),
    sessionStart: () => {
      document.title = DEFAULT_TITLE;
      term.write('', () => term.reset());
    },
    output: (data, rendered) => term.write(data, rendered),
    banner: (text) => term.write(text.replace(/\r?\n/g, '\r\n')),
    ready: () => {
      form?.setBusy(false);
      ui.clear();
      ui.setMode('session');
      view.fit();
      term.focus();
    },
    state: (state: ConnState, text: string) => {
      status.set(state, text);
      disconnectBtn.hidden = !(state === 'connected' || state === 'reconnecting' || (state === 'connecting' && ui.mode === 'session'));
      if (state === 'reconnecting' && ui.mode === 'session') ui.info(retryInfo(text));
    },
    latency: (ms) => status.latency(ms),
    ended: onEnded,
    hostKey: (prompt, answer) => hostKeyDialog.ask(prompt, answer),
    hostKeyDone: () => hostKeyDialog.dismiss(),
    authPrompt: (prompt, answer) => promptDialog.ask(prompt, answer),
    authPromptDone: () => promptDialog.dismiss(),
  });
  const promptDialog = new AuthPromptDialog(() => conn.disconnect());
  installTestHooks({ conn, ui, view });

  term.onTitleChange((title) => {
    document.title = title.trim() === '' ? DEFAULT_TITLE : title;
  });
  term.onResize(({ cols, rows }) => conn.resize(cols, rows));

  const search = setupSearch(view, () => theme);
  const setFont = (px: number): void => {
    fontSize = clampFont(px);
    view.setFontSize(fontSize);
    saveFontSize(fontSize);
  };
  const setTheme = (next: ThemeName, remember: boolean): void => {
    theme = next;
    document.documentElement.dataset['theme'] = theme;
    view.setTheme(theme);
    if (remember) saveTheme(theme);
    const other = theme === 'dark' ? 'light' : 'dark';
    themeBtn.setAttribute('aria-label', `Switch to ${other} theme`);
    themeBtn.title = `Switch to ${other} theme`;
  };
  setTheme(theme, false);
  setupInput(view, conn, container, {
    search: () => search.open(),
    fontStep: (d) => setFont(fontSize + d),
    fontReset: () => setFont(DEFAULT_FONT),
    sessionShown: () => ui.mode === 'session',
  });

  // A mouse click on a toolbar button gives the keyboard back to the shell; keyboard users keep
  // their place (a keyboard-initiated click has detail 0).
  const backToTerminal = (ev: MouseEvent): void => {
    if (ev.detail > 0 && ui.mode === 'session' && conn.state === 'connected') term.focus();
  };
  const tool = (id: string, action: () => void): void => byId(id).addEventListener('click', (ev) => {
    action();
    backToTerminal(ev);
  });
  tool('font-down', () => setFont(fontSize - 1));
  tool('font-up', () => setFont(fontSize + 1));
  tool('theme-btn', () => setTheme(theme === 'dark' ? 'light' : 'dark', true));
  byId('search-btn').addEventListener('click', () => (search.isOpen ? search.close() : search.open()));
  disconnectBtn.addEventListener('click', () => conn.disconnect());

  ui.onAction('reconnect', () => {
    ui.notice({ info: 'Reconnecting…', actions: ['cancel'] });
    conn.reconnect();
  });
  ui.onAction('cancel', () => conn.disconnect());
  ui.onAction('new', () => {
    search.close();
    ui.clear();
    ui.setMode('form');
    document.title = DEFAULT_TITLE;
    form?.focusFirst();
  });

  view.fit();
  const config = await loadConfig();
  const auth = new GatewayAuth(config.auth, tokens);
  gateway = auth;
  if (fragmentToken !== null && auth.required) tokens.set(fragmentToken);
  conn.useTickets(auth.required ? (target, signal) => auth.ticket(target, signal) : null);
  new RecordingsView({ enabled: config.recordings, tokens, usesToken: auth.usesToken });
  form = setupForm(
    config,
    (target: Target, creds: Credentials) => {
      const label = targetLabel(target);
      status.target(`${creds.username}@${label}`);
      ui.notice({ info: `Connecting to ${label}…`, actions: ['cancel'] });
      form?.setBusy(true);
      view.fit();
      conn.start(target, creds);
    },
    (message) => ui.notice({ error: message }),
    auth,
  );
  ui.reveal();
  form.focusFirst();
}

main().catch((err: unknown) => {
  console.error('webssh-bridge page failed to start', err);
});
