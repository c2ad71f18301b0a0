/**
 * The metrics of cluster admission in Redis (`--cluster-redis`), registered only in the process
 * that owns it (a single process, or the primary under `--workers`), so each node reports them
 * once: the latency of every Redis command (a histogram: a distribution, so it lives here), and,
 * pulled from the lease at scrape time, its renewals, the slots it reaped from dead nodes, whether
 * it may admit, and the requests of the rate limit and ban answered locally while Redis did not
 * answer; and, read from Redis at scrape time, the cluster's slots, in all and per node. Refusals
 * for CLUSTER_UNAVAILABLE are `webssh_bridge_rejections_total{reason="CLUSTER_UNAVAILABLE"}`,
 * counted with every other refusal.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClusterSlots } from '../manager/admission.js';
import type { ClusterAdmissionStats } from '../manager/redis-admission.js';
import { perScrape } from './per-scrape.js';

const PREFIX = 'webssh_bridge_';

/**
 * Registers the metrics on `registry`; returns the observer of Redis commands. `read` is called at
 * scrape time, and so is `slots` (Redis round trips), once per scrape for both gauges it feeds.
 */
export function registerClusterMetrics(registry: Registry, read: () => ClusterAdmissionStats | undefined, slots: () => Promise<ClusterSlots | null>): (command: string, seconds: number, ok: boolean) => void {
  const latency = new Histogram({
    name: `${PREFIX}redis_command_seconds`,
    help: 'Latency of the Redis commands of cluster admission (scripts and reads), by command and outcome (ok, error: failed or timed out).',
    labelNames: ['command', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Counter({
    name: `${PREFIX}cluster_lease_renewals_total`,
    help: 'Heartbeats of this node\'s lease in Redis, by result (ok, failed).',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const s = read();
      this.reset();
      if (s === undefined) return;
      this.inc({ result: 'ok' }, s.renewals.ok);
      this.inc({ result: 'failed' }, s.renewals.failed);
    },
  });
  new Counter({
    name: `${PREFIX}cluster_reaped_slots_total`,
    help: 'Slots this node gave back for other nodes whose lease expired.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read()?.reaped ?? 0);
    },
  });
  new Counter({
    name: `${PREFIX}cluster_fallbacks_total`,
    help: 'Requests answered from this node\'s own state because Redis did not answer (failed or timed out), by what: abuse (the rate limit and login ban).',
    labelNames: ['what'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ what: 'abuse' }, read()?.fallbacks.abuse ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}cluster_admitting`,
    help: '1 while this node\'s lease in Redis is believed valid and Redis answers (new sessions can be admitted), else 0.',
    registers: [registry],
    collect() {
      const s = read();
      this.set(s !== undefined && s.valid && s.redisUp ? 1 : 0);
    },
  });
  // Redis not answering makes the figures unknown, not 0: the total is NaN and no node is listed
  // (the scrape itself still answers; webssh_bridge_cluster_admitting says why).
  const cluster = perScrape(() => slots().catch(() => null));
  new Gauge({
    name: `${PREFIX}cluster_sessions`,
    help: 'Slots in use in the whole cluster (sessions and viewers of every node), read from Redis: what the session limits are checked against. NaN while Redis does not answer.',
    registers: [registry],
    async collect() {
      const c = await cluster();
      this.set(c === null ? NaN : c.total);
    },
  });
  new Gauge({
    name: `${PREFIX}cluster_node_sessions`,
    help: 'Slots in use per node of the cluster, read from Redis: every node with a lease (one that expired until its slots are reaped), by node id.',
    labelNames: ['node'],
    registers: [registry],
    async collect() {
      const c = await cluster();
      this.reset();
      const perNode = new Map<string, number>();
      for (const n of c?.nodes ?? []) perNode.set(n.node, (perNode.get(n.node) ?? 0) + n.slots);
      for (const [node, n] of perNode) this.set({ node }, n);
    },
  });
  return (command, seconds, ok) => latency.observe({ command, outcome: ok ? 'ok' : 'error' }, seconds);
}
