/**
 * GET/HEAD {base}api/recordings and {base}api/recordings/<name>: the operators' recordings view.
 * Exists only with `--record-dir` (404 otherwise, like any unknown path).
 *
 * Who: gateway authentication must be on (else RECORDINGS_NEED_AUTH: recordings are never served
 * anonymously) and the request's own credential (Authorization: Bearer token or JWT, the trusted
 * proxy header, the client certificate; never a ticket) must be an admin identity
 * (ADMIN_REQUIRED otherwise). Guarded (./guard.ts) like every route that acts for a client: a
 * banned or rate-limited address is refused first, a rejected credential counts towards the login
 * ban. CSRF: a request the browser marks as cross-site or same-site is refused (./cross-site.ts).
 *
 * Every answer is audited: `recording_listed` / `recording_fetched` with the subject, or
 * `recording_access_refused` with the code. Credentials are never logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import type { Identity } from '../auth/identity.js';
import { BridgeError, isBridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { isRecordingName } from '../record/catalog.js';
import { MAX_LISTED, type RecordingStore } from '../record/store.js';
import { notCrossSite } from './cross-site.js';
import { refusalHeaders, type Guard, type Refusal } from './guard.js';
import { SECURITY_HEADERS, sendError, sendJson } from './respond.js';

export const RECORDINGS_PATH = '/api/recordings';

/** Only this origin may read the answers, even by embedding (a script or image tag). */
const RESOURCE_POLICY = { 'Cross-Origin-Resource-Policy': 'same-origin' };

export interface RecordingsDeps {
  readonly store: RecordingStore;
  readonly guard: Guard;
  readonly auth: Pick<BridgeAuth, 'enabled' | 'authenticate'>;
  readonly logger: Logger;
}

/** Whether `path` (already without the base path) belongs to this route. */
export function isRecordingsPath(path: string): boolean {
  return path === RECORDINGS_PATH || path.startsWith(`${RECORDINGS_PATH}/`);
}

/** `?limit=N&before=NAME`: limit 1-1000 (default 1000), before a recording name. */
export function parseListQuery(params: URLSearchParams): { limit: number; before: string | null } {
  const rawLimit = params.get('limit');
  let limit = MAX_LISTED;
  if (rawLimit !== null) {
    if (!/^\d{1,4}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_LISTED) {
      throw new BridgeError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LISTED}`);
    }
    limit = Number(rawLimit);
  }
  const before = params.get('before');
  if (before !== null && !isRecordingName(before)) throw new BridgeError('BAD_RECORDING_NAME', 'before must be a recording name');
  return { limit, before };
}

export function createRecordingsHandler(deps: RecordingsDeps): (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => void {
  const { store, guard, auth, logger } = deps;

  /** How this route answers a refusal the guard has counted: audited with who asked, when known. */
  const answer = (res: ServerResponse, ip: string, who: Identity | null) => (r: Refusal): void => {
    logger.warn({ event: 'recording_access_refused', code: r.code, detail: r.detail, client_ip: ip, auth_method: who?.method ?? null, subject: who?.subject ?? null }, 'recording access refused');
    sendError(res, r.code, { ...RESOURCE_POLICY, ...refusalHeaders(r) }, r.detail);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, ip: string, path: string, query: URLSearchParams, who: { identity: Identity | null }): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 'METHOD_NOT_ALLOWED', { Allow: 'GET, HEAD' });
      return;
    }
    const identity = await guard.pass(req, ip, {
      crossSite: notCrossSite,
      step: () => {
        if (!auth.enabled) throw new BridgeError('RECORDINGS_NEED_AUTH');
        return auth.authenticate(req);
      },
      answer: answer(res, ip, null),
    });
    if (identity === null) return;
    who.identity = identity;
    if (!identity.admin) return guard.refuse(ip, { code: 'ADMIN_REQUIRED', detail: `${identity.subject} is not an operator` }, answer(res, ip, identity));
    const audit = { client_ip: ip, auth_method: identity.method, subject: identity.subject };

    if (path === RECORDINGS_PATH) {
      const q = parseListQuery(query);
      const listing = await store.list(q);
      logger.info({ event: 'recording_listed', ...audit, count: listing.recordings.length, truncated: listing.truncated }, 'recordings listed');
      sendJson(res, 200, listing, RESOURCE_POLICY);
      return;
    }
    // The name is taken as it stands in the path, never decoded: a recording name needs no
    // escaping, so "%2e%2e%2f", "%00" and the like are simply not names.
    const name = path.slice(RECORDINGS_PATH.length + 1);
    const file = await store.open(name);
    try {
      logger.info({ event: 'recording_fetched', ...audit, name, bytes: file.size, head: req.method === 'HEAD' }, 'recording fetched');
      res.writeHead(200, {
        ...SECURITY_HEADERS, ...RESOURCE_POLICY,
        'Content-Type': 'application/x-asciicast',
        'Content-Disposition': `attachment; filename="${name}"`,
        'Content-Length': file.size,
        'Last-Modified': file.mtime.toUTCString(),
      });
      if (req.method === 'HEAD' || file.size === 0) {
        res.end();
        return;
      }
      // A recording still being written grows: send exactly the bytes Content-Length announced.
      await pipeline(file.handle.createReadStream({ start: 0, end: file.size - 1, autoClose: false }), res);
    } finally {
      await file.handle.close();
    }
  };

  return (req, res, path, query) => {
    const ip = guard.clientIp(req);
    const who: { identity: Identity | null } = { identity: null };
    handle(req, res, ip, path, query, who).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy(); // the file failed mid-stream: cut the response, its length says it is short
        return;
      }
      if (isBridgeError(err)) {
        guard.refuse(ip, err, answer(res, ip, who.identity));
        return;
      }
      logger.error({ err }, 'recordings request failed');
      sendError(res, 'INTERNAL');
    });
  };
}
