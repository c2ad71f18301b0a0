/**
 * One shared session's links and viewers (docs/protocol.md#sharing).
 *
 * - Links: each `share` makes a link (id, expiry, signed token). A link ends when it expires, is
 *   revoked, or the session ends; its viewers are cut then (4009 SHARE_REVOKED).
 * - Screen: output is not parsed as it flows (that would cost the owner CPU on every byte).
 *   The hub keeps a seed (at first the owner page's own serialized screen) and the raw output
 *   since it, bounded to TAIL_BYTES. A joining viewer's snapshot is made then: a headless
 *   terminal (SharedScreen) is fed the seed and the tail, serialized, and thrown away; the
 *   result becomes the new seed. If the tail overflowed since the seed, the snapshot is rebuilt
 *   from the newest TAIL_BYTES of output alone. Joins are made one at a time.
 * - Viewers: a joining viewer gets `viewing`, then the serialized screen as one binary frame, then
 *   live output. Output that arrives while its snapshot is being made is queued for it (in order).
 *   Viewers never slow the session: output is handed to each viewer's socket without waiting,
 *   and a viewer whose socket holds more than VIEWER_MAX_BUFFERED unsent bytes is dropped (4010
 *   VIEWER_TOO_SLOW). Their input is never forwarded: binary frames are dropped, `ping` is
 *   answered, anything else is ignored.
 * - The owner is told who watches (`viewers`) on every join and leave.
 *
 * Every timer (link expiry, viewer keepalive) is owned here and cleared by dispose().
 */
import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { Keyring } from '../auth/keyring.js';
import type { Config } from '../config/types.js';
import { closeReason, errorMessage, ERRORS, type ErrorCode } from '../errors.js';
import type { OwnerId } from '../grammar/owner-id.js';
import type { Logger } from '../log.js';
import type { ServerControl, ViewerSummary } from '../protocol/types.js';
import { v1Codec } from '../protocol/v1.js';
import { Keepalive } from '../transport/keepalive.js';
import { SharedScreen } from './screen.js';
import { OutputLog } from '../transport/output-log.js';
import { makeShareToken } from './share-token.js';
import { closeThenCut } from '../util/ws-close.js';

/** Live links per session at most; one more `share` is refused (SHARE_LINKS_FULL). */
export const MAX_LINKS = 16;
/** Raw output kept since the last seed, to rebuild the screen for the next viewer. */
export const TAIL_BYTES = 256 * 1024;
/** A viewer further behind than this (bytes queued on its socket) is dropped. */
export const VIEWER_MAX_BUFFERED = 1024 * 1024;

export type ViewerInfo = ViewerSummary;

interface Viewer {
  readonly info: ViewerInfo;
  readonly ws: WebSocket;
  readonly keepalive: Keepalive;
  readonly release: () => void;
  /**
   * What arrived for it while its snapshot was being made, in order (output, and resizes); null
   * once live. `queuedFrom` is the output position at its join: the snapshot may already contain
   * the first queued bytes, which are then skipped.
   */
  queue: Array<Buffer | { readonly cols: number; readonly rows: number }> | null;
  queued: number;
  readonly queuedFrom: number;
}

export interface ShareHubInit {
  readonly sessionId: string;
  readonly owner: OwnerId;
  /** Signs the links (its current `share` key at each link's making). */
  readonly keyring: Pick<Keyring, 'current'>;
  readonly config: Pick<Config, 'shareMaxViewers' | 'wsPingIntervalMs' | 'wsPongTimeoutMs'>;
  readonly logger: Logger;
  readonly cols: number;
  readonly rows: number;
  /** What the viewer's `viewing` message names (never a secret). */
  readonly about: { readonly username: string; readonly target: string };
  /** The owner is told who is watching. */
  readonly onViewers: (viewers: readonly ViewerInfo[]) => void;
}

export class ShareHub {
  readonly #init: ShareHubInit;
  readonly #links = new Map<string, { expiresAt: number; timer: NodeJS.Timeout }>();
  readonly #viewers = new Map<string, Viewer>();
  /** The screen as of output position #seedAt (null: no link yet, or the owner sent none). */
  #seed: string | null = null;
  #seedAt = 0;
  readonly #tail = new OutputLog(TAIL_BYTES);
  /** Snapshots are made one at a time (each one re-seeds). */
  #snapshots: Promise<void> = Promise.resolve();
  /** Bumped when the last link ends: a snapshot begun before must not re-seed a later share. */
  #generation = 0;
  #cols: number;
  #rows: number;
  #disposed = false;

  constructor(init: ShareHubInit) {
    this.#init = init;
    this.#cols = init.cols;
    this.#rows = init.rows;
  }

