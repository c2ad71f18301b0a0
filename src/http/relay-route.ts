/**
 * Where a request for a session goes, from the owner prefix of its token (pure; used by attach,
 * ./attach.ts, and the files route, ./files-route.ts, so both route alike):
 * - this process's own session: handled here;
 * - another worker of this node: over the worker relay (its Unix socket);
 * - another node: over the relay between nodes, to the address Redis gives.
 *
 * Relays do not chain: a request another worker passed here goes nowhere else; one another node
 * passed here may go on to a worker of this node, never to a third node. So a request crosses at
 * most one node and one worker.
 */
import { ownerNode, type OwnerId } from '../grammar/owner-id.js';

/** Where a request came from: a client of this process, another node's relay, another worker's. */
export type Hop = 'client' | 'node' | 'worker';

export type RelayRoute =
  | { readonly to: 'here' }
  | { readonly to: 'worker' }
  | { readonly to: 'node'; readonly node: string }
  | { readonly to: 'nowhere'; readonly why: string };

export function relayRoute(owner: OwnerId, self: OwnerId, hop: Hop, can: { readonly worker: boolean; readonly node: boolean }): RelayRoute {
  if (owner === self) return { to: 'here' };
  if (hop === 'worker') return { to: 'nowhere', why: `relayed token of another process ${owner}` };
  const node = ownerNode(owner);
  if (node === ownerNode(self)) return can.worker ? { to: 'worker' } : { to: 'nowhere', why: `no worker ${owner} here` };
  if (hop === 'node' || node === null) return { to: 'nowhere', why: `token of another node ${owner} relayed here` };
  if (!can.node) return { to: 'nowhere', why: `session on node ${node}, and no relay to other nodes here` };
  return { to: 'node', node };
}
