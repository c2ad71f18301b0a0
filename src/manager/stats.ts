/** Snapshot shapes of the ConnectionManager and of the gateway: read by /health, /stats and the metrics collector. */
import type { GateSnapshot } from './gate.js';
import type { ClusterAdmissionStats } from './redis-admission.js';

export interface ManagerStats {
  /**
   * Slots in use: open sessions (attached or detached) and viewers of shared sessions. Like
   * `perClient` and `perTarget`, read from the slot ledger, and present only where the ledger is
   * in this process (one process); under `--workers` the primary's ledger counts every worker's
   * slots (ClusterStats.gate), and a worker reports none of its own.
   */
  readonly active?: number;
  /** Slots per client IP. */
  readonly perClient?: Readonly<Record<string, number>>;
  /** Slots per resolved target `ip:port`. */
  readonly perTarget?: Readonly<Record<string, number>>;
  /** Resumable sessions whose socket dropped, waiting for a resume (docs/protocol.md#resume). */
  readonly detached: number;
  /** Viewers watching shared sessions (docs/protocol.md#sharing). */
  readonly viewers: number;
  /** Successful resumes so far. */
  readonly resumes: number;
  readonly total: number;
  /** Sessions that reached ACTIVE (an SSH shell was opened). */
  readonly successful: number;
  /** Sessions that ended without reaching ACTIVE. */
  readonly failed: number;
  /** Sessions that reached ACTIVE by their route's kind: `direct`, `jump` (the client's `?jump=`), `operator` (`--jump-route`). */
  readonly routes: Readonly<Record<string, number>>;
  /** Ended sessions by the catalogue code they ended with. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Refused attempts by catalogue code (rate, origin, target, limits, draining, bad path). */
  readonly rejections: Readonly<Record<string, number>>;
  readonly bytesToSsh: number;
  readonly bytesToClient: number;
  /** Output bytes held for clients now (Pump.held summed over sessions), and the most one session holds. */
  readonly buffered: number;
  readonly bufferedMax: number;
  readonly pausesSshOutput: number;
  readonly pausesClientInput: number;
  /** A stop has begun (/readyz answers 503), its ready delay included: new sessions are refused only once that is over. */
  readonly draining: boolean;
  /** Cluster admission in Redis (`--cluster-redis`), where this process owns it: its lease and Redis's state. */
  readonly cluster?: ClusterAdmissionStats;
}

/** The whole gateway's statistics: every process's sessions, and the one authority's state (slots included). */
export interface ClusterStats {
  readonly stats: ManagerStats;
  readonly gate: GateSnapshot;
  readonly workers: number;
  /** Sessions that ended because their worker process died. */
  readonly lostSessions: number;
}
