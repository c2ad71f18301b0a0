/**
 * A worker's Gate: Admission, Abuse, Tickets and HostKeys all asked of the primary's Gatekeeper
 * over IPC (the worker's Rpc is a Client of every request of the gate), so limits, the rate
 * limiter, bans and tickets are exact for the whole gateway, and the cluster's host keys are
 * reached through the primary's Redis connection. When the primary cannot answer (gone, or no answer
 * in time) requests fail and the upgrade is refused with INTERNAL.
 */
import type { Gate, GateRequests } from '../manager/gate.js';
import type { Client } from '../util/requests.js';

/** `rpc`: the worker's channel to its primary (./rpc.ts), which asks every request of the gate and more. */
export function remoteGate(rpc: Client<GateRequests> & { close(reason: string): void }): Gate {
  return { admission: rpc, abuse: rpc, tickets: rpc, owners: rpc, hostKeys: rpc, dispose: () => {
    rpc.close('gate disposed');
    return Promise.resolve();
  } };
}
