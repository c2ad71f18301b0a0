/**
 * The cluster primary under `--workers N`: forks N workers that share the listening port
 * (node:cluster hands connections out round-robin), and owns what must be exact for the whole
 * gateway - the Gatekeeper (rate limiter, bans, session limits, tickets). It answers the
 * workers' IPC requests with the Gatekeeper's Authority (each worker the holder of the slots it
 * takes), sums their statistics for /health and /stats (the slots come from the ledger),
 * aggregates their Prometheus registries for /metrics, forwards SIGHUP, stops every worker on
 * SIGTERM/SIGINT (with a ready delay, first `unready` to every worker, so each one's /readyz
 * answers 503 while it still serves, and `drain` when the delay is over or a second signal
 * hurries it), and replaces a worker that dies, releasing its slots and logging its sessions as
 * lost.
 * It serves no traffic itself. It makes the private (0700) directory of the workers' resume relay
 * sockets (src/cluster/resume-relay.ts), passes it in RELAY_DIR_ENV, and removes it at the end.
 *
 * A stop (SIGTERM, SIGINT) at any moment of the start drains promptly: `drain` goes to every
 * worker, and again to any worker that says `hello` (its command listener is in place,
 * ./stop-request.ts) after the drain began, so a worker still loading cannot miss it (during the
 * ready delay, `unready` the same way). The ready delay applies only once some worker listens.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import { tlsEnabled } from '../http/tls.js';
import { workerOwner } from '../grammar/owner-id.js';
import type { Logger } from '../log.js';
import type { Caller } from '../manager/admission.js';
import { gateSnapshot } from '../manager/gate.js';
import { Gatekeeper } from '../manager/gatekeeper.js';
import type { ClusterAdmissionStats } from '../manager/redis-admission.js';
import { registerClusterMetrics } from '../metrics/cluster-metrics.js';
import type { ClusterStats } from '../manager/stats.js';
import type { Authority } from '../util/requests.js';
import { isToPrimary, type PrimaryRequests, type ToWorker, type WorkerRequests } from '../cluster/messages.js';
import { EMPTY_STATS, mergeStats } from '../cluster/merge-stats.js';
import { answer, hear, Rpc } from '../cluster/rpc.js';
import { relaySocketPath } from '../cluster/resume-relay.js';
import { listeningLine } from './listening-line.js';
import { drainThenNow, type StopRequest } from './stop-request.js';
import { Pause } from '../util/pause.js';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable that carries the relay directory to the workers (not a user option). */
export const RELAY_DIR_ENV = 'WEBSSH_BRIDGE_RELAY_DIR';

/** The longest wait before a crashed worker is replaced (100 ms, doubling per recent crash). */
const RESTART_BACKOFF_MAX_MS = 30_000;

/** A worker and what the primary keeps of it; the holder of its slots in the ledger (its owner id). */
interface Slot extends Caller {
  readonly index: number;
  readonly worker: Worker;
  readonly rpc: Rpc<PrimaryRequests>;
  listening: boolean;
}

export interface PrimaryOptions {
  readonly config: Config;
  readonly workers: number;
  readonly logger: Logger;
  /** SIGTERM and SIGINT; owned here before the first fork. */
  readonly stop: StopRequest;
  /** Called once with the exit code when the primary is done (the CLI exits with it). */
  readonly exit: (code: number) => void;
  /** The level of `primary_start` (./listening-line.ts: debug in the pretty log format). */
  readonly startLines: 'info' | 'debug';
}

