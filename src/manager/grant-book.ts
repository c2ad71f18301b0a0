/**
 * This node's own grants in cluster admission: what it holds (answered ok by Redis) and what it
 * has asked for (in flight). Pure. Redis keeps the gateway's count; the book is what lets the node
 * rebuild its part of it at once when Redis has lost it (restarted empty, failed over) or when a
 * command's outcome is unknown (a timeout), so no slot leaks and none is counted twice.
 */
import { encodeRecord, grantField } from '../redis/keys.js';
import type { Grant, Holder, SlotCounts } from './ledger.js';
import { Tally } from './tally.js';

interface Entry extends Grant {
  /** Asked for, not yet answered. */
  pending: boolean;
}

export class GrantBook {
  /** By field (`holder.grantId`, ../redis/keys.ts). */
  readonly #entries = new Map<string, Entry>();

  /** Record a grant being asked for; false when its holder already used the id. */
  ask(holder: Holder, grantId: string, clientIp: string, targetKey: string): string | null {
    const field = grantField(holder, grantId);
    if (this.#entries.has(field)) return null;
    this.#entries.set(field, { holder, clientIp, targetKey, pending: true });
    return field;
  }

  /** Redis granted it: true when it is still wanted (no release or holder loss came first). */
  granted(field: string): boolean {
    const e = this.#entries.get(field);
    if (e === undefined) return false;
    e.pending = false;
    return true;
  }

  /** Forget a grant (refused, failed, or given back); returns it when it was there. */
  drop(field: string): Grant | undefined {
    const e = this.#entries.get(field);
    this.#entries.delete(field);
    return e;
  }

  /** Every grant of `holder` (a worker that died), dropped; with their fields. */
  dropHolder(holder: Holder): Array<[string, Grant]> {
    const out: Array<[string, Grant]> = [];
    for (const [field, e] of this.#entries) {
      if (e.holder !== holder) continue;
      this.#entries.delete(field);
      out.push([field, e]);
    }
    return out;
  }

  /** Grants answered ok and still held. */
  get held(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (!e.pending) n++;
    return n;
  }

  get pending(): number {
    return this.#entries.size - this.held;
  }

  /** The slots `holder` holds (answered ok), as the ledger counts them. */
  counts(holder: Holder): SlotCounts {
    const perClient = new Tally();
    const perTarget = new Tally();
    let open = 0;
    for (const e of this.#entries.values()) {
      if (e.pending || e.holder !== holder) continue;
      open++;
      perClient.add(e.clientIp);
      perTarget.add(e.targetKey);
    }
    return { open, perClient: perClient.snapshot(), perTarget: perTarget.snapshot() };
  }

  /**
   * The sync script's arguments (../redis/scripts.ts): N, N pairs (field, record) held, then the
   * fields in flight, which Redis has already decided by the time the sync runs (one connection,
   * in order) and which the sync keeps as they are.
   */
  syncArgs(): string[] {
    const held: string[] = [];
    const pending: string[] = [];
    for (const [field, e] of this.#entries) {
      if (e.pending) pending.push(field);
      else held.push(field, encodeRecord(e));
    }
    return [String(held.length / 2), ...held, ...pending];
  }
}
