/**
 * The upgrade path, in the order the checks must run: path -> client IP -> login ban -> rate limit -> origin
 * -> target policy (after DNS) -> admission -> upgrade. Refusals before the upgrade are HTTP
 * statuses with a JSON body. A browser cannot read those, so a client that asked for the v1
 * subprotocol (our page) gets refusals that come after the origin check as a WebSocket error
 * message and close code instead; the origin and rate checks always answer in HTTP.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer, WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import { BridgeError, closeReason, ERRORS, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { CidrSet } from '../policy/cidr.js';
import { clientIp } from '../policy/client-ip.js';
import { originAllowed } from '../policy/origin.js';
import { resolveTarget, type LookupFn, type ResolvedTarget } from '../policy/target.js';
import type { TargetPolicy } from '../policy/target-rules.js';
import { codecFor } from '../protocol/codec.js';
import { V1_SUBPROTOCOL } from '../protocol/v1.js';
import { rejectUpgrade } from './respond.js';
import { appPath } from './static.js';
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
}

function offersV1(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  return header !== undefined && header.split(',').some((p) => p.trim() === V1_SUBPROTOCOL);
}

export function createUpgradeHandler(deps: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { config, manager, wss, logger } = deps;

  const refuse = (req: IncomingMessage, socket: Duplex, code: ErrorCode, detail?: string, headers?: Record<string, string>): void => {
    manager.reject(code);
    logger.info({ code, detail, peer: req.socket.remoteAddress, path: req.url }, 'upgrade refused');
    rejectUpgrade(socket, code, detail, headers);
  };

  /** Complete the upgrade only to say why we refuse: the page can show a close reason, not an HTTP status. */
  const upgradeToRefuse = (req: IncomingMessage, socket: Duplex, head: Buffer, code: ErrorCode, detail?: string): void => {
    logger.info({ code, detail, peer: req.socket.remoteAddress, path: req.url }, 'upgrade refused (v1 close)');
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
    try {
      path = parseWsPath(appPath(new URL(req.url ?? '/', 'http://localhost').pathname, config.basePath));
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
    const banned = manager.bannedForSeconds(ip);
    if (banned > 0) {
      refuse(req, socket, 'AUTH_BANNED', undefined, { 'Retry-After': String(banned) });
      return;
    }
    if (!manager.takeRateToken(ip)) {
      refuse(req, socket, 'RATE_LIMITED', undefined, { 'Retry-After': String(manager.retryAfterSeconds(ip)) });
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, deps.secure, config.allowedOrigins)) {
      refuse(req, socket, 'ORIGIN_FORBIDDEN');
      return;
    }
    const v1 = offersV1(req);
    const late = v1 ? refuseAfterUpgrade : (r: IncomingMessage, s: Duplex, _h: Buffer, c: ErrorCode, d?: string) =>
      refuse(r, s, c, d, ERRORS[c].http === 503 ? { 'Retry-After': '5' } : {});
    if (manager.draining) {
      late(req, socket, head, 'DRAINING');
      return;
    }
    let target: ResolvedTarget;
    try {
      target = await resolveTarget(path.host, path.port, deps.policy, deps.lookup);
    } catch (err) {
      const e = isBridgeError(err) ? err : new BridgeError('DNS_FAILED');
      late(req, socket, head, e.code, e.detail);
      return;
    }
    if (socket.destroyed) return;
    const admitted = manager.admit(ip, target.key);
    if (!admitted.ok) {
      // admit() has counted the rejection already.
      if (v1) upgradeToRefuse(req, socket, head, admitted.code);
      else rejectUpgrade(socket, admitted.code, undefined, { 'Retry-After': '5' });
      return;
    }
    const { admission } = admitted;
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) admission.release();
    });
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      upgraded = true;
      manager.startSession(admission, { ws, codec: codecFor(ws.protocol), target, clientIp: ip });
    });
  };

  return (req, socket, head) => {
    socket.on('error', () => undefined); // a reset during the handshake is the peer's business
    handle(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'upgrade failed');
      rejectUpgrade(socket, 'INTERNAL');
    });
  };
}
