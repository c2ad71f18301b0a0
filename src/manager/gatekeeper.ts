/**
 * The admission authority in one process: the slot ledger, the abuse guard and the ticket store,
 * and the one Authority that answers every request of the gate from them. A single-process
 * gateway's ConnectionManager builds one and asks it directly; under `--workers` the cluster
 * primary owns the only one and answers the workers with the same Authority, naming each worker as
 * the holder of the slots it takes.
 */
import { TicketStore } from '../auth/tickets.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { local, type Authority } from '../util/requests.js';
import { AbuseGuard, abuseAuthority, type AbuseConfig } from './abuse.js';
import { admissionAuthority, type Caller } from './admission.js';
import type { Gate, GateRequests } from './gate.js';
import { SlotLedger, type Holder, type SlotLimits } from './ledger.js';
import { ticketAuthority } from './tickets.js';

export type GatekeeperConfig = SlotLimits & AbuseConfig & Pick<Config, 'authTicketTtlMs'>;

export class Gatekeeper {
  readonly ledger: SlotLedger;
  readonly abuse: AbuseGuard;
  readonly authority: Authority<GateRequests, Caller>;
  readonly #tickets: TicketStore;

  constructor(config: GatekeeperConfig, logger: Logger) {
    this.ledger = new SlotLedger(config);
    this.abuse = new AbuseGuard(config, logger);
    this.#tickets = new TicketStore(config.authTicketTtlMs);
    this.authority = { ...admissionAuthority(this.ledger), ...abuseAuthority(this.abuse), ...ticketAuthority(this.#tickets) };
  }

  /** The gate of `holder` in this process: its requests are answered here at once. */
  gate(holder: Holder): Gate {
    const client = local(this.authority, { holder });
    return { admission: client, abuse: client, tickets: client, dispose: () => this.dispose() };
  }

  /** Stops the ticket sweeper. */
  dispose(): void {
    this.#tickets.dispose();
  }
}