export function runPrimary(opts: PrimaryOptions): void {
  const { config, logger } = opts;
  // With --cluster-redis the Gatekeeper's admission is in Redis: its metrics are the primary's own
  // (the workers hold none of it), appended to the workers' aggregated ones.
  const own = config.clusterRedis === null ? undefined : new Registry();
  const observeRedis = own === undefined
    ? undefined
    : registerClusterMetrics(own, (): ClusterAdmissionStats | undefined => keeper.clusterStats(), () => readOnly.admission.ask('nodes', {}));
  const keeper: Gatekeeper = new Gatekeeper(config, logger, observeRedis);
  const aggregator = new AggregatorRegistry();
  const slots = new Map<number, Slot>(); // by worker.id
  /** A stop has begun (its ready delay included): no worker is replaced any more. */
  let shuttingDown = false;
  /** The workers were told to drain (the ready delay, if any, is over). */
  let draining = false;
  /** The ready delay of the stop (--server-shutdown-ready-delay): owned here, ended by hurry() or finish(). */
  const readyDelay = new Pause();
  let announced = false;
  let lostSessions = 0;
  let recentCrashes = 0;
  /** Replacements waiting for their backoff. */
  const restarts = new Set<NodeJS.Timeout>();
  let exitCode = 0;
  /** Set when the drain timed out and the workers left were killed: the stop was not clean. */
  let forced = false;

  // mkdtemp makes the directory 0700: only this user's processes reach the relay sockets.
  const relayDir = mkdtempSync(join(tmpdir(), 'webssh-bridge-relay-'));

  const sendTo = (w: Worker) => (m: ToWorker): boolean => (w.isConnected() ? w.send(m) : false);
  const drain = (slot: Slot): boolean => sendTo(slot.worker)({ uwsb: 1, kind: 'cmd', op: 'drain' });
  const unready = (slot: Slot): boolean => sendTo(slot.worker)({ uwsb: 1, kind: 'cmd', op: 'unready' });

  /** The primary's own view of the gate, to read it: no worker has cluster id 0, and this holds no slot. */
  const readOnly = keeper.gate(workerOwner(0));
  const clusterStats = async (): Promise<ClusterStats> => {
    const live = [...slots.values()].filter((s) => s.worker.isConnected());
    // The workers' figures and the gate's (Redis round trips with --cluster-redis) at the same time.
    const [all, gate] = await Promise.all([Promise.all(live.map((s) => s.rpc.ask('localStats', {}).catch(() => EMPTY_STATS))), gateSnapshot(readOnly)]);
    return { stats: mergeStats(all, lostSessions > 0 ? { ['WORKER_LOST' satisfies ErrorCode]: lostSessions } : {}), gate, workers: live.length, lostSessions };
  };

  /** Every request a worker makes: the gate's (the Gatekeeper's Authority, the worker the caller), and the cluster's own. */
  const authority: Authority<WorkerRequests, Slot> = {
    ...keeper.authority,
    clusterStats,
    clusterMetrics: async () => ({ contentType: aggregator.contentType, text: await aggregator.clusterMetrics() + (own === undefined ? '' : await own.metrics()) }),
    listening: (args, slot) => listening(slot, args),
    hello: (_args, slot) => {
      // The command sent before may have reached it before it could hear.
      if (draining) drain(slot);
      else if (shuttingDown) unready(slot);
    },
  };

  const fork = (index: number): void => {
    const worker = cluster.fork({ [RELAY_DIR_ENV]: relayDir });
    const slot: Slot = { index, worker, holder: workerOwner(worker.id), rpc: new Rpc(sendTo(worker)), listening: false };
    slots.set(worker.id, slot);
    worker.on('message', (m: unknown) => {
      if (!isToPrimary(m)) return; // prom-client's own messages
      if (m.kind === 'res') slot.rpc.settle(m);
      else if (m.kind === 'req') void answer(authority, m, slot, sendTo(worker));
      else hear(authority, m, slot);
    });
    worker.once('exit', (code, signal) => exited(slot, code, signal));
  };

  const exited = (slot: Slot, code: number | null, signal: string | null): void => {
    slots.delete(slot.worker.id);
    try {
      unlinkSync(relaySocketPath(relayDir, slot.worker.id)); // left behind by a worker that was killed
    } catch {
      // removed by the worker itself on a clean exit
    }
    slot.rpc.close('worker exited');
    const lost = keeper.releaseHolder(slot.holder);
    for (const grant of lost) {
      logger.warn({ event: 'session_end', code: 'WORKER_LOST' satisfies ErrorCode, client_ip: grant.clientIp, address: grant.targetKey, worker: slot.index }, 'session lost with its worker');
    }
    lostSessions += lost.length;
    if (shuttingDown) {
      // A worker that dies during the drain loses its sessions (logged above), but the stop is
      // still the clean stop that was asked for; only the kill timer makes it exit 1.
      if (code !== 0) logger.warn({ event: 'worker_exit', worker: slot.index, pid: slot.worker.process.pid, code, signal, sessions_lost: lost.length }, 'worker exited during the drain');
      if (slots.size === 0) finish();
      return;
    }
    logger.error({ event: 'worker_exit', worker: slot.index, pid: slot.worker.process.pid, code, signal, sessions_lost: lost.length }, 'worker exited');
    // Told to stop from outside (its own SIGTERM or SIGINT, e.g. a terminal's Ctrl-C reaching the
    // process group before the primary heard it): not a failed start, so it is replaced.
    const stoppedFromOutside = code === 0 || signal === 'SIGTERM' || signal === 'SIGINT';
    if (!slot.listening && !stoppedFromOutside) {
      // It never served: a bad configuration or a port in use. Restarting would loop; stop.
      logger.error({ event: 'start_failed', worker: slot.index }, 'a worker failed to start; stopping');
      exitCode = code === 2 ? 2 : 1;
      shutdown();
      return;
    }
    recentCrashes++;
    const delay = Math.min(RESTART_BACKOFF_MAX_MS, 100 * 2 ** (recentCrashes - 1));
    // Ref'd: when every worker has died at once nothing else keeps the primary's event loop
    // alive (node:cluster drops the shared port with its last worker), and an unref'd timer let
    // the primary exit 0 in silence instead of replacing them. The drain clears it.
    const restart = setTimeout(() => {
      restarts.delete(restart);
      if (!shuttingDown) fork(slot.index);
    }, delay);
    restarts.add(restart);
    setTimeout(() => { recentCrashes = Math.max(0, recentCrashes - 1); }, 60_000).unref();
  };

  /** Worker `slot`'s App listens at `address` (its own word: the `listening` notice). */
  const listening = (slot: Slot, address: { address: string; port: number }): void => {
    slot.listening = true;
    if (!announced && !shuttingDown && [...slots.values()].every((s) => s.listening) && slots.size === opts.workers) {
      announced = true;
      const tls = tlsEnabled(config);
      const host = address.address;
      const shown = host.includes(':') ? `[${host}]` : host;
      const url = `${tls ? 'https' : 'http'}://${shown}:${address.port}`;
      logger.info(...listeningLine({ address: host, port: address.port, url, tls }, config.basePath, { workers: opts.workers }));
    }
  };

  let killTimer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(killTimer);
    readyDelay.cut();
    if (forced) exitCode = 1;
    rmSync(relayDir, { recursive: true, force: true });
    // With Redis, this gives the node's slots back first (bounded by the command timeout).
    void keeper.dispose().finally(() => {
      logger.info({ event: 'stopped', lost_sessions: lostSessions }, 'stopped');
      opts.exit(exitCode);
    });
  };

  const shutdown = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const restart of restarts) clearTimeout(restart);
    restarts.clear();
    const delayMs = config.serverShutdownReadyDelayMs;
    // While no worker listens nobody is to be warned: the drain begins at once.
    if (delayMs > 0 && [...slots.values()].some((s) => s.listening)) {
      logger.info({ event: 'not_ready', ready_delay_ms: delayMs, workers: slots.size }, 'not ready: every worker\'s /readyz answers 503, new sessions still admitted until the drain');
      for (const slot of slots.values()) unready(slot);
      void readyDelay.wait(delayMs).then(drainAll);
      return;
    }
    drainAll();
  };

  /** The drain proper, once the ready delay (if any) is over. */
  const drainAll = (): void => {
    if (draining || finished) return;
    draining = true;
    logger.info({ workers: slots.size, timeout_ms: config.serverShutdownTimeoutMs }, 'draining');
    for (const slot of slots.values()) drain(slot);
    if (slots.size === 0) {
      finish();
      return;
    }
    // A worker that does not finish its drain in time (plus a margin) is killed.
    killTimer = setTimeout(() => {
      forced = true;
      for (const slot of slots.values()) slot.worker.process.kill('SIGKILL');
    }, config.serverShutdownTimeoutMs + 5000);
    killTimer.unref();
  };

  opts.stop.own(drainThenNow(logger, shutdown, () => {
    for (const slot of slots.values()) slot.worker.process.kill('SIGKILL');
    opts.exit(1);
  }, () => readyDelay.cut()));
  process.on('SIGHUP', () => {
    for (const slot of slots.values()) sendTo(slot.worker)({ uwsb: 1, kind: 'cmd', op: 'reload' });
  });

  logger[opts.startLines]({ event: 'primary_start', workers: opts.workers, pid: process.pid }, 'starting workers');
  for (let i = 0; i < opts.workers; i++) fork(i);
}