  /** True while any link is live (output must be fed to the screen). */
  get active(): boolean {
    return this.#links.size > 0;
  }

  /** Whether one more link may be made (MAX_LINKS live at most). */
  get canCreateLink(): boolean {
    return this.#links.size < MAX_LINKS;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** A new view link valid for `ttlMs`; the first one starts the screen from the owner's snapshot. */
  createLink(ttlMs: number, snapshot: string | undefined, now = Date.now()): { linkId: string; token: string; expiresAt: number } {
    const linkId = randomBytes(9).toString('base64url');
    const expiresAt = now + ttlMs;
    if (this.#links.size === 0) {
      // A fresh start: the owner's screen as it is now, and the output from here on.
      this.#seed = snapshot ?? null;
      this.#tail.release(this.#tail.end);
      this.#seedAt = this.#tail.end;
    }
    const timer = setTimeout(() => this.revoke(linkId, 'expired'), ttlMs);
    timer.unref();
    this.#links.set(linkId, { expiresAt, timer });
    const token = makeShareToken(this.#init.keyring, { owner: this.#init.owner, sessionId: this.#init.sessionId, linkId, expiresAt, mode: 'view' });
    this.#init.logger.info({ event: 'share_created', link: linkId, expires_at: new Date(expiresAt).toISOString() }, 'share link created');
    return { linkId, token, expiresAt };
  }

  /** Why a viewer of `linkId` cannot join now, or null when it can. */
  refusal(linkId: string): ErrorCode | null {
    if (this.#disposed || !this.#links.has(linkId)) return 'SHARE_INVALID';
    if (this.#viewers.size >= this.#init.config.shareMaxViewers) return 'SHARE_FULL';
    return null;
  }

  /** Session output: to the screen and to every viewer (queued for those still getting their snapshot). */
  output(chunk: Buffer): void {
    if (this.#links.size === 0) return;
    this.#tail.append(chunk);
    for (const v of this.#viewers.values()) {
      if (v.queue !== null) {
        v.queue.push(chunk);
        v.queued += chunk.length;
        if (v.queued > VIEWER_MAX_BUFFERED) this.#drop(v, 'VIEWER_TOO_SLOW');
      } else if (v.ws.bufferedAmount > VIEWER_MAX_BUFFERED) {
        this.#drop(v, 'VIEWER_TOO_SLOW');
      } else {
        v.ws.send(chunk, { binary: true });
      }
    }
  }

  resize(cols: number, rows: number): void {
    this.#cols = cols;
    this.#rows = rows;
    for (const v of this.#viewers.values()) {
      if (v.queue !== null) v.queue.push({ cols, rows });
      else this.#control(v.ws, { type: 'resize', cols, rows });
    }
  }

  /** Add a viewer (the caller has checked `refusal()` and holds its admission, released when it leaves). */
  join(ws: WebSocket, who: { subject: string; clientIp: string }, linkId: string, release: () => void): void {
    const { config } = this.#init;
    const info: ViewerInfo = { id: randomBytes(6).toString('base64url'), subject: who.subject, clientIp: who.clientIp, since: new Date().toISOString(), linkId };
    const viewer: Viewer = {
      info, ws, release, queue: [], queued: 0, queuedFrom: this.#tail.end,
      keepalive: new Keepalive(ws, config.wsPingIntervalMs, config.wsPongTimeoutMs, () => this.#drop(viewer, 'PONG_TIMEOUT')),
    };
    this.#viewers.set(info.id, viewer);
    ws.on('message', (data: RawData, isBinary: boolean) => this.#fromViewer(viewer, data as Buffer, isBinary));
    ws.on('error', () => undefined);
    ws.once('close', () => this.#left(viewer));
    this.#control(ws, { type: 'viewing', sessionId: this.#init.sessionId, username: this.#init.about.username, target: this.#init.about.target, cols: this.#cols, rows: this.#rows });
    this.#snapshots = this.#snapshots.then(async () => {
      const { text, upTo } = await this.#snapshot();
      const queue = viewer.queue;
      if (queue === null || !this.#viewers.has(info.id)) return;
      viewer.queue = null;
      if (text !== '') ws.send(Buffer.from(text, 'utf8'), { binary: true });
      // The snapshot covers output up to `upTo`; the queue began at `queuedFrom`.
      let skip = upTo - viewer.queuedFrom;
      for (const item of queue) {
        if (!Buffer.isBuffer(item)) {
          this.#control(ws, { type: 'resize', cols: item.cols, rows: item.rows });
          continue;
        }
        const chunk = skip >= item.length ? null : item.subarray(Math.max(0, skip));
        skip = Math.max(0, skip - item.length);
        if (chunk !== null) ws.send(chunk, { binary: true });
      }
    }).catch((err: unknown) => {
      this.#init.logger.error({ err }, 'share snapshot failed');
      this.#drop(viewer, 'INTERNAL');
    });
    this.#init.logger.info({ event: 'viewer_joined', viewer: info.id, subject: info.subject, client_ip: info.clientIp, link: linkId }, 'viewer joined');
    this.#init.onViewers(this.viewers());
  }

  /**
   * The screen now: the seed plus the output since (or the newest TAIL_BYTES alone when more came),
   * through a throwaway headless terminal. The output taken is exactly what was appended before
   * this call; what arrives meanwhile is queued for the viewer and stays in the tail.
   */
  async #snapshot(): Promise<{ text: string; upTo: number }> {
    const upTo = this.#tail.end;
    const generation = this.#generation;
    const complete = this.#tail.start <= this.#seedAt;
    const chunks = this.#tail.since(this.#seedAt);
    if (this.#seed === null && chunks.length === 0) return { text: '', upTo };
    const screen = new SharedScreen(this.#cols, this.#rows);
    try {
      if (complete && this.#seed !== null) screen.write(this.#seed);
      for (const chunk of chunks) screen.write(chunk);
      const text = await screen.snapshot();
      if (this.#links.size > 0 && generation === this.#generation) {
        this.#seed = text;
        this.#seedAt = upTo;
        this.#tail.release(upTo);
      }
      return { text, upTo };
    } finally {
      screen.dispose();
    }
  }

  viewers(): ViewerInfo[] {
    return [...this.#viewers.values()].map((v) => v.info);
  }

  /** End one link (or every link) and cut its viewers. */
  revoke(linkId: string | undefined, why: 'revoked' | 'expired' = 'revoked'): void {
    const ids = linkId === undefined ? [...this.#links.keys()] : [linkId];
    for (const id of ids) {
      const link = this.#links.get(id);
      if (link === undefined) continue;
      clearTimeout(link.timer);
      this.#links.delete(id);
      this.#init.logger.info({ event: 'share_ended', link: id, why }, 'share link ended');
      for (const v of [...this.#viewers.values()]) if (v.info.linkId === id) this.#drop(v, 'SHARE_REVOKED', why);
    }
    if (this.#links.size === 0) {
      this.#generation++;
      this.#seed = null;
      this.#tail.release(this.#tail.end);
    }
  }

  /** The session ended: every viewer hears how (`exit` first when the shell exited), then the close. */
  dispose(code: ErrorCode, exit?: ServerControl, detail?: string): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#generation++;
    for (const v of [...this.#viewers.values()]) {
      if (exit !== undefined) this.#control(v.ws, exit);
      this.#drop(v, code, detail);
    }
    for (const link of this.#links.values()) clearTimeout(link.timer);
    this.#links.clear();
    this.#seed = null;
    this.#tail.release(this.#tail.end);
  }

  #fromViewer(viewer: Viewer, data: Buffer, isBinary: boolean): void {
    if (isBinary) return; // a viewer's typing is never forwarded
    try {
      const msg = v1Codec.decode(data, false);
      if (msg.kind === 'ping') this.#control(viewer.ws, { type: 'pong', payload: msg.payload });
    } catch {
      // a viewer has nothing to say; malformed or not, it is ignored
    }
  }

  #control(ws: WebSocket, msg: ServerControl): void {
    const text = v1Codec.encode(msg);
    if (text !== null && ws.readyState === ws.OPEN) ws.send(text);
  }

  #drop(viewer: Viewer, code: ErrorCode, detail?: string): void {
    if (!this.#viewers.has(viewer.info.id)) return;
    const { ws } = viewer;
    if (ERRORS[code].close !== 1000) this.#control(ws, { type: 'error', code, message: errorMessage(code, detail) });
    if (code === 'VIEWER_TOO_SLOW' || code === 'PONG_TIMEOUT') {
      if (ws.readyState === ws.OPEN) ws.close(ERRORS[code].close, closeReason(code, detail));
      ws.terminate();
    } else {
      closeThenCut(ws, ERRORS[code].close, closeReason(code, detail));
    }
    this.#left(viewer, code);
  }

  #left(viewer: Viewer, code: ErrorCode = 'CLIENT_CLOSED'): void {
    if (!this.#viewers.delete(viewer.info.id)) return;
    viewer.keepalive.dispose();
    viewer.queue = null;
    viewer.release();
    this.#init.logger.info({ event: 'viewer_left', viewer: viewer.info.id, code }, 'viewer left');
    if (!this.#disposed) this.#init.onViewers(this.viewers());
  }
}
