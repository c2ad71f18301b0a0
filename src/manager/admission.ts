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
  };
}
