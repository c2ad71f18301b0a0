/**
 * Prometheus metrics on a registry of our own (never prom-client's global one). Counts that the
 * ConnectionManager already keeps are read from its snapshot at scrape time (`collect`; one
 * snapshot per scrape, shared by every metric), and the slots from the gate's ledger, so no
 * number is kept twice; only distributions (histograms) live here.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterSlots } from '../manager/admission.js';
import type { SlotCounts } from '../manager/ledger.js';
import type { ManagerStats } from '../manager/stats.js';
import { registerClusterMetrics } from './cluster-metrics.js';
import { perScrape } from './per-scrape.js';

export interface BridgeMetrics {
  readonly registry: Registry;
  observeTransition(from: string, to: string, msInFrom: number): void;
  observeHandshake(ms: number): void;
  observeSessionEnd(seconds: number): void;
  observeRedisCommand(command: string, seconds: number, ok: boolean): void;
  /** One file transfer ended (src/http/files-route.ts): `result` is `ok` or its catalogue code. */
  observeTransfer(direction: 'upload' | 'download', result: string, bytes: number): void;
}

const PREFIX = 'webssh_bridge_';

/**
 * Build the registry. `stats` is called once per scrape; so is `slots`, the slots this process
 * holds (all of them in one process; under `--workers` each worker's share, which the primary's
 * aggregation sums; with `--cluster-redis`, this node's own). `cluster`: this process owns
 * cluster admission in Redis, whose metrics (./cluster-metrics.ts) are registered too, the
 * cluster's slots per node read with it once per scrape.
 */
export function createMetrics(stats: () => ManagerStats, slots: () => Promise<SlotCounts>, opts: { cluster?: () => Promise<ClusterSlots | null> } = {}): BridgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const snapshot = perScrape(stats);
  const observeRedis = opts.cluster === undefined ? undefined : registerClusterMetrics(registry, () => snapshot().cluster, opts.cluster);

  /** A gauge read from one figure of the manager's snapshot at scrape time. */
  const statGauge = (name: string, help: string, read: (s: ManagerStats) => number): void => {
    new Gauge({
      name: `${PREFIX}${name}`, help, registers: [registry],
      collect() {
        this.set(read(snapshot()));
      },
    });
  };
  new Gauge({
    name: `${PREFIX}active_sessions`, help: 'Slots in use on this node: sessions currently open (any state before CLOSED, detached included) and viewers. With --cluster-redis, this node\'s own; the cluster\'s are webssh_bridge_cluster_sessions.', registers: [registry],
    async collect() {
      this.set((await slots()).open);
    },
  });
  statGauge('detached_sessions', 'Resumable sessions whose socket dropped, waiting for a resume.', (s) => s.detached);
  statGauge('viewers', 'Viewers watching shared sessions.', (s) => s.viewers);
  statGauge('output_buffered_bytes', 'Output bytes held for clients that have not taken them yet (in flight to the socket and in the SSH channels).', (s) => s.buffered);
  new Counter({
    name: `${PREFIX}resumes_total`,
    help: 'Sessions resumed after a dropped socket.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot().resumes);
    },
  });
  /** A counter read from the manager's stats at scrape time, one series per value of `label`. */
  const statCounter = (name: string, help: string, label: string, read: (s: ManagerStats) => Record<string, number>): void => {
    new Counter({
      name: `${PREFIX}${name}`, help, labelNames: [label], registers: [registry],
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read(snapshot()))) this.inc({ [label]: value }, n);
      },
    });
  };
  statCounter('sessions_total', 'Sessions ended, by outcome (the catalogue code they ended with).', 'outcome', (s) => s.outcomes);
  statCounter('rejections_total', 'Connection attempts refused before a session started, by reason code.', 'reason', (s) => s.rejections);
  statCounter('bytes_total', 'Terminal bytes moved, by direction.', 'direction', (s) => ({ to_ssh: s.bytesToSsh, to_client: s.bytesToClient }));
  statCounter('backpressure_pauses_total', 'Times a pump paused its source, by the direction that was paused.', 'direction',
    (s) => ({ ssh_output: s.pausesSshOutput, client_input: s.pausesClientInput }));

  const transitions = new Counter({
    name: `${PREFIX}state_transitions_total`,
    help: 'Session state machine transitions.',
    labelNames: ['from', 'to'],
    registers: [registry],
  });
  const stateSeconds = new Histogram({
    name: `${PREFIX}state_duration_seconds`,
    help: 'Time a session spent in a state before leaving it.',
    labelNames: ['state'],
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 86400],
    registers: [registry],
  });
  const handshake = new Histogram({
    name: `${PREFIX}ssh_handshake_seconds`,
    help: 'TCP connect to SSH authenticated, per session.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${PREFIX}session_duration_seconds`,
    help: 'Session lifetime from upgrade to close.',
    buckets: [1, 10, 60, 300, 900, 3600, 14400, 86400],
    registers: [registry],
  });

  // File transfers are counted only here: nothing else keeps them.
  const transfers = new Counter({
    name: `${PREFIX}file_transfers_total`,
    help: 'File transfers ended, by direction and result (ok, or the catalogue code).',
    labelNames: ['direction', 'result'],
    registers: [registry],
  });
  const transferBytes = new Counter({
    name: `${PREFIX}file_bytes_total`,
    help: 'File bytes moved by transfers, by direction and result.',
    labelNames: ['direction', 'result'],
    registers: [registry],
  });

  return {
    registry,
    observeTransition(from, to, msInFrom) {
      transitions.inc({ from, to });
      stateSeconds.observe({ state: from }, msInFrom / 1000);
    },
    observeHandshake(ms) {
      handshake.observe(ms / 1000);
    },
    observeSessionEnd(seconds) {
      duration.observe(seconds);
    },
    observeRedisCommand(command, seconds, ok) {
      observeRedis?.(command, seconds, ok);
    },
    observeTransfer(direction, result, bytes) {
      transfers.inc({ direction, result });
      transferBytes.inc({ direction, result }, bytes);
    },
  };
}
