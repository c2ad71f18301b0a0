/**
 * A cluster worker: a whole App (HTTP, WebSocket upgrades, sessions) whose admission authority
 * is the primary's Gatekeeper, reached over IPC, and whose /health, /stats and /metrics show the
 * whole gateway. Its stops come through the stop request (./stop-request.ts): the primary's
 * `unready` makes /readyz answer 503 while it still serves (the primary owns the ready delay),
 * the primary's `drain` drains now; its own SIGTERM/SIGINT (a supervisor that signals the whole
 * process group) stops it as one process is stopped, ready delay included, and a second one skips
 * what is left of that delay. It reloads on `reload` or SIGHUP, and drains if the primary goes
 * away. Its ready line is `worker_listening`: the gateway's one `listening` line is the primary's,
 * once every worker listens.
 */
import { AggregatorRegistry } from 'prom-client';
import { hostname } from 'node:os';
import { App } from '../app.js';
import { clusterNode } from '../config/cluster-kinds.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Authority } from '../util/requests.js';
import { isToWorker, type PrimaryRequests, type ToPrimary, type WorkerRequests } from '../cluster/messages.js';
import { remoteGate } from '../cluster/remote-gate.js';
import { unixRelay } from '../cluster/resume-relay.js';
import { processRelay } from '../cluster/relays.js';
import { answer, Rpc } from '../cluster/rpc.js';
import { exitWhenStopped } from './exit.js';
import type { StopRequest } from './stop-request.js';

export interface WorkerOptions {
  readonly config: Config;
  /** This worker's cluster id and the primary's relay directory (resume across workers). */
  readonly relay: { readonly dir: string; readonly self: number } | undefined;
  readonly logger: Logger;
  /** SIGTERM, SIGINT and the primary's drain; owned here once the App exists. */
  readonly stop: StopRequest;
  readonly exit: (code: number) => void;
  /** Reports a failed start (message, exit code) the way the CLI does. */
  readonly startFailed: (err: unknown) => void;
  /** The level of `worker_listening` (./listening-line.ts: debug in the pretty log format). */
  readonly startLines: 'info' | 'debug';
}

export function runWorker(opts: WorkerOptions): void {
  const send = (m: ToPrimary): boolean => (process.connected && process.send !== undefined ? process.send(m) : false);
  const rpc = new Rpc<WorkerRequests>(send);
  let app: App;
  try {
    const node = clusterNode(opts.config, hostname());
    const relay = processRelay(opts.config, node, opts.relay === undefined ? undefined : unixRelay(opts.relay.dir, opts.relay.self, node, opts.logger), () => app.keyring, opts.logger);
    app = new App(opts.config, {
      logger: opts.logger,
      gate: remoteGate(rpc),
      ...(relay === undefined ? {} : { relay }),
      view: () => ({ stats: () => rpc.ask('clusterStats', {}), metrics: () => rpc.ask('clusterMetrics', {}) }),
    });
  } catch (err) {
    opts.startFailed(err);
    return;
  }
  // prom-client answers the primary's AggregatorRegistry with this registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([app.metrics.registry]);

  /** The process ends once the App's stop or close is done: the first of them sets the exit. */
  let ending = false;
  const endWhen = (stopped: Promise<void>): void => {
    if (ending) return;
    ending = true;
    exitWhenStopped(stopped, opts.logger, opts.exit);
  };
  /** Drain now (it also ends a ready delay of the worker's own under way). */
  const close = (): void => endWhen(app.close());

  /** What the primary asks a worker. */
  const authority: Authority<PrimaryRequests, unknown> = { localStats: () => app.manager.stats() };
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.kind === 'res') rpc.settle(m);
    else if (m.kind === 'req') void answer(authority, m, undefined, send);
    else if (m.op === 'reload') {
      app.reload().catch(() => undefined); // logged by reload(); `drain` is the stop request's
    }
  });
  // The primary is gone: nobody can admit sessions any more; drain what is here.
  process.once('disconnect', () => {
    rpc.close('primary gone');
    close();
  });
  opts.stop.own((reason) => {
    if (reason === 'unready') app.leave();
    else if (reason === 'drain') close();
    else if (!app.hurry()) endWhen(app.stop()); // its own signal; a later one hurries a ready delay under way
  });
  process.on('SIGHUP', () => {
    app.reload().catch(() => undefined);
  });

  app.listen().then((at) => {
    rpc.tell('listening', { address: at.host, port: at.port });
    if (!ending) opts.logger[opts.startLines]({ event: 'worker_listening', address: at.host, port: at.port }, 'worker listening');
  }, (err: unknown) => opts.startFailed(err));
}
