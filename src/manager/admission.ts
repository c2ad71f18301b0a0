/**
 * Admission: taking a session slot (every limit checked and counted in one step) and giving it
 * back. Its requests, the `Admission` a ConnectionManager holds, and the in-process authority: the
 * slot ledger (./ledger.ts), answering for whoever asks. In one process the manager asks it
 * directly (`local`); under `--workers` the ledger is the primary's and the workers ask over IPC.
 */
import type { Authority, Client } from '../util/requests.js';
import type { GrantResult, Holder, SlotCounts, SlotLedger } from './ledger.js';

export interface AdmissionRequests {
  /** Take a slot named `grantId` by its holder (so a grant whose answer is lost can be given back). */
  grant: { args: { clientIp: string; targetKey: string; grantId: string }; result: GrantResult };
  /** Idempotent. */
  release: { args: { grantId: string }; result: void };
  /** The gateway's slots, or the caller's own share of them (a worker's metrics). */
  slots: { args: { scope: 'gateway' | 'caller' }; result: SlotCounts };
  /** With `--cluster-redis`, the cluster's slots per node (read from Redis); null on one node. */
  nodes: { args: Record<string, never>; result: ClusterSlots | null };
}

/** One incarnation of a node in the cluster, and the slots it holds. */
export interface NodeSlots {
  /** The node's id (`--node-id`). */
  readonly node: string;
  /** `NODE/RANDOM`: one start of the node. */
  readonly incarnation: string;
  /** Slots it holds: its sessions (any state before CLOSED) and viewers. */
  readonly slots: number;
  /** Until its lease expires (Redis time); 0 or less: expired, its slots wait to be reaped. */
  readonly leaseExpiresInMs: number;
}

/** The cluster's slots, the whole and per node, and this node's own, read from Redis. */
export interface ClusterSlots {
  /** This node: its id and incarnation. */
  readonly node: string;
  readonly incarnation: string;
  /** This node's own slots (its incarnation's grants, every worker's). */
  readonly own: number;
  /** The cluster's slots: what the limits are checked against. */
  readonly total: number;
  /** Every incarnation with a lease in Redis (the newest leases first), at most a bounded number. */
  readonly nodes: readonly NodeSlots[];
  /** Incarnations with a lease that `nodes` leaves out (past the bound). */
  readonly unlisted: number;
}

export type Admission = Client<AdmissionRequests>;

/** Who asks the authority: the holder its grants are recorded under. */
export interface Caller {
  readonly holder: Holder;
}

export function admissionAuthority(ledger: SlotLedger): Authority<AdmissionRequests, Caller> {
  return {
    grant: (a, caller) => ledger.grant(caller.holder, a.grantId, a.clientIp, a.targetKey),
    release: (a, caller) => {
      ledger.release(caller.holder, a.grantId);
    },
    slots: (a, caller) => ledger.counts(a.scope === 'caller' ? caller.holder : undefined),
    nodes: () => null,
  };
}
