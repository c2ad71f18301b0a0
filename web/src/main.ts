/**
 * Wiring: preferences, terminal, connection, form, notice, toolbar (folding into its More menu
 * when narrow), the extra-keys bar, test hooks (in the test build only), the resume record (a
 * reload or a reopened tab picks the session up again: the screen is restored, then resumed, and
 * leaving a live session asks first) and sharing (the owner's Share button; a page opened with
 * `#share=` is a read-only viewer instead).
 */
import { setupInput } from './clipboard.js';
import { loadConfig } from './config.js';
import { MAX_RETRIES } from './backoff.js';
import { Connection } from './connection.js';
import { byId } from './dom.js';
import { loginWaitText, setupForm, type ConnectForm } from './form.js';
import { clampFont, DEFAULT_FONT, loadPrefs, saveFontSize, saveTheme, type ThemeName } from './prefs.js';
import { setupSearch } from './search.js';
import { StatusLine, type ConnState } from './status.js';
import { stripBrackets, targetLabel, type Credentials, type Target } from './target.js';
import { createTerminal } from './terminal.js';
import { Ui, type NoticeAction } from './ui.js';
import { installTestHooks, OutputRecorder } from './hooks.js';
import { KEEP_INTERVAL_MS, ResumeKeeper, ResumeStore } from './resume.js';
import { HostKeyDialog } from './hostkey.js';
import { AuthPromptDialog } from './prompt.js';
import { GatewayAuth, isCredentialProblem, takeFragmentToken, TokenStore } from './gateway-auth.js';
import { RecordingsView } from './recordings.js';
import { ShareControl, snapshotFor } from './share.js';
import type { SessionEnd } from './reconnect-rules.js';
import { readShareLink } from './share-link.js';
import type { ViewerConnection } from './viewer.js';
import { startViewer } from './viewer-page.js';
import { IdleBanner } from './idle-banner.js';
import { KeyBar } from './keybar.js';
import { ToolbarOverflow } from './overflow.js';
import { ConfirmDialog } from './confirm.js';
import { resumedText, resumingText } from './leave-guard.js';
import { Toast } from './toast.js';
import { SettingsPanel } from './settings.js';
import { bufferText, logFileName } from './session-log.js';
import { downloadText } from './download.js';
import { FramePane, type PaneReporter } from './frame-pane.js';
import { paneParam } from './pane-link.js';
import { setupPane } from './pane-setup.js';
import { SessionClaims } from './session-claims.js';
import { FilesPanel } from './files-panel.js';

const DEFAULT_TITLE = 'webssh-bridge';

