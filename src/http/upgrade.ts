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
import { BridgeError, closeReason, errorMessage, ERRORS, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Admission, ConnectionManager } from '../manager/connection-manager.js';
import type { CidrSet } from '../grammar/cidr.js';
import type { OwnerId } from '../grammar/owner-id.js';
import { clientIp } from '../policy/client-ip.js';
import { originAllowed } from '../policy/origin.js';
import { resolveTarget, type LookupFn, type ResolvedTarget } from '../policy/target.js';
import { formatHostPort } from '../grammar/target-rule.js';
import type { TargetPolicy } from '../policy/target-rules.js';
import { codecFor } from '../protocol/codec.js';
import { V1_SUBPROTOCOL } from '../protocol/v1.js';
import { rejectUpgrade } from './respond.js';
import { appPath } from './static.js';
import { bindingTarget } from './ticket-route.js';
import { parseWsPath } from './ws-path.js';
import { parsePosition, resumeTokenOwner } from '../session/resume-token.js';
import { shareTokenFromProtocols, shareTokenOwner, verifyShareToken } from '../share/share-token.js';
import { closeThenCut } from '../util/ws-close.js';

/**
 * Passes a resume for a session held by another worker (under --workers) to that worker, with
 * what this worker has established about the request; `onFail` when that worker is gone.
 */
