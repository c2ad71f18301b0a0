/**
 * POST {base}api/ticket: trade a gateway credential for a one-time WebSocket ticket. Guarded
 * (./guard.ts) like every route that acts for a client; its CSRF rule (an Origin of this site, not
 * cross-site, a JSON body) is in ./cross-site.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import type { Config } from '../config/types.js';
import { BridgeError, isBridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TicketRequests } from '../manager/tickets.js';
import type { Client } from '../util/requests.js';
import { jsonFromThisSite } from './cross-site.js';
import { refusalHeaders, type Guard, type Refusal } from './guard.js';
import { sendError, sendJson } from './respond.js';
import { parseWsPath } from './ws-path.js';

export const TICKET_PATH = '/api/ticket';
/** A ticket request is `{"host": "...", "port": 22}`: a few dozen bytes. */
const MAX_BODY = 4096;

export interface TicketDeps {
  readonly config: Pick<Config, 'target'>;
  readonly guard: Guard;
  /** Issuing a ticket: the gate's tickets. */
  readonly tickets: Client<Pick<TicketRequests, 'issueTicket'>>;
  readonly auth: Pick<BridgeAuth, 'authenticate'>;
  readonly logger: Logger;
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
  const { config, guard, auth, logger } = deps;

  /** How this route answers a refusal the guard has counted. */
  const answer = (res: ServerResponse, ip: string) => (r: Refusal): void => {
    logger.info({ event: 'ticket_refused', code: r.code, detail: r.detail, client_ip: ip }, 'ticket refused');
    // Unread request bodies would otherwise keep the connection busy; close after answering.
    sendError(res, r.code, { Connection: 'close', ...refusalHeaders(r) }, r.detail);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, ip: string): Promise<void> => {
    if (req.method !== 'POST') {
      sendError(res, 'METHOD_NOT_ALLOWED', { Allow: 'POST' });
      return;
    }
    const asked = await guard.pass(req, ip, {
      crossSite: jsonFromThisSite,
      step: async () => {
        const target = parseTarget(await readBody(req), config.target !== null);
        return { target, identity: await auth.authenticate(req) };
      },
      answer: answer(res, ip),
    });
    if (asked === null) return;
    const { target, identity } = asked;
    const binding = target === null ? null : bindingTarget(target.host, target.port);
    const issued = await deps.tickets.ask('issueTicket', { identity, binding: { clientIp: ip, target: binding } }); // gate call site: tickets
    if (!issued.ok) return guard.refuse(ip, { code: issued.code }, answer(res, ip));
    logger.info({ event: 'ticket_issued', client_ip: ip, auth_method: identity.method, subject: identity.subject, target: binding }, 'ticket issued');
    sendJson(res, 200, { ticket: issued.ticket, expires_in: Math.floor(issued.expiresInMs / 1000) });
  };

  return (req, res) => {
    const ip = guard.clientIp(req);
    handle(req, res, ip).catch((err: unknown) => {
      if (isBridgeError(err)) {
        guard.refuse(ip, err, answer(res, ip));
        return;
      }
      logger.error({ err }, 'ticket request failed');
      if (!res.headersSent) sendError(res, 'INTERNAL');
    });
  };
}
