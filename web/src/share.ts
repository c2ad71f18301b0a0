/**
 * The owner's side of view-only sharing (docs/protocol.md#sharing): the toolbar's Share button,
 * the share panel (the view link, Copy, the expiry, Stop sharing) and the "N watching" indicator
 * with the list of viewers (identity, address, since when).
 *
 * Share sends `share` with the owner's screen (serialized once xterm.js has parsed everything it
 * was given, without history; left out when over 48 KiB) so the first viewer sees what the owner
 * sees. The link is `<this page's origin and path>#share=<token>&target=<host>:<port>`
 * (share-link.ts): the token stays in the fragment, which browsers never send to a server, and the
 * page's own query (the owner's `?host=…&user=…`) stays out. A toast tells the owner who joins
 * (watchers.ts). Stop sharing sends
 * `share-revoke` without a link id (every link of the session ends, its viewers are cut). The
 * panel forgets an expired link by itself; everything is cleared when the session ends.
 */
import { copyText } from './clipboard.js';
import { byId } from './dom.js';
import type { ShareGrant, ViewerEntry } from './messages.js';
import { viewLink } from './share-link.js';
import type { Target } from './target.js';
import type { Toast } from './toast.js';
import { joinedSentence, joinedViewers, viewerName } from './watchers.js';

/** Largest `snapshot` the bridge takes (src/protocol/v1.ts MAX_SNAPSHOT_BYTES). */
export const MAX_SNAPSHOT_BYTES = 48 * 1024;
/** A v1 text frame's limit; the JSON escapes of control characters count against it. */
const MAX_TEXT_FRAME_BYTES = 64 * 1024;

