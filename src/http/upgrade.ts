/**
 * The upgrade path, in the order the checks must run: path -> client IP -> login ban -> rate limit -> origin
 * -> draining -> bridge authentication (a one-time ticket, or the request's own credential) ->
 * target policy (after DNS) and the identity's target restrictions -> admission -> upgrade. Refusals before the upgrade are HTTP
 * statuses with a JSON body. A browser cannot read those, so a client that asked for the v1
 * subprotocol (our page) gets refusals that come after the origin check as a WebSocket error
 * message and close code instead; the origin and rate checks always answer in HTTP.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer, WebSocket } from 'ws';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import { ANONYMOUS, targetAllowed, type Identity } from '../auth/identity.js';
import type { Config } from '../config/types.js';
import { BridgeError, closeReason, ERRORS, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { CidrSet } from '../policy/cidr.js';
import { clientIp } from '../policy/client-ip.js';
import { originAllowed } from '../policy/origin.js';
import { resolveTarget, type LookupFn, type ResolvedTarget } from '../policy/target.js';
import { formatHostPort } from '../policy/target-rules.js';
import type { TargetPolicy } from '../policy/target-rules.js';
import { codecFor } from '../protocol/codec.js';
import { V1_SUBPROTOCOL } from '../protocol/v1.js';
import { rejectUpgrade } from './respond.js';
import { appPath } from './static.js';
import { bindingTarget } from './ticket-route.js';
import { parseWsPath } from './ws-path.js';

export interface UpgradeDeps {
  readonly config: Config;
  readonly manager: ConnectionManager;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
  readonly trusted: CidrSet;
  /** The target policy (allow/deny rules), applied to every resolved address before any dial. */
  readonly policy: TargetPolicy;
  readonly lookup: LookupFn;
  readonly secure: boolean;
  /** Bridge authentication (a no-op when no method is configured). */
  readonly auth: BridgeAuth;
}

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

export function createUpgradeHandler(deps: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { config, manager, wss, logger } = deps;

  const refuse = (req: IncomingMessage, socket: Duplex, code: ErrorCode, detail?: string, headers?: Record<string, string>): void => {
    manager.reject(code);
    logger.info({ code, detail, peer: req.socket.remoteAddress, path: loggablePath(req.url) }, 'upgrade refused');
    rejectUpgrade(socket, code, detail, headers);
  };

  /** Complete the upgrade only to say why we refuse: the page can show a close reason, not an HTTP status. */
  const upgradeToRefuse = (req: IncomingMessage, socket: Duplex, head: Buffer, code: ErrorCode, detail?: string): void => {
    logger.info({ code, detail, peer: req.socket.remoteAddress, path: loggablePath(req.url) }, 'upgrade refused (v1 close)');
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const codec = codecFor(ws.protocol);
      const text = codec.encode({ type: 'error', code, message: detail === undefined ? ERRORS[code].message : `${ERRORS[code].message}: ${detail}` });
      if (text !== null) ws.send(text);
      ws.close(ERRORS[code].close, closeReason(code, detail));
      setTimeout(() => ws.terminate(), 3000).unref();
    });
  };

  const refuseAfterUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, code: ErrorCode, detail?: string): void => {
    manager.reject(code);
    upgradeToRefuse(req, socket, head, code, detail);
  };

  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    let path: { host: string; port: number };
    let ticket: string | null;
    /** What a ticket must have been issued for: the path's target (null in fixed-target mode). */
    let binding: string | null;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      ticket = url.searchParams.get('ticket');
      path = parseWsPath(appPath(url.pathname, config.basePath));
      binding = config.target === null ? bindingTarget(path.host, path.port) : null;
      // Fixed-target mode: the route keeps its shape, but its host and port are not the client's to
      // choose. The fixed target still goes through the target policy below, on every connection.
      if (config.target !== null) path = config.target;
    } catch (err) {
      const e = isBridgeError(err) ? err : new BridgeError('BAD_PATH');
      refuse(req, socket, e.code, e.detail);
      return;
    }
    if (req.method !== 'GET') {
      refuse(req, socket, 'METHOD_NOT_ALLOWED');
      return;
    }
    const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.trusted);
    const entered = await manager.enter(ip);
    if (!entered.ok) {
      refuse(req, socket, entered.code, undefined, { 'Retry-After': String(entered.retryAfterS) });
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, deps.secure, config.allowedOrigins)) {
      refuse(req, socket, 'ORIGIN_FORBIDDEN');
      return;
    }
    const v1 = offersV1(req);
    const late = v1 ? refuseAfterUpgrade : (r: IncomingMessage, s: Duplex, _h: Buffer, c: ErrorCode, d?: string) => refuse(r, s, c, d);
    if (manager.draining) {
      late(req, socket, head, 'DRAINING');
      return;
    }
    let identity: Identity;
    try {
      identity = await authenticate(req, ip, ticket, binding);
    } catch (err) {
      if (!isBridgeError(err)) logger.error({ err }, 'gateway authentication failed unexpectedly');
      const e = isBridgeError(err) ? err : new BridgeError('INTERNAL');
      if (e.code === 'BRIDGE_AUTH_INVALID') manager.recordAuthFailure(ip, 'gateway');
      late(req, socket, head, e.code, e.detail);
      return;
    }
    if (socket.destroyed) return;
    let target: ResolvedTarget;
    try {
      target = await resolveTarget(path.host, path.port, deps.policy, deps.lookup);
      if (!targetAllowed(identity, target.host, target.port, target.address)) {
        throw new BridgeError('TARGET_DENIED', `${target.host === target.address ? formatHostPort(target.host, target.port) : `${target.host}:${target.port}`} is not permitted for ${identity.subject}`);
      }
    } catch (err) {
      const e = isBridgeError(err) ? err : new BridgeError('DNS_FAILED');
      late(req, socket, head, e.code, e.detail);
      return;
    }
    if (socket.destroyed) return;
    const admitted = await manager.admit(ip, target.key);
    if (socket.destroyed) {
      if (admitted.ok) admitted.admission.release();
      return;
    }
    if (!admitted.ok) {
      // admit() has counted the rejection already.
      if (v1) upgradeToRefuse(req, socket, head, admitted.code);
      else rejectUpgrade(socket, admitted.code);
      return;
    }
    const { admission } = admitted;
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) admission.release();
    });
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      upgraded = true;
      manager.startSession(admission, { ws, codec: codecFor(ws.protocol), target, clientIp: ip, identity });
    });
  };

  /** A ticket when one is presented (the page), else the request's own credential (other clients). */
  const authenticate = async (req: IncomingMessage, ip: string, ticket: string | null, binding: string | null): Promise<Identity> => {
    const { auth } = deps;
    if (!auth.enabled) return ANONYMOUS;
    if (ticket !== null) {
      const redeemed = await manager.gate.redeemTicket(ticket, { clientIp: ip, target: binding });
      if (!redeemed.ok) throw new BridgeError('TICKET_INVALID', redeemed.reason);
      return redeemed.identity;
    }
    return auth.authenticate(req);
  };

  return (req, socket, head) => {
    socket.on('error', () => undefined); // a reset during the handshake is the peer's business
    handle(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'upgrade failed');
      rejectUpgrade(socket, 'INTERNAL');
    });
  };
}
