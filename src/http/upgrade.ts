/**
 * The upgrade path of this process's port, in the order the checks must run: the request's
 * method and path (./upgrade-request.ts) -> the guard (./guard.ts: client IP -> login ban -> rate
 * limit -> origin) -> draining -> gateway authentication (a one-time ticket, or the request's own
 * credential) -> then either attach to a session by its token (./attach.ts: resume or view), or
 * a new session: target policy (after DNS) and the identity's target restrictions -> admission ->
 * upgrade. How each refusal is answered (HTTP, or a WebSocket close for the page): see
 * ./pending-upgrade.ts. Requests relayed by another process come in through ./relayed.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import { ANONYMOUS, targetAllowed, type Identity } from '../auth/identity.js';
import type { Config } from '../config/types.js';
import { BridgeError, isBridgeError } from '../errors.js';
import { formatHostPort } from '../grammar/target-rule.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { TicketRequests } from '../manager/tickets.js';
import { resolveRoute, type JumpRoute } from '../policy/route.js';
import type { JumpRoutes } from '../ssh/route-keys.js';
import type { LookupFn, ResolvedTarget } from '../policy/target.js';
import type { TargetPolicy } from '../policy/target-rules.js';
import { codecFor } from '../protocol/codec.js';
import type { Attach } from './attach.js';
import { upgradeOrigin } from './cross-site.js';
import type { Guard } from './guard.js';
import { PendingUpgrade, upgradeEntry } from './pending-upgrade.js';
import { readOrRefuse, type UpgradeRequest } from './upgrade-request.js';
import type { Client } from '../util/requests.js';

export interface UpgradeDeps {
  readonly config: Pick<Config, 'basePath' | 'target'>;
  readonly manager: Pick<ConnectionManager, 'draining' | 'admit' | 'startSession'>;
  readonly guard: Guard;
  readonly attach: Attach;
  /** Redeeming a ticket: the gate's tickets. */
  readonly tickets: Client<Pick<TicketRequests, 'redeemTicket'>>;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
  /** The target policy (allow/deny rules), applied to every resolved address before any dial. */
  readonly policy: TargetPolicy;
  /** Operator routes (--jump-route); none when absent. */
  readonly routes?: JumpRoutes;
  readonly lookup: LookupFn;
  /** Bridge authentication (a no-op when no method is configured). */
  readonly auth: BridgeAuth;
}

export function createUpgradeHandler(deps: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { config, manager, guard, logger } = deps;

  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const up = new PendingUpgrade(req, socket, head, deps);
    const request = readOrRefuse(up, config, guard);
    if (request === null) return;
    const ip = guard.clientIp(req);
    const identity = await guard.pass(req, ip, { crossSite: upgradeOrigin, step: () => identify(req, ip, request), answer: up.answer });
    if (identity === null || socket.destroyed) return;
    const checked = { clientIp: ip, identity };
    if (request.attach !== null) await deps.attach.fromClient(up, request.attach, checked);
    else await startSession(up, request, checked);
  };

  /** The guard's step for the upgrade: not draining, then who this is. */
  const identify = async (req: IncomingMessage, ip: string, request: UpgradeRequest): Promise<Identity> => {
    if (manager.draining) throw new BridgeError('DRAINING');
    try {
      return await authenticate(req, ip, request.ticket, request.binding);
    } catch (err) {
      if (isBridgeError(err)) throw err;
      logger.error({ err }, 'gateway authentication failed unexpectedly');
      throw new BridgeError('INTERNAL');
    }
  };

  /** A ticket when one is presented (the page), else the request's own credential (other clients). */
  const authenticate = async (req: IncomingMessage, ip: string, ticket: string | null, binding: string | null): Promise<Identity> => {
    const { auth } = deps;
    if (!auth.enabled) return ANONYMOUS;
    if (ticket !== null) {
      const redeemed = await deps.tickets.ask('redeemTicket', { ticket, binding: { clientIp: ip, target: binding } }); // gate call site: tickets
      if (!redeemed.ok) throw new BridgeError(redeemed.code ?? 'TICKET_INVALID', redeemed.reason);
      return redeemed.identity;
    }
    return auth.authenticate(req);
  };

  /** A new session: the route after DNS and policy (./route.ts), its target allowed for this identity, then a slot. */
  const startSession = async (up: PendingUpgrade, request: UpgradeRequest, checked: { clientIp: string; identity: Identity }): Promise<void> => {
    const { clientIp, identity } = checked;
    let target: ResolvedTarget;
    let jump: JumpRoute | null;
    try {
      ({ target, jump } = await resolveRoute(request.path, request.jump, deps.policy, deps.lookup, deps.routes));
      if (!targetAllowed(identity, target.host, target.port, target.address)) {
        throw new BridgeError('TARGET_DENIED', `${target.host === target.address ? formatHostPort(target.host, target.port) : `${target.host}:${target.port}`} is not permitted for ${identity.subject}`);
      }
    } catch (err) {
      guard.refuse(clientIp, isBridgeError(err) ? err : new BridgeError('DNS_FAILED'), up.late);
      return;
    }
    if (up.socket.destroyed) return;
    up.admitted(await manager.admit(clientIp, target.key), (ws, admission) => {
      manager.startSession(admission, { ws, codec: codecFor(ws.protocol), target, jump, clientIp, identity });
    });
  };

  return upgradeEntry(logger, handle);
}