/** The serialized screen as `share` may carry it, or null when it is too large (no snapshot then). */
export function snapshotFor(serialized: string): string | null {
  const encoder = new TextEncoder();
  if (serialized === '' || encoder.encode(serialized).length > MAX_SNAPSHOT_BYTES) return null;
  // Every ESC becomes `\u001b` (6 bytes) in JSON: the whole message must still fit one frame.
  if (encoder.encode(JSON.stringify({ type: 'share', snapshot: serialized })).length > MAX_TEXT_FRAME_BYTES - 1024) return null;
  return serialized;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function sinceText(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : new Date(t).toLocaleTimeString();
}

function refusalSentence(code: string, message: string): string {
  if (code === 'SHARE_DISABLED') return 'Sharing is turned off on this gateway.';
  return `The gateway did not make a link${message === '' ? '' : `: ${message}`}.`;
}

export interface ShareDeps {
  /** Serialize the screen (once pending output is parsed) and send `share`; call `sent(false)` when no session is live. */
  request(sent: (ok: boolean) => void): void;
  /** Send `share-revoke` (every link of the session). */
  revoke(): boolean;
  /** The session's route (the link names it). */
  target(): Target | null;
  /** The page's one toast (who joined). */
  readonly toast: Toast;
}

export class ShareControl {
  readonly #deps: ShareDeps;
  readonly #button = byId('share-btn', HTMLButtonElement);
  readonly #panel = byId('share-panel');
  readonly #linkRow = byId('share-link-row');
  readonly #link = byId('share-link', HTMLInputElement);
  readonly #copy = byId('share-copy', HTMLButtonElement);
  readonly #expiry = byId('share-expiry');
  readonly #message = byId('share-message');
  readonly #stop = byId('share-stop', HTMLButtonElement);
  readonly #watchers = byId('watchers-btn', HTMLButtonElement);
  readonly #watchersLabel = byId('watchers-count');
  readonly #watchersPanel = byId('watchers-panel');
  readonly #watchersList = byId('watchers-list', HTMLUListElement);
  readonly #watchersEmpty = byId('watchers-empty');
  #grant: ShareGrant | null = null;
  #url: string | null = null;
  #pending = false;
  #viewers: readonly ViewerEntry[] = [];
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: ShareDeps) {
    this.#deps = deps;
    this.#button.addEventListener('click', () => this.#onShare());
    this.#copy.addEventListener('click', () => void this.#onCopy());
    this.#stop.addEventListener('click', () => this.#onStop());
    byId('share-close').addEventListener('click', () => this.#closePanel(true));
    this.#watchers.addEventListener('click', () => this.#toggleWatchers());
    for (const panel of [this.#panel, this.#watchersPanel]) {
      panel.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Escape') return;
        ev.preventDefault();
        if (panel === this.#panel) this.#closePanel(true);
        else this.#toggleWatchers(false);
      });
    }
  }

  /** The current view link, or null. */
  get link(): string | null {
    return this.#url;
  }

  get viewerCount(): number {
    return this.#viewers.length;
  }

  /** `shown`: an owner's session is on screen; `live`: `share` can be sent now. */
  setAvailable(shown: boolean, live: boolean): void {
    this.#button.hidden = !shown;
    this.#button.disabled = !live;
    this.#button.title = live ? 'Share this session, view only' : 'Sharing needs a connected session';
  }

  shared(grant: ShareGrant): void {
    const target = this.#deps.target();
    this.#pending = false;
    if (target === null) return;
    this.#grant = grant;
    this.#url = viewLink(grant.token, target, window.location.href);
    this.#link.value = this.#url;
    this.#linkRow.hidden = false;
    this.#stop.hidden = false;
    const minutes = Math.max(0, Math.round((grant.expiresAt - Date.now()) / 60_000));
    this.#expiry.textContent = `The link works until ${clock(grant.expiresAt)} (${minutes} min from now), unless you stop sharing.`;
    this.#expiry.hidden = false;
    this.#say('');
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => this.#expired(), Math.min(Math.max(0, grant.expiresAt - Date.now()), 2 ** 31 - 1));
    this.#openPanel();
    this.#link.focus();
    this.#link.select();
    this.#syncWatchers();
  }

  refused(code: string, message: string): void {
    this.#pending = false;
    this.#say(refusalSentence(code, message));
    this.#openPanel();
  }

  viewers(list: readonly ViewerEntry[]): void {
    const joined = joinedSentence(joinedViewers(this.#viewers, list));
    if (joined !== null) this.#deps.toast.show(joined);
    this.#viewers = [...list];
    this.#watchersList.replaceChildren(...this.#viewers.map((v) => {
      const li = document.createElement('li');
      const who = document.createElement('strong');
      who.textContent = v.subject === '' ? 'anonymous' : v.subject;
      const where = document.createElement('span');
      where.textContent = `${v.clientIp === '' ? 'unknown address' : v.clientIp}${sinceText(v.since) === '' ? '' : `, since ${sinceText(v.since)}`}`;
      li.append(who, ' ', where);
      return li;
    }));
    this.#syncWatchers();
  }

  /**
   * The session is back on a new socket: links and viewers live on at the bridge, but an answer
   * to a `share` sent just before the drop may have been lost, so Share may be clicked again.
   */
  resumed(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#say('The connection dropped while the link was being made; click Share to try again.');
  }

  /** The session ended (or a new one replaced it): no link, no viewers, panels closed. */
  reset(): void {
    this.#pending = false;
    this.#forgetLink();
    this.#viewers = [];
    this.#watchersList.replaceChildren();
    this.#deps.toast.dispose();
    this.#say('');
    this.#closePanel(false);
    this.#toggleWatchers(false);
    this.#syncWatchers();
  }

  #onShare(): void {
    if (!this.#panel.hidden) {
      this.#closePanel(false);
      return;
    }
    if (this.#grant !== null || this.#pending) {
      this.#openPanel();
      // Into the panel, which comes after the terminal (that keeps Tab) in the page's order.
      (this.#grant !== null ? this.#link : byId('share-close')).focus();
      return;
    }
    this.#pending = true;
    this.#say('Making a view link…');
    this.#openPanel();
    byId('share-close').focus();
    this.#deps.request((ok) => {
      if (ok) return;
      this.#pending = false;
      this.#say('Sharing needs a connected session.');
    });
  }

  async #onCopy(): Promise<void> {
    const url = this.#url;
    if (url === null) return;
    if (await copyText(url)) {
      this.#say('Link copied.');
    } else {
      this.#link.focus();
      this.#link.select();
      this.#say('The browser would not copy: the link is selected, press Ctrl+C (Cmd+C).');
    }
  }

  #onStop(): void {
    this.#deps.revoke();
    this.#forgetLink();
    this.#say('Sharing stopped: the link no longer works and its viewers were disconnected.');
    this.#syncWatchers();
    byId('share-close').focus();
  }

  #expired(): void {
    this.#expiryTimer = undefined;
    if (this.#grant === null) return;
    this.#forgetLink();
    this.#say('The view link expired.');
    this.#syncWatchers();
  }

  #forgetLink(): void {
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#grant = null;
    this.#url = null;
    this.#link.value = '';
    this.#linkRow.hidden = true;
    this.#expiry.hidden = true;
    this.#expiry.textContent = '';
    this.#stop.hidden = true;
  }

  #say(text: string): void {
    this.#message.textContent = text;
  }

  #openPanel(): void {
    this.#toggleWatchers(false);
    this.#panel.hidden = false;
    this.#button.setAttribute('aria-expanded', 'true');
  }

  #closePanel(returnFocus: boolean): void {
    const hadFocus = this.#panel.contains(document.activeElement);
    this.#panel.hidden = true;
    this.#button.setAttribute('aria-expanded', 'false');
    if (returnFocus && hadFocus && !this.#button.hidden) this.#button.focus();
  }

  #toggleWatchers(open = this.#watchersPanel.hidden): void {
    if (open) this.#closePanel(false);
    this.#watchersPanel.hidden = !open;
    this.#watchers.setAttribute('aria-expanded', String(open));
  }

  #syncWatchers(): void {
    const n = this.#viewers.length;
    this.#watchers.hidden = this.#grant === null && n === 0;
    if (this.#watchers.hidden) this.#toggleWatchers(false);
    this.#watchersLabel.textContent = `${n} watching`;
    this.#watchers.title = n === 0 ? 'Nobody is watching' : this.#viewers.map(viewerName).join('\n');
    this.#watchersEmpty.hidden = n > 0;
    this.#watchers.dataset['count'] = String(n);
  }
}
