/**
 * The upgrade path of the relay listener (./relay.ts): a resume or a viewer that another process
 * of this gateway passed here because this process holds the session. That process has run the
 * guard (ban, rate, origin) and gateway authentication, and sends what it established (client IP,
 * identity), so only draining and the attach itself (./attach.ts) are judged here. The listener
 * takes nothing else: a request without those facts, or one that is not a resume or a view, is
 * refused.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { Attach } from './attach.js';
import type { Guard } from './guard.js';
import { PendingUpgrade, upgradeEntry } from './pending-upgrade.js';
import type { Relay } from './relay.js';
import { readOrRefuse } from './upgrade-request.js';

export interface RelayedDeps {
  readonly config: Pick<Config, 'basePath' | 'target'>;
  readonly manager: Pick<ConnectionManager, 'draining'>;
  readonly guard: Pick<Guard, 'refuse'>;
  readonly attach: Pick<Attach, 'relayed'>;
  readonly relay: Pick<Relay, 'facts'>;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
}

export function createRelayedHandler(deps: RelayedDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { guard } = deps;
  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const up = new PendingUpgrade(req, socket, head, deps);
    const request = readOrRefuse(up, deps.config, guard);
    if (request === null) return;
    const facts = deps.relay.facts(req);
    // Only what a process of this gateway relayed, with its two headers.
    if (facts === null) return guard.refuse(null, { code: 'BAD_REQUEST', detail: 'not a relayed request' }, up.http);
    if (deps.manager.draining) return guard.refuse(facts.clientIp, { code: 'DRAINING' }, up.late);
    if (socket.destroyed) return;
    if (request.attach === null) return guard.refuse(facts.clientIp, { code: 'RESUME_INVALID', detail: 'only resumes and viewers are relayed' }, up.http);
    await deps.attach.relayed(up, request.attach, facts);
  };
  return upgradeEntry(deps.logger, handle);
}