export type ResumeRelay = (owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, checked: { clientIp: string; identity: Identity }, onFail: () => void) => void;

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
  /** Cluster workers: how a resume for another worker's session gets there. */
  readonly relay?: ResumeRelay;
  /**
   * Set on a worker's internal relay listener only: the client IP and identity the relaying worker
   * established (it has run every check up to authentication already).
   */
  readonly relayed?: (req: IncomingMessage) => { clientIp: string; identity: Identity } | null;
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
      const text = codec.encode({ type: 'error', code, message: errorMessage(code, detail) });
      if (text !== null) ws.send(text);
      closeThenCut(ws, ERRORS[code].close, closeReason(code, detail));
    });
  };

  const refuseAfterUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, code: ErrorCode, detail?: string): void => {
    manager.reject(code);
    upgradeToRefuse(req, socket, head, code, detail);
  };

  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    let path: { host: string; port: number };
    let ticket: string | null;
    let resume: { token: string; position: string | null } | null;
    let share: string | null;
    /** What a ticket must have been issued for: the path's target (null in fixed-target mode). */
    let binding: string | null;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      ticket = url.searchParams.get('ticket');
      const token = url.searchParams.get('resume');
      resume = token === null ? null : { token, position: url.searchParams.get('position') };
      share = url.searchParams.get('share') ?? shareTokenFromProtocols(req.headers['sec-websocket-protocol']);
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
    // A resume relayed by another worker has passed the ban, rate, origin and authentication
    // checks there; only the resume itself is judged here.
    const relayed = deps.relayed?.(req) ?? null;
    if (deps.relayed !== undefined && relayed === null) {
      // The relay listener takes nothing but what a worker relayed (with its two headers).
      refuse(req, socket, 'BAD_REQUEST', 'not a relayed request');
      return;
    }
    const relayedIdentity = relayed?.identity;
    const ip = relayed?.clientIp ?? clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.trusted);
    const entered = relayed !== null ? { ok: true as const } : await manager.enter(ip);
    if (!entered.ok) {
      refuse(req, socket, entered.code, undefined, { 'Retry-After': String(entered.retryAfterS) });
      return;
    }
    if (relayed === null && !originAllowed(req.headers.origin, req.headers.host, deps.secure, config.allowedOrigins)) {
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
      identity = relayedIdentity ?? await authenticate(req, ip, ticket, binding);
    } catch (err) {
      if (!isBridgeError(err)) logger.error({ err }, 'gateway authentication failed unexpectedly');
      const e = isBridgeError(err) ? err : new BridgeError('INTERNAL');
      if (e.code === 'BRIDGE_AUTH_INVALID') manager.recordAuthFailure(ip, 'gateway');
      late(req, socket, head, e.code, e.detail);
      return;
    }
    if (socket.destroyed) return;
    if (resume !== null) {
      if (!v1) refuse(req, socket, 'RESUME_INVALID', 'resume needs the v1 subprotocol');
      else resumeSession(req, socket, head, resume, { clientIp: ip, identity }, path, relayed === null);
      return;
    }
    if (share !== null) {
      if (!v1) refuse(req, socket, 'SHARE_INVALID', 'viewing needs the v1 subprotocol');
      else await viewSession(req, socket, head, share, { clientIp: ip, identity }, relayed === null);
      return;
    }
    if (relayed !== null) {
      refuse(req, socket, 'RESUME_INVALID', 'only resumes and viewers are relayed');
      return;
    }
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
    upgradeAdmitted(req, socket, head, admission, (ws) => {
      manager.startSession(admission, { ws, codec: codecFor(ws.protocol), target, clientIp: ip, identity });
    });
  };

  /** Complete the upgrade for an admitted connection; the slot goes back if the socket dies first. */
  const upgradeAdmitted = (req: IncomingMessage, socket: Duplex, head: Buffer, admission: Admission, use: (ws: WebSocket) => void): void => {
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) admission.release();
    });
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      upgraded = true;
      use(ws);
    });
  };

  /**
   * A resume token or share link names another worker: relay the request there (src/cluster/
   * resume-relay.ts), or refuse when this process cannot (one process, or already relayed).
   */
  const passToOwner = (owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, checked: { clientIp: string; identity: Identity }, canRelay: boolean, refuse: (why: string) => void): void => {
    if (!canRelay || deps.relay === undefined) refuse(`no worker ${owner} here`);
    else deps.relay(owner, req, socket, head, checked, () => refuse(`worker ${owner} unreachable`));
  };

  /**
   * Hand the socket to the session a resume token names (docs/protocol.md#resume). The token is
   * burnt on the first attempt, whatever the outcome. Why a resume was refused is logged here;
   * the client only hears RESUME_INVALID (a token holder learns nothing from the difference).
   */
  const resumeSession = (req: IncomingMessage, socket: Duplex, head: Buffer, resume: { token: string; position: string | null }, checked: { clientIp: string; identity: Identity }, path: { host: string; port: number }, canRelay: boolean): void => {
    const refuseResume = (why: string): void => {
      logger.info({ event: 'resume_refused', why, client_ip: checked.clientIp }, 'resume refused');
      refuseAfterUpgrade(req, socket, head, 'RESUME_INVALID', why.startsWith('position') ? why : undefined);
    };
    const owner = resumeTokenOwner(resume.token);
    if (owner === null) return refuseResume('malformed token');
    if (owner !== manager.directory.owner) {
      passToOwner(owner, req, socket, head, checked, canRelay, refuseResume);
      return;
    }
    // Burnt here, before anything else is judged: every attempt that reaches the owner costs the token.
    const session = manager.directory.take(resume.token);
    const position = parsePosition(resume.position);
    if (session === undefined) return refuseResume('unknown or used token');
    if (position === null) return refuseResume('position must be a non-negative integer');
    if (!config.resumeAnyIp && session.clientIp !== checked.clientIp) return refuseResume('token used from another client IP');
    if (deps.auth.enabled && (session.identity.subject !== checked.identity.subject || session.identity.method !== checked.identity.method)) return refuseResume('token used by another identity');
    if (config.target === null && (session.target.host !== path.host || session.target.port !== path.port)) return refuseResume('token used on another route');
    if (!session.canResume(position)) return refuseResume(`position ${position} is past the output sent`);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (session.resume(ws, position)) return;
      // The session ended between the check and the upgrade.
      manager.reject('RESUME_INVALID');
      closeThenCut(ws, ERRORS.RESUME_INVALID.close, closeReason('RESUME_INVALID', 'session ended'));
    });
  };

  /**
   * A viewer of a shared session (docs/protocol.md#sharing): the signed link names the owner
   * worker, the session and the link; the viewer takes an admission slot like a session (released
   * when it leaves) and never reaches the SSH side.
   */
  const viewSession = async (req: IncomingMessage, socket: Duplex, head: Buffer, token: string, checked: { clientIp: string; identity: Identity }, canRelay: boolean): Promise<void> => {
    const refuseView = (code: ErrorCode, why: string): void => {
      logger.info({ event: 'viewer_refused', code, why, client_ip: checked.clientIp }, 'viewer refused');
      refuseAfterUpgrade(req, socket, head, code, code === 'SHARE_INVALID' ? undefined : why);
    };
    const owner = shareTokenOwner(token);
    if (owner === null) return refuseView('SHARE_INVALID', 'malformed link');
    if (owner !== manager.directory.owner) {
      passToOwner(owner, req, socket, head, checked, canRelay, (why) => refuseView('SHARE_INVALID', why));
      return;
    }
    const claims = verifyShareToken(manager.directory.shareKey, token, Date.now());
    if ('error' in claims) return refuseView('SHARE_INVALID', claims.error);
    const session = manager.directory.find(claims.sessionId);
    if (session === undefined) return refuseView('SHARE_INVALID', 'session ended');
    const why = session.viewerRefusal(claims.linkId);
    if (why !== null) return refuseView(why, why === 'SHARE_FULL' ? `at most ${config.shareMaxViewers}` : 'link ended');
    const admitted = await manager.admit(checked.clientIp, session.target.key);
    if (socket.destroyed) {
      if (admitted.ok) admitted.admission.release();
      return;
    }
    if (!admitted.ok) {
      upgradeToRefuse(req, socket, head, admitted.code);
      return;
    }
    const { admission } = admitted;
    upgradeAdmitted(req, socket, head, admission, (ws) => {
      if (session.addViewer(ws, { subject: checked.identity.subject, clientIp: checked.clientIp }, claims.linkId, () => admission.release())) return;
      admission.release();
      manager.reject('SHARE_INVALID');
      closeThenCut(ws, ERRORS.SHARE_INVALID.close, closeReason('SHARE_INVALID', 'link ended'));
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