async function main(): Promise<void> {
  // First of all: a `#token=` from a portal leaves the address bar (and history) right away.
  const fragmentToken = takeFragmentToken();
  // A view link (`#share=`): this page watches someone else's session, read only.
  const shareLink = readShareLink(window.location.hash);
  const viewerMode = shareLink !== null;
  // One of several sessions of a page (workspace.ts): the same page in a frame, `?pane=N`.
  const framePane = !viewerMode && FramePane.inFrame() ? paneParam(window.location.search) : null;
  let viewer: ViewerConnection | null = null;
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
  const view = createTerminal(container, prefs);
  const { term } = view;
  const disconnectBtn = byId('disconnect-btn', HTMLButtonElement);
  const themeBtn = byId('theme-btn', HTMLButtonElement);
  /** The tab of this session (when this page is part of a workspace): set once the host exists. */
  let reporter: PaneReporter | null = null;
  /** A session would be left behind: connected, or being resumed. */
  const liveNow = (): boolean => conn.state === 'connected' || conn.resumeState() !== null;
  /** A question for the user is up until `answer` runs (the tab says so). */
  const asked = <T extends unknown[]>(answer: (...a: T) => void): ((...a: T) => void) => {
    reporter?.set({ ask: true });
    return (...a) => {
      reporter?.set({ ask: false });
      answer(...a);
    };
  };
  const answered = (dismiss: () => void): void => {
    reporter?.set({ ask: false });
    dismiss();
  };
  const setTitle = (title: string): void => {
    reporter?.set({ title });
    if (reporter === null) document.title = title === '' ? DEFAULT_TITLE : title;
  };
  const idleBanner = new IdleBanner(() => {
    conn.control({ type: 'presence' });
    term.focus();
  });
  let form: ConnectForm | null = null;
  const toast = new Toast(byId('toast'));
  const confirmDialog = new ConfirmDialog();
  // The toolbar in its order; higher priorities stay out of the More menu longer.
  new ToolbarOverflow(([
    ['recordings-link', 10], ['files-btn', 65], ['watchers-btn', 60], ['share-btn', 90], ['disconnect-btn', 100], ['new-btn', 80], ['search-btn', 50],
    ['font-down', 20], ['font-up', 20], ['theme-btn', 70], ['settings-btn', 40], ['log-btn', 30],
  ] as const).map(([id, priority]) => ({ el: byId(id), priority })));
  const keyBar = viewerMode ? null : new KeyBar(term);
  /** `user@host:port` of the current (or last) session: the status line, the log's file name, Disconnect's question. */
  let who = '';
  /** The login's method while the form waits for it (what "Checking … with" names). */
  let waiting: Credentials['method'] | null = null;
  /** A session restored from the tab's resume record is being resumed (a reload or a reopened tab) until `deadline`. */
  let restoring: { readonly deadline: number } | null = null;

  // A dim note in the terminal, on a line of its own (decided after pending output is parsed). A
  // full-screen program's screen (vim, less, top: the alternate buffer) is left first, so the note
  // is not written over it: the shell's own screen is where a session's last words belong.
  const dimLine = (text: string, hideCursor: boolean): void => term.write('', () => {
    const leave = term.buffer.active.type === 'alternate' ? '\x1b[?1049l' : '';
    term.write(leave, () => {
      const lead = term.buffer.active.cursorX === 0 ? '' : '\r\n';
      term.write(`\x1b[0m${lead}\x1b[2m${text.replace(/\n/g, '\r\n')}\x1b[0m\r\n${hideCursor ? '\x1b[?25l' : ''}`);
    });
  });

  // The same line for a note after a reset (the cursor is at the start of an empty screen).
  const resetWithNote = (note: string | null): void => {
    term.write('', () => term.reset());
    if (note !== null) term.write(`\x1b[2m${note}\x1b[0m\r\n`);
  };

  // "reconnecting in 4s" -> "Reconnecting in 4 s (attempt 3 of 5)…" for the notice; while a
  // dropped session is being resumed there is no attempt budget, only the bridge's grace period.
  let retryAttempt = 1;
  let resuming = false;
  const retryInfo = (text: string): string => {
    // A session restored from the resume record: say whose, and how long the gateway keeps it.
    if (restoring !== null) return resumingText(who, restoring.deadline, Date.now());
    const m = /^reconnecting in (\d+)s$/.exec(text);
    if (resuming) return m === null ? 'Reconnecting… (the session keeps running on the gateway)' : `Reconnecting in ${m[1] ?? ''} s… (the session keeps running on the gateway)`;
    if (m === null) return `${text.charAt(0).toUpperCase()}${text.slice(1)}…`;
    return `Reconnecting in ${m[1] ?? ''} s (attempt ${retryAttempt} of ${MAX_RETRIES})…`;
  };

  const onEnded = (ending: SessionEnd): void => {
    form?.setBusy(false);
    waiting = null;
    if (ending.kind !== 'retrying') restoring = null;
    confirmDialog.dismiss();
    resuming = ending.kind === 'retrying' && ending.resuming === true;
    // A resumed session keeps its links and viewers; any other end takes them along.
    if (!resuming) share.reset();
    const gatewayCredential = ending.kind === 'error' && isCredentialProblem(ending.code);
    const tokenField = gateway?.usesToken === true;
    // Proxy / mTLS: nothing to type here, the sign-in happens in front of the gateway.
    const end: SessionEnd = gatewayCredential && !tokenField
      ? { ...ending, message: 'The gateway did not recognize your sign-in; reload the page to sign in again.' }
      : ending;
    // While resuming, the terminal only ever gets the session's own bytes.
    if (end.wasReady && !resuming) dimLine(end.message, end.kind !== 'retrying');
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
      if (end.code === 'SSH_AUTH_FAILED') form?.focusPassword();
      return;
    }
    ui.setMode('session');
    if (resuming) {
      ui.notice({ error: end.message, info: retryInfo('reconnecting…'), actions: ['reconnect', 'cancel'] });
      return;
    }
    if (end.kind === 'retrying') {
      retryAttempt = end.attempt ?? 1;
      ui.notice({ error: end.message, info: retryInfo(`reconnecting in ${end.retryInSeconds ?? 1}s`), actions: ['reconnect', 'cancel'] });
      return;
    }
    // Taken over by another tab: never reconnect from here. After a reload there are no
    // credentials in memory: New session brings the (pre-filled) form back.
    const actions: NoticeAction[] = end.code === 'SESSION_TAKEN_OVER' || !conn.canReconnect ? ['new'] : ['reconnect', 'new'];
    if (end.kind === 'error') ui.notice({ error: end.message, actions });
    else ui.notice({ info: end.message, actions });
    ui.focusAction(actions[0] ?? 'new');
  };

  const conn = new Connection({
    size: () => view.fit(),
    sessionStart: (note) => {
      setTitle('');
      share.reset();
      files?.reset();
      resetWithNote(note);
    },
    output: (data, rendered) => {
      recorder?.push(data);
      term.write(data, rendered);
      keeper.soon();
    },
    mark: (done) => term.write('', done),
    lostOutput: (lost) => resetWithNote(`${lost} bytes of output were lost while the connection was down; the screen starts over here.`),
    lostInput: (bytes) => term.write(`\r\n\x1b[2m${bytes} bytes typed while the connection was down could not be sent.\x1b[0m\r\n`),
    banner: (text) => term.write(text.replace(/\r?\n/g, '\r\n')),
    resumeChanged: () => {
      keeper.changed();
      reporter?.set({ live: liveNow() });
    },
    ready: (kind) => {
      if (kind !== 'resumed') form?.loggedIn();
      if (kind === 'resumed') share.resumed();
      if (restoring !== null) toast.show(resumedText(who), 8000);
      restoring = null;
      resuming = false;
      waiting = null;
      form?.setBusy(false);
      ui.clear();
      ui.setMode('session');
      view.fit();
      term.focus();
    },
    state: (state: ConnState, text: string) => {
      status.set(state, text);
      reporter?.set({ state, live: liveNow(), label: who === '' ? 'New session' : who });
      disconnectBtn.hidden = !(state === 'connected' || state === 'reconnecting' || (state === 'connecting' && ui.mode === 'session'));
      share.setAvailable(state === 'connected' || state === 'reconnecting', conn.live);
      files?.setAvailable(state === 'connected');
      if (state === 'reconnecting' && ui.mode === 'session') ui.info(retryInfo(text));
      if (text === 'logging in' && ui.mode === 'form' && waiting !== null) ui.info(loginWaitText(waiting, targetLabel(conn.target ?? { host: '', port: 22 })));
    },
    latency: (ms) => status.latency(ms),
    idle: (closesInMs) => {
      idleBanner.update(closesInMs);
      reporter?.set({ warn: closesInMs !== null });
    },
    ended: (ending) => {
      idleBanner.hide();
      onEnded(ending);
    },
    hostKey: (prompt, answer) => hostKeyDialog.ask(prompt, asked(answer)),
    hostKeyDone: () => answered(() => hostKeyDialog.dismiss()),
    authPrompt: (prompt, answer) => promptDialog.ask(prompt, asked(answer)),
    authPromptDone: () => answered(() => promptDialog.dismiss()),
    shared: (grant) => share.shared(grant),
    shareRefused: (code, message) => share.refused(code, message),
    viewers: (list) => share.viewers(list),
    other: (m) => files?.received(m),
  });
  const share = new ShareControl({
    // The screen as the owner sees it once everything received so far is parsed, without history.
    request: (sent) => term.write('', () => {
      const snapshot = snapshotFor(view.serialize(0));
      sent(conn.control(snapshot === null ? { type: 'share' } : { type: 'share', snapshot }));
    }),
    revoke: () => conn.control({ type: 'share-revoke' }),
    target: () => conn.target,
    toast,
  });
  const promptDialog = new AuthPromptDialog(() => conn.disconnect());
  // The owner's Files panel (never a viewer's): requests go over this session's own socket.
  const files = viewerMode ? null : new FilesPanel({ ask: () => conn.control({ type: 'files' }), confirm: (spec) => confirmDialog.ask(spec), closed: () => term.focus(), terminal: container });
  // Test build only (build-flags.d.ts): the production bundle has neither recorder nor hooks.
  const recorder = __UWSB_TEST_HOOKS__ ? new OutputRecorder() : null;
  const store = new ResumeStore(framePane ?? 0);
  const keeper = new ResumeKeeper(store, conn, view);
  if (__UWSB_TEST_HOOKS__ && recorder !== null) installTestHooks({ conn, ui, view, recorder, share, isViewer: viewerMode, viewer: () => viewer });

  term.onTitleChange((title) => setTitle(title.trim()));
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
    readOnly: () => viewerMode,
    filter: (data) => keyBar?.filter(data) ?? data,
    copied: (ok) => toast.show(ok ? 'Copied to the clipboard.' : 'The browser did not allow copying to the clipboard here.', 2500),
    copyOnSelect: () => !search.isOpen,
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
  tool('log-btn', () => downloadText(logFileName(who, new Date()), bufferText(term.buffer.normal)));
  byId('search-btn').addEventListener('click', () => (search.isOpen ? search.close() : search.open()));
  // The keyboard goes back where it was: the terminal in a session, else the form.
  const refocus = (): void => {
    if (ui.mode === 'session') term.focus();
    else form?.focusFirst();
  };
  new SettingsPanel(prefs, (look) => view.setLook(look), refocus);
  // A live session asks before it ends: Enter confirms, Escape cancels.
  const askDisconnect = async (): Promise<void> => {
    if (!conn.live) {
      conn.disconnect();
      return;
    }
    const yes = await confirmDialog.ask({ title: 'Disconnect?', text: `This ends the session with ${who} and whatever runs in it.`, action: 'Disconnect' });
    if (yes && conn.state !== 'closed') conn.disconnect();
    else if (!yes) refocus();
  };
  if (!viewerMode) disconnectBtn.addEventListener('click', () => void askDisconnect());
  // Several sessions in one page: this page holds the tabs, or is one of their frames.
  const panes = setupPane({
    viewerMode, framePane, confirm: confirmDialog, toast, defaultTitle: DEFAULT_TITLE, live: liveNow, reuse: () => showForm(),
    focus: refocus,
    end: async () => {
      if (conn.state !== 'idle' && conn.state !== 'closed') conn.disconnect();
      await conn.socketClosed();
    },
  });
  reporter = panes.reporter;

  ui.onAction('reconnect', () => {
    ui.notice({ info: 'Reconnecting…', actions: ['cancel'] });
    conn.reconnect();
  });
  ui.onAction('cancel', () => conn.disconnect());
  function showForm(): void {
    search.close();
    ui.clear();
    ui.setMode('form');
    who = '';
    setTitle('');
    reporter?.set({ label: 'New session' });
    form?.focusFirst();
  }
  ui.onAction('new', showForm);

  view.fit();
  const config = await loadConfig();
  const auth = new GatewayAuth(config.auth, tokens);
  gateway = auth;
  if (fragmentToken !== null && auth.required) tokens.set(fragmentToken);
  conn.useTickets(auth.required ? (target, signal) => auth.ticket(target, signal) : null);
  // No Files tool (button, Alt+Shift+F) on a gateway with file transfer off.
  files?.setEnabled(config.files);
  new RecordingsView({ enabled: config.recordings, tokens, usesToken: auth.usesToken, sessionShown: () => ui.mode === 'session' });
  // Back from the recordings view (after it has routed: the terminal is shown again), the
  // keyboard goes back to the terminal, or to the form.
  window.addEventListener('hashchange', () => {
    if (window.location.hash !== '#recordings') refocus();
  });
  form = setupForm(
    config,
    (target: Target, creds: Credentials) => {
      const label = targetLabel(target);
      who = `${creds.username}@${label}`;
      waiting = creds.method;
      status.target(who);
      ui.notice({ info: `Connecting to ${label}…`, actions: ['cancel'] });
      form?.setBusy(true);
      view.fit();
      conn.start(target, creds);
    },
    (message) => ui.notice({ error: message }),
    auth,
    (spec) => confirmDialog.ask(spec),
  );

  if (shareLink !== null) {
    viewer = startViewer({
      link: shareLink, config, auth, view, ui, status, recorder, stopButton: disconnectBtn,
      note: (text) => dimLine(text, true),
    });
    ui.reveal();
    return;
  }

  // A session of this tab that survived a reload (or a restored / duplicated tab): show its
  // screen and resume it, without the form. Gateway auth by token needs the stored token.
  // A duplicated browser tab has a copy of the record while the original still uses the session:
  // it starts a login of its own (pre-filled) instead of taking the session over.
  const claims = new SessionClaims(() => (liveNow() ? conn.resumeState()?.sessionId ?? null : null));
  const stored = store.load();
  if (stored !== null) {
    const { record, screen } = stored;
    const fixed = config.fixedTarget;
    const sameTarget = fixed === null || (stripBrackets(fixed.host) === stripBrackets(record.target.host) && fixed.port === record.target.port);
    const copy = await claims.heldElsewhere(record.sessionId);
    if (copy) {
      store.clear();
      form.prefill(record.target, record.username);
      ui.notice({ info: `This tab is a copy of one that still has the session with ${record.username}@${targetLabel(record.target)}: log in to start a session of its own.` });
    } else if (sameTarget && (!auth.usesToken || tokens.has)) {
      form.prefill(record.target, record.username);
      who = `${record.username}@${targetLabel(record.target)}`;
      status.target(who);
      ui.setMode('session');
      resuming = true;
      restoring = { deadline: record.aliveAt + record.graceMs };
      ui.notice({ info: retryInfo('reconnecting…'), actions: ['cancel'] });
      term.resize(record.cols, record.rows);
      if (screen !== '') term.write(screen);
      term.write('', () => view.fit());
      conn.resumeFrom({
        token: record.token, sessionId: record.sessionId, graceMs: record.graceMs, target: record.target,
        username: record.username, position: record.position, since: record.aliveAt,
      });
    } else {
      store.clear();
    }
  }
  // Keep the record current: on pagehide (reload, navigation, closing the tab), when the tab is
  // hidden, and now and then while output arrives.
  window.addEventListener('pagehide', () => keeper.save());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') keeper.save();
  });
  setInterval(() => keeper.tick(), KEEP_INTERVAL_MS);
  panes.workspace?.restore();
  ui.reveal();
  if (restoring === null) form.focusFirst();
}

main().catch((err: unknown) => {
  console.error('webssh-bridge page failed to start', err);
});
