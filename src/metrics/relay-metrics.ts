/**
 * The relay between nodes in the metrics (docs/scaling.md#resume-and-view-through-any-node): the
 * requests a node passed to another node, and those other nodes passed to it, by outcome. Read
 * from the relay's own counts at scrape time; registered only where there is a relay between
 * nodes. Under `--workers` the primary's aggregation sums the workers'.
 */
import { Counter, type Registry } from 'prom-client';

export interface RelayCounts {
  readonly out: { readonly ok: number; readonly failed: number };
  readonly in: { readonly ok: number; readonly refused: number };
}

export function registerRelayMetrics(registry: Registry, read: () => RelayCounts | undefined): void {
  new Counter({
    name: 'webssh_bridge_node_relays_total',
    help: 'Requests (resumes, viewers, file requests) relayed between nodes: direction "out" (passed to the node holding the session: ok, or failed to reach it) and "in" (taken from another node: ok, or refused because its facts did not verify).',
    labelNames: ['direction', 'outcome'],
    registers: [registry],
    collect() {
      const s = read();
      if (s === undefined) return;
      this.reset();
      this.inc({ direction: 'out', outcome: 'ok' }, s.out.ok);
      this.inc({ direction: 'out', outcome: 'failed' }, s.out.failed);
      this.inc({ direction: 'in', outcome: 'ok' }, s.in.ok);
      this.inc({ direction: 'in', outcome: 'refused' }, s.in.refused);
    },
  });
}
