/**
 * The page as a viewer (a `#share=` link, see viewer.ts): no login form, a read-only terminal at
 * the owner's size, the status "Viewing alice@host:22 (read only)", every ending as a sentence
 * (viewer-ending.ts) that says whether the owner's session still runs, with Rejoin where trying
 * again can help and "Open the gateway" (the gateway's own page, without the link) where watching
 * this link is over. A link that is broken or dead before anything was shown gets a page of its
 * own (the card, headed "This shared session is not available", with the reason), not an empty
 * terminal. With gateway authentication by token and no token in this tab, a small form asks for
 * one ("Access token to watch"); a refused token asks again.
 */
import type { PageConfig } from './config.js';
import { byId } from './dom.js';
import { validToken, type GatewayAuth } from './gateway-auth.js';
import type { OutputRecorder } from './hooks.js';
import type { StatusLine } from './status.js';
import { gatewayHome, type ShareLink } from './share-link.js';
import { targetLabel } from './target.js';
import type { TermView } from './terminal.js';
import type { NoticeAction, Ui } from './ui.js';
import type { ViewerEnd } from './viewer-ending.js';
import { ViewerConnection } from './viewer.js';

/** The heading of a viewer page whose link cannot be watched. */
export const UNAVAILABLE_TITLE = 'This shared session is not available';

export interface ViewerPageDeps {
  readonly link: ShareLink;
  readonly config: PageConfig;
  readonly auth: GatewayAuth;
  readonly view: TermView;
  readonly ui: Ui;
  readonly status: StatusLine;
  /** The test hooks' output recorder (test build only). */
  readonly recorder: OutputRecorder | null;
  readonly stopButton: HTMLButtonElement;
  /** A dim note in the terminal, on a line of its own. */
  note(text: string): void;
}

/** Set the page up as a viewer and start watching; null when the link cannot be used. */
export function startViewer(deps: ViewerPageDeps): ViewerConnection | null {
  const { link, config, auth, view, ui, status } = deps;
  const { term } = view;
  term.options.disableStdin = true;
  byId('app').dataset['viewer'] = 'true';
  byId('connect-title').textContent = 'Watch a shared session';
  byId('connect-form').hidden = true;
  byId('fixed-target').hidden = true;
  deps.stopButton.textContent = 'Stop watching';
  const joinForm = byId('share-join', HTMLFormElement);
  const tokenInput = byId('share-token', HTMLInputElement);
  byId('open-gateway', HTMLAnchorElement).href = gatewayHome(window.location.href);

  // Nothing to watch: the reason on a page of its own, and the way to the gateway.
  const unavailable = (reason: string): void => {
    byId('connect-title').textContent = UNAVAILABLE_TITLE;
    joinForm.hidden = true;
    status.set('closed', 'not watching');
    ui.setMode('form');
    ui.notice({ error: reason, info: 'You can open the gateway to start a session of your own.', actions: ['gateway'] });
    ui.focusAction('gateway');
  };

  const target = link.target ?? config.fixedTarget;
  if (link.token === '' || target === null) {
    unavailable('This share link is broken or incomplete; ask its owner to send it again.');
    return null;
  }
  const label = targetLabel(target);
  status.target(`Viewing ${label} (read only)`);

  const askToken = (error: string | null): void => {
    ui.setMode('form');
    joinForm.hidden = false;
    ui.notice(error === null ? { info: `Someone shared a session on ${label} with you. This gateway asks for an access token, also to watch.` } : { error });
    if (error !== null) tokenInput.setAttribute('aria-invalid', 'true');
    tokenInput.focus();
  };

  const ended = (end: ViewerEnd): void => {
    if (end.kind === 'credential') {
      if (auth.usesToken) {
        if (end.code === 'BRIDGE_AUTH_INVALID') auth.tokens.forget();
        askToken(end.message);
        return;
      }
      ui.setMode('session');
      ui.notice({ error: 'The gateway did not recognize your sign-in; reload the page to sign in again.' });
      return;
    }
    if (!end.wasViewing && end.gateway) {
      unavailable(end.message);
      return;
    }
    if (end.wasViewing) deps.note(end.message);
    ui.setMode('session');
    const actions: NoticeAction[] = [];
    if (end.rejoin) actions.push('rejoin');
    if (end.gateway) actions.push('gateway');
    if (end.kind === 'exit' || end.kind === 'user' || end.sessionRunning === true) ui.notice({ info: end.message, actions });
    else ui.notice({ error: end.message, actions });
    ui.focusAction(actions[0] ?? 'rejoin');
  };

  const viewer = new ViewerConnection({ token: link.token, target }, {
    viewing: (info) => {
      const who = `${info.username === '' ? '' : `${info.username}@`}${info.target === '' ? label : info.target}`;
      status.target(`Viewing ${who} (read only)`);
      ui.clear();
      ui.setMode('session');
      // After anything still queued (an earlier join's output): a clean screen at the owner's size.
      term.write('', () => {
        term.reset();
        view.lockSize({ cols: info.cols, rows: info.rows });
      });
    },
    output: (bytes) => {
      deps.recorder?.push(bytes);
      term.write(bytes);
    },
    resize: (cols, rows) => term.write('', () => view.lockSize({ cols, rows })),
    state: (state, text) => {
      status.set(state, text);
      deps.stopButton.hidden = !(state === 'connected' || state === 'connecting');
    },
    ended,
  });
  viewer.useTickets(auth.required ? (t, signal) => auth.ticket(t, signal) : null);

  joinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const typed = tokenInput.value.trim();
    if (!validToken(typed)) {
      tokenInput.setAttribute('aria-invalid', 'true');
      tokenInput.focus();
      ui.notice({ error: typed === '' ? 'Enter the access token.' : 'The access token contains spaces or characters a token cannot have; paste it again.' });
      return;
    }
    auth.tokens.set(typed);
    tokenInput.value = '';
    tokenInput.removeAttribute('aria-invalid');
    joinForm.hidden = true;
    ui.setMode('session');
    ui.notice({ info: `Joining the shared session on ${label}…` });
    viewer.join();
  });
  tokenInput.addEventListener('input', () => tokenInput.removeAttribute('aria-invalid'));
  ui.onAction('rejoin', () => {
    ui.notice({ info: 'Rejoining…' });
    viewer.join();
  });
  deps.stopButton.addEventListener('click', () => viewer.leave());

  if (auth.usesToken && !auth.tokens.has) {
    askToken(null);
  } else {
    ui.setMode('session');
    ui.notice({ info: `Joining the shared session on ${label}…` });
    viewer.join();
  }
  return viewer;
}
