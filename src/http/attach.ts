/**
 * Attaching to a live session by an owner-prefixed token, after the guard (./guard.ts), of one of
 * two kinds:
 * - resume (docs/protocol.md#resume): the session's own client on a new socket. The token is
 *   burnt on the first attempt that reaches its owner, whatever the outcome; the session binds
 *   the socket, rotates the token and replays its output.
 * - view (docs/protocol.md#sharing): a viewer of a share link. The link is verified (signature,
 *   expiry), the viewer takes an admission slot like a session (released when it leaves) and
 *   joins the session's share hub; it never reaches the SSH side.
 *
 * The token's owner prefix (src/grammar/owner-id.ts) names the process that holds the session.
 * This process finds its own sessions in its directory (src/session/directory.ts); a token of
 * another owner is passed there through the Relay (./relay.ts), which is why there are two
 * entries: `fromClient` for a request on this process's port, and `relayed` for one another
 * process passed here (relays do not chain: a relayed token of another owner is refused).
 *
 * Why an attach was refused is logged here; the client hears only RESUME_INVALID or SHARE_INVALID
 * (a token holder learns nothing from the difference), or SHARE_FULL and the like for a link.
 */
import type { WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import { closeReason, ERRORS, type ErrorCode } from '../errors.js';
import type { OwnerId } from '../grammar/owner-id.js';
import type { Owners } from '../manager/owners.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { BridgeSession } from '../session/bridge-session.js';
import type { SessionDirectory } from '../session/directory.js';
import { hashResumeToken, parsePosition, resumeTokenOwner } from '../session/resume-token.js';
import { shareTokenOwner, verifyShareToken } from '../share/share-token.js';
import { closeThenCut } from '../util/ws-close.js';
import type { Guard } from './guard.js';
import type { PendingUpgrade } from './pending-upgrade.js';
import type { Relay, RelayedFacts } from './relay.js';
import { relayRoute, type Hop } from './relay-route.js';

/** What a request attaches to: a resume (with the client's output position and its route), or a view. */
export type AttachTarget =
  | { readonly kind: 'resume'; readonly token: string; readonly position: string | null; readonly route: { readonly host: string; readonly port: number } }
  | { readonly kind: 'view'; readonly token: string };

/** Both kinds speak v1 messages (`resumed`, `viewing`): any other client is refused in HTTP. */
const NEEDS_V1 = {
  resume: { code: 'RESUME_INVALID', detail: 'resume needs the v1 subprotocol' },
  view: { code: 'SHARE_INVALID', detail: 'viewing needs the v1 subprotocol' },
} as const;

export interface AttachDeps {
  readonly config: Pick<Config, 'resumeAnyIp' | 'target' | 'shareMaxViewers'>;
  readonly directory: Pick<SessionDirectory<BridgeSession>, 'owner' | 'keyring' | 'take' | 'find'>;
  /** A viewer's admission slot. */
  readonly admission: Pick<ConnectionManager, 'admit'>;
  readonly guard: Pick<Guard, 'refuse'>;
  /** Gateway authentication is on: a resume must come from the identity that opened the session. */
  readonly authEnabled: boolean;
  readonly logger: Logger;
  /** How a token of another process reaches it; none in a single process. */
  readonly relay: Pick<Relay, 'pass' | 'passNode'> | undefined;
  /** Where another node's sessions are (Redis), for a token of another node. */
  readonly owners: Pick<Owners, 'ask'>;
}

export class Attach {
  readonly #deps: AttachDeps;

  constructor(deps: AttachDeps) {
    this.#deps = deps;
  }

  /** A request on this process's port: a token of another owner is relayed to it. */
  fromClient(up: PendingUpgrade, target: AttachTarget, checked: RelayedFacts): Promise<void> {
    return this.#attach(up, target, checked, 'client');
  }

  /**
   * A request another process relayed here: this process's tokens are taken; one that another
   * node relayed may still go on to the worker of this node that holds the session.
   */
  relayed(up: PendingUpgrade, target: AttachTarget, checked: RelayedFacts): Promise<void> {
    return this.#attach(up, target, checked, checked.via === 'node' ? 'node' : 'worker');
  }

  async #attach(up: PendingUpgrade, target: AttachTarget, checked: RelayedFacts, hop: Hop): Promise<void> {
    if (!up.v1) {
      this.#deps.guard.refuse(checked.clientIp, NEEDS_V1[target.kind], up.http);
      return;
    }
    if (target.kind === 'resume') await this.#resume(up, target, checked, hop);
    else await this.#view(up, target.token, checked, hop);
  }

  /**
   * The token names another process: pass the request there, or refuse (`why`) when there is no
   * way. Another worker of this node is reached over its socket; another node only from a
   * client's own request, at the address Redis gives for it: for a resume, the token's entry is
   * taken there first (burnt cluster-wide), so a forged or used token reaches no internal link.
   */
  async #elsewhere(owner: OwnerId, token: { readonly kind: 'resume' | 'view'; readonly text: string }, up: PendingUpgrade, checked: RelayedFacts, hop: Hop, refuse: (why: string, code?: ErrorCode) => void): Promise<void> {
    const { relay, owners, directory } = this.#deps;
    const route = relayRoute(owner, directory.owner, hop, { worker: relay !== undefined, node: relay?.passNode !== undefined });
    if (route.to === 'nowhere' || route.to === 'here') return refuse(route.to === 'here' ? 'misrouted' : route.why);
    if (route.to === 'worker') return relay?.pass(owner, up.req, up.socket, up.head, checked, () => refuse(`worker ${owner} unreachable`));
    const { node } = route;
    // A link is checked here too (the nodes share one keyring), so a forged or expired one reaches no internal link.
    if (token.kind === 'view') {
      const claims = verifyShareToken(directory.keyring, token.text, Date.now());
      if ('error' in claims) return refuse(claims.error);
    }
    const where = token.kind === 'resume' ? await owners.ask('takeToken', { node, hash: hashResumeToken(token.text) }) : await owners.ask('locateNode', { node });
    if (!where.ok) return where.why === 'unavailable' ? refuse('Redis unavailable', 'CLUSTER_UNAVAILABLE') : refuse(`no such ${token.kind === 'resume' ? 'token' : 'node'} on node ${node}`);
    if (up.socket.destroyed) return;
    relay?.passNode?.(where.address, owner, up.req, up.socket, up.head, checked, () => refuse(`node ${node} unreachable`));
  }

  /** A refusal after the upgrade completed (the session changed in between): counted, then closed. */
  #closeUpgraded(ws: WebSocket, ip: string, code: ErrorCode, why: string): void {
    this.#deps.guard.refuse(ip, { code }, () => closeThenCut(ws, ERRORS[code].close, closeReason(code, why)));
  }

  async #resume(up: PendingUpgrade, target: Extract<AttachTarget, { kind: 'resume' }>, checked: RelayedFacts, hop: Hop): Promise<void> {
    const { config, directory, logger } = this.#deps;
    const refuse = (why: string, code: ErrorCode = 'RESUME_INVALID'): void => {
      logger.info({ event: 'resume_refused', code, why, client_ip: checked.clientIp }, 'resume refused');
      this.#deps.guard.refuse(checked.clientIp, { code, detail: why.startsWith('position') ? why : undefined }, up.close);
    };
    const owner = resumeTokenOwner(target.token);
    if (owner === null) return refuse('malformed token');
    if (owner !== directory.owner) return this.#elsewhere(owner, { kind: 'resume', text: target.token }, up, checked, hop, refuse);
    // Burnt here, before anything else is judged: every attempt that reaches the owner costs the token.
    const session = directory.take(target.token);
    const position = parsePosition(target.position);
    if (session === undefined) return refuse('unknown or used token');
    if (position === null) return refuse('position must be a non-negative integer');
    if (!config.resumeAnyIp && session.clientIp !== checked.clientIp) return refuse('token used from another client IP');
    const { identity } = session;
    if (this.#deps.authEnabled && (identity.subject !== checked.identity.subject || identity.method !== checked.identity.method)) return refuse('token used by another identity');
    if (config.target === null && (session.target.host !== target.route.host || session.target.port !== target.route.port)) return refuse('token used on another route');
    if (!session.canResume(position)) return refuse(`position ${position} is past the output sent`);
    up.complete((ws) => {
      // Otherwise the session ended between the check and the upgrade.
      if (!session.resume(ws, position)) this.#closeUpgraded(ws, checked.clientIp, 'RESUME_INVALID', 'session ended');
    });
  }

  async #view(up: PendingUpgrade, token: string, checked: RelayedFacts, hop: Hop): Promise<void> {
    const { config, directory, logger } = this.#deps;
    const refuse = (code: ErrorCode, why: string): void => {
      logger.info({ event: 'viewer_refused', code, why, client_ip: checked.clientIp }, 'viewer refused');
      this.#deps.guard.refuse(checked.clientIp, { code, detail: code === 'SHARE_INVALID' ? undefined : why }, up.close);
    };
    const owner = shareTokenOwner(token);
    if (owner === null) return refuse('SHARE_INVALID', 'malformed link');
    if (owner !== directory.owner) return this.#elsewhere(owner, { kind: 'view', text: token }, up, checked, hop, (why, code) => refuse(code ?? 'SHARE_INVALID', why));
    const claims = verifyShareToken(directory.keyring, token, Date.now());
    if ('error' in claims) return refuse('SHARE_INVALID', claims.error);
    const session = directory.find(claims.sessionId);
    if (session === undefined) return refuse('SHARE_INVALID', 'session ended');
    const why = session.viewerRefusal(claims.linkId);
    if (why !== null) return refuse(why, why === 'SHARE_FULL' ? `at most ${config.shareMaxViewers}` : 'link ended');
    up.admitted(await this.#deps.admission.admit(checked.clientIp, session.target.key), (ws, admission) => {
      if (session.addViewer(ws, { subject: checked.identity.subject, clientIp: checked.clientIp }, claims.linkId, () => admission.release())) return;
      admission.release();
      this.#closeUpgraded(ws, checked.clientIp, 'SHARE_INVALID', 'link ended');
    });
  }
}
