/**
 * POST {base}api/ticket: trade a gateway credential for a one-time WebSocket ticket.
 *
 * CSRF: a cookie-less bearer header cannot be forged cross-site, but the proxy-header and mTLS
 * modes authenticate whatever the browser sends. So the request must carry an Origin that is
 * this site (or an allowed origin), must not be marked cross-site by Sec-Fetch-Site, and must be
 * `Content-Type: application/json` - a non-simple request, which a cross-site page can only make
 * after a CORS preflight this server never approves.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import type { Config } from '../config/types.js';
import { BridgeError, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { CidrSet } from '../grammar/cidr.js';
import { clientIp } from '../policy/client-ip.js';
import { originAllowed } from '../policy/origin.js';
import { sendError, sendJson } from './respond.js';
import { parseWsPath } from './ws-path.js';

export const TICKET_PATH = '/api/ticket';
/** A ticket request is `{"host": "...", "port": 22}`: a few dozen bytes. */
const MAX_BODY = 4096;

export interface TicketDeps {
  readonly config: Config;
  readonly manager: ConnectionManager;
  readonly auth: BridgeAuth;
  readonly trusted: CidrSet;
  readonly logger: Logger;
  readonly secure: boolean;
}

/** `host:port` in the form the WebSocket path yields, so issue and redeem compare equal. */
export function bindingTarget(host: string, port: number): string {
  return `${host}:${port}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY) {
      reject(new BridgeError('BODY_TOO_LARGE'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY) {
        cleanup();
        reject(new BridgeError('BODY_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

/** The target the ticket is for: `{host, port}` validated exactly as the WebSocket path is. */
function parseTarget(body: string, fixed: boolean): { host: string; port: number } | null {
  let json: unknown;
  try {
    json = JSON.parse(body === '' ? '{}' : body);
  } catch {
    throw new BridgeError('BAD_REQUEST', 'body is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BridgeError('BAD_REQUEST', 'body must be a JSON object');
  if (fixed) return null;
  const { host, port } = json as Record<string, unknown>;
  if (typeof host !== 'string' || (typeof port !== 'number' && typeof port !== 'string')) {
    throw new BridgeError('BAD_REQUEST', 'body needs "host" (string) and "port"');
  }
  return parseWsPath(`/ws/${encodeURIComponent(host)}/${String(port)}`);
}

export function createTicketHandler(deps: TicketDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, manager, auth, logger } = deps;

  const refuse = (res: ServerResponse, ip: string, code: ErrorCode, detail?: string, headers: Record<string, string> = {}): void => {
    manager.reject(code);
    logger.info({ event: 'ticket_refused', code, detail, client_ip: ip }, 'ticket refused');
    if (code === 'BRIDGE_AUTH_INVALID') manager.recordAuthFailure(ip, 'gateway');
    // Unread request bodies would otherwise keep the connection busy; close after answering.
    sendError(res, code, { Connection: 'close', ...headers }, detail);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.trusted);
    if (req.method !== 'POST') {
      sendError(res, 'METHOD_NOT_ALLOWED', { Allow: 'POST' });
      return;
    }
    const entered = await manager.enter(ip);
    if (!entered.ok) return refuse(res, ip, entered.code, undefined, { 'Retry-After': String(entered.retryAfterS) });
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (origin === undefined || !originAllowed(origin, req.headers.host, deps.secure, config.allowedOrigins) || (site !== undefined && site !== 'same-origin')) {
      return refuse(res, ip, 'CSRF_REJECTED', origin === undefined ? 'Origin header required' : undefined);
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return refuse(res, ip, 'UNSUPPORTED_MEDIA_TYPE');

    const target = parseTarget(await readBody(req), config.target !== null);
    const identity = await auth.authenticate(req);
    const binding = target === null ? null : bindingTarget(target.host, target.port);
    const issued = await manager.gate.issueTicket(identity, { clientIp: ip, target: binding });
    if (issued === null) return refuse(res, ip, 'TICKETS_FULL');
    logger.info({ event: 'ticket_issued', client_ip: ip, auth_method: identity.method, subject: identity.subject, target: binding }, 'ticket issued');
    sendJson(res, 200, { ticket: issued.ticket, expires_in: Math.floor(issued.expiresInMs / 1000) });
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.trusted);
      if (isBridgeError(err)) {
        refuse(res, ip, err.code, err.detail);
        return;
      }
      logger.error({ err }, 'ticket request failed');
      if (!res.headersSent) sendError(res, 'INTERNAL');
    });
  };
}
