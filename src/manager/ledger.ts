/**
 * The slot ledger: every session slot of the gateway, one grant each, recorded with its holder
 * (who took it: this process, or a cluster worker; later a node incarnation), its client IP and its
 * target. That is the lease model a shared store will need, and the one count of slots there is:
 * the session limits are checked against it, /stats, /health and /metrics read it, and a holder
 * that dies gives back everything it held in one call.
 *
 * Pure and synchronous: a grant checks every limit and takes its slot in the same step, so
 * concurrent upgrades cannot overshoot. A holder names its own grants (ids are unique per holder),
 * so it can give back a grant whose answer it never got.
 */
import type { Config } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import type { OwnerId } from '../grammar/owner-id.js';
import { Tally } from './tally.js';

/** Who holds a grant: the process that took it, named like the owner of a session (a worker; later a node's). */
export type Holder = OwnerId;

export interface Grant {
  readonly holder: Holder;
  readonly clientIp: string;
  readonly targetKey: string;
}

export type GrantResult = { readonly ok: true } | { readonly ok: false; readonly code: ErrorCode };

/** Slots in use, in all or by one holder. */
export interface SlotCounts {
  readonly open: number;
  /** Slots per client IP. */
  readonly perClient: Readonly<Record<string, number>>;
  /** Slots per resolved target `ip:port`. */
  readonly perTarget: Readonly<Record<string, number>>;
}

export type SlotLimits = Pick<Config, 'connMaxTotal' | 'connMaxPerHost' | 'connMaxPerTarget'>;

export class SlotLedger {
  readonly #limits: SlotLimits;
  /** Grants by holder, then by the id the holder gave them. */
  readonly #byHolder = new Map<Holder, Map<string, Grant>>();
  /** Indexes of the same grants, changed in the same step, so a limit check costs no walk. */
  readonly #perClient = new Tally();
  readonly #perTarget = new Tally();

  constructor(limits: SlotLimits) {
    this.#limits = limits;
  }

  /** Check every session limit and take the slot in the same step; an id its holder already uses is refused as INTERNAL. */
  grant(holder: Holder, id: string, clientIp: string, targetKey: string): GrantResult {
    const l = this.#limits;
    if (this.#open() >= l.connMaxTotal) return { ok: false, code: 'LIMIT_TOTAL' };
    if (this.#perClient.get(clientIp) >= l.connMaxPerHost) return { ok: false, code: 'LIMIT_PER_IP' };
    if (this.#perTarget.get(targetKey) >= l.connMaxPerTarget) return { ok: false, code: 'LIMIT_PER_TARGET' };
    let held = this.#byHolder.get(holder);
    if (held === undefined) {
      held = new Map();
      this.#byHolder.set(holder, held);
    } else if (held.has(id)) {
      return { ok: false, code: 'INTERNAL' };
    }
    held.set(id, { holder, clientIp, targetKey });
    this.#perClient.add(clientIp);
    this.#perTarget.add(targetKey);
    return { ok: true };
  }

  /** Give a slot back; an unknown or already released id is ignored (idempotent). */
  release(holder: Holder, id: string): Grant | undefined {
    const held = this.#byHolder.get(holder);
    const grant = held?.get(id);
    if (held === undefined || grant === undefined) return undefined;
    held.delete(id);
    if (held.size === 0) this.#byHolder.delete(holder);
    this.#forget(grant);
    return grant;
  }

  /** Give back every slot `holder` holds (it died); returns them, for the record of what was lost. */
  releaseHolder(holder: Holder): Grant[] {
    const held = this.#byHolder.get(holder);
    if (held === undefined) return [];
    this.#byHolder.delete(holder);
    const grants = [...held.values()];
    for (const grant of grants) this.#forget(grant);
    return grants;
  }

  /** The slots of the whole gateway, or of one holder (its share, for its own metrics). */
  counts(holder?: Holder): SlotCounts {
    if (holder === undefined) return { open: this.#open(), perClient: this.#perClient.snapshot(), perTarget: this.#perTarget.snapshot() };
    const perClient = new Tally();
    const perTarget = new Tally();
    const held = this.#byHolder.get(holder)?.values() ?? [];
    let open = 0;
    for (const grant of held) {
      open++;
      perClient.add(grant.clientIp);
      perTarget.add(grant.targetKey);
    }
    return { open, perClient: perClient.snapshot(), perTarget: perTarget.snapshot() };
  }

  #open(): number {
    let n = 0;
    for (const held of this.#byHolder.values()) n += held.size;
    return n;
  }

  #forget(grant: Grant): void {
    this.#perClient.remove(grant.clientIp);
    this.#perTarget.remove(grant.targetKey);
  }
}
