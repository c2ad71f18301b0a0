/**
 * An upgrade request not yet answered, and the ways to answer it. Refusals before the upgrade are
 * HTTP statuses with a JSON body. A browser cannot read those, so a client that offered the v1
 * subprotocol (our page) hears the refusals that come after the guard's own checks (`late`) as a
 * WebSocket error message and close code instead, and so does a ban or rate refusal from an
 * allowed origin (its `error` carries `retryAfter`, the seconds of Retry-After); an origin the
 * bridge refuses always hears HTTP.
 *
 * None of these count a refusal: callers go through the guard's accounting (./guard.ts), except
 * where admit() has counted it already.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { closeReason, errorMessage, ERRORS } from '../errors.js';
import type { Logger } from '../log.js';
import type { AdmitResult, Lease } from '../manager/connection-manager.js';
import { codecFor } from '../protocol/codec.js';
import { V1_SUBPROTOCOL } from '../protocol/v1.js';
import { closeThenCut } from '../util/ws-close.js';
import { refusalHeaders, type Refusal, type Stage } from './guard.js';
import { rejectUpgrade } from './respond.js';

export interface UpgradeTools {
  readonly wss: WebSocketServer;
  readonly logger: Logger;
}

type Handle = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;

/** The request path without its query: a `?ticket=` is a credential and must not reach the logs. */
export function loggablePath(url: string | undefined): string {
  const raw = url ?? '';
  const q = raw.indexOf('?');
  return q === -1 ? raw : `${raw.slice(0, q)}?…`;
}

function offersV1(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  return header !== undefined && header.split(',').some((p) => p.trim() === V1_SUBPROTOCOL);
}

/** An upgrade listener around `handle`: a socket error is the peer's business, a thrown error is INTERNAL. */
export function upgradeEntry(logger: Logger, handle: Handle): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => undefined); // a reset during the handshake is the peer's business
    handle(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'upgrade failed');
      rejectUpgrade(socket, 'INTERNAL');
    });
  };
}

export class PendingUpgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The client offered the v1 subprotocol (the page, or a client that reads close reasons). */
  readonly v1: boolean;
  readonly #tools: UpgradeTools;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer, tools: UpgradeTools) {
    this.req = req;
    this.socket = socket;
    this.head = head;
    this.v1 = offersV1(req);
    this.#tools = tools;
  }

  /** Refuse with an HTTP status and a JSON body. */
  readonly http = (r: Refusal): void => {
    this.#log(r, 'upgrade refused');
    rejectUpgrade(this.socket, r.code, r.detail, refusalHeaders(r));
  };

  /** Complete the upgrade only to say why we refuse: the page can show a close reason, not an HTTP status. */
  readonly close = (r: Refusal): void => {
    this.#log(r, 'upgrade refused (v1 close)');
    this.complete((ws) => {
      const text = codecFor(ws.protocol).encode({
        type: 'error', code: r.code, message: errorMessage(r.code, r.detail), ...(r.retryAfterS === undefined ? {} : { retryAfter: r.retryAfterS }),
      });
      if (text !== null) ws.send(text);
      closeThenCut(ws, ERRORS[r.code].close, closeReason(r.code, r.detail));
    });
  };

  /** A refusal after the guard's own checks: a close for a v1 client, HTTP for others. */
  readonly late = (r: Refusal): void => {
    if (this.v1) this.close(r);
    else this.http(r);
  };

  /** The guard's answer: its own checks in HTTP, the route's step and a readable ban or rate refusal as `late`. */
  readonly answer = (r: Refusal, stage: Stage): void => {
    if (stage === 'guard') this.http(r);
    else this.late(r);
  };

  /** Complete the upgrade. */
  complete(use: (ws: WebSocket) => void): void {
    this.#tools.wss.handleUpgrade(this.req, this.socket, this.head, use);
  }

  /**
   * Complete the upgrade with what admit() gave: its refusal (counted by admit() already), or
   * the slot, which goes back if the socket dies before the upgrade completes.
   */
  admitted(result: AdmitResult, use: (ws: WebSocket, admission: Lease) => void): void {
    if (this.socket.destroyed) {
      if (result.ok) result.admission.release();
      return;
    }
    if (!result.ok) {
      if (this.v1) this.close({ code: result.code });
      else rejectUpgrade(this.socket, result.code);
      return;
    }
    const { admission } = result;
    let upgraded = false;
    this.socket.once('close', () => {
      if (!upgraded) admission.release();
    });
    this.complete((ws) => {
      upgraded = true;
      use(ws, admission);
    });
  }

  #log(r: Refusal, message: string): void {
    this.#tools.logger.info({ code: r.code, detail: r.detail, peer: this.req.socket.remoteAddress, path: loggablePath(this.req.url) }, message);
  }
}
