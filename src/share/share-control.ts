/**
 * The owner's side of sharing (docs/protocol.md#sharing): turns the owner's `share` and
 * `share-revoke` into links, answers with `shared` or `share-refused` (a refusal never ends the
 * session), and makes the session's ShareHub on the first link, subscribing it to the session's
 * output through the tap it is given. Viewers join through `viewerRefusal` / `addViewer`.
 */
import type { WebSocket } from 'ws';
import { errorMessage, type ErrorCode } from '../errors.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { ServerControl } from '../protocol/types.js';
import { MAX_LINKS, ShareHub, type ShareHubInit } from './share-hub.js';

export interface ShareControlInit {
  readonly sessionId: string;
  readonly owner: ShareHubInit['owner'];
  readonly keyring: ShareHubInit['keyring'];
  readonly config: ShareHubInit['config'] & Pick<Config, 'shareTtlMs'>;
  readonly logger: Logger;
  /** Tell the owner's client (its current socket). */
  readonly send: (msg: ServerControl) => void;
  /** Subscribe to the session's output, in the order the owner gets it (Pump.tap). */
  readonly tap: (fn: (chunk: Buffer) => void) => () => void;
}

export class ShareControl {
  readonly #init: ShareControlInit;
  #hub: ShareHub | null = null;

  constructor(init: ShareControlInit) {
    this.#init = init;
  }

  /** The owner asked for a link (`ttlMs` capped by share-ttl); `about` and `size` seed a new hub. */
  link(ttlMs: number | undefined, snapshot: string | undefined, about: ShareHubInit['about'], size: { readonly cols: number; readonly rows: number }): void {
    const { config, send } = this.#init;
    if (config.shareTtlMs === 0) {
      send({ type: 'share-refused', code: 'SHARE_DISABLED', message: errorMessage('SHARE_DISABLED') });
      return;
    }
    if (this.#hub !== null && !this.#hub.canCreateLink) {
      send({ type: 'share-refused', code: 'SHARE_LINKS_FULL', message: errorMessage('SHARE_LINKS_FULL', `at most ${MAX_LINKS}`) });
      return;
    }
    let hub = this.#hub;
    if (hub === null) {
      const made = new ShareHub({
        sessionId: this.#init.sessionId, owner: this.#init.owner, keyring: this.#init.keyring, config, logger: this.#init.logger,
        cols: size.cols, rows: size.rows, about,
        onViewers: (viewers) => send({ type: 'viewers', viewers }),
      });
      this.#init.tap((chunk) => made.output(chunk));
      this.#hub = hub = made;
    }
    const link = hub.createLink(Math.min(ttlMs ?? config.shareTtlMs, config.shareTtlMs), snapshot);
    send({ type: 'shared', linkId: link.linkId, token: link.token, expiresAt: new Date(link.expiresAt).toISOString(), mode: 'view' });
  }

  revoke(linkId: string | undefined): void {
    this.#hub?.revoke(linkId);
  }

  resize(cols: number, rows: number): void {
    this.#hub?.resize(cols, rows);
  }

  /** After a resume: the new socket hears who watches now (viewers may have come or gone meanwhile). */
  tellViewers(): void {
    if (this.#hub?.active === true) this.#init.send({ type: 'viewers', viewers: this.#hub.viewers() });
  }

  get viewerCount(): number {
    return this.#hub?.viewerCount ?? 0;
  }

  /** Why a viewer of link `linkId` cannot join (the session itself is live), or null. */
  refusal(linkId: string): ErrorCode | null {
    return this.#hub === null ? 'SHARE_INVALID' : this.#hub.refusal(linkId);
  }

  /** A viewer joins (refusal() said null and the caller holds its admission). */
  join(ws: WebSocket, who: { subject: string; clientIp: string }, linkId: string, release: () => void): boolean {
    const hub = this.#hub;
    if (hub === null || hub.refusal(linkId) !== null) return false;
    hub.join(ws, who, linkId, release);
    return true;
  }

  /**
   * The session ends. Viewers hear how the shell ended, or that the session is over: never the
   * owner's own code (a 4007 or a 1012 would send a viewer page after a resume or a restart it
   * cannot do).
   */
  dispose(code: ErrorCode, exit: { readonly status: number | null; readonly signal: string | null }): void {
    if (code === 'SHELL_EXITED') this.#hub?.dispose('SHELL_EXITED', { type: 'exit', status: exit.status, signal: exit.signal });
    else this.#hub?.dispose('SHARE_REVOKED', undefined, 'session ended');
  }
}
