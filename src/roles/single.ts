/**
 * The single-process role (`--workers 1`): one App serves everything; the stop request stops it
 * (not ready for the ready delay, then the drain), a second stop skips what is left of the ready
 * delay or, once draining, exits at once; SIGHUP reloads.
 */
import { hostname } from 'node:os';
import { App } from '../app.js';
import { processRelay } from '../cluster/relays.js';
import { clusterNode } from '../config/cluster-kinds.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { exit, exitWhenStopped, startFailed } from './exit.js';
import { listeningLine } from './listening-line.js';
import { drainThenNow, type StopRequest } from './stop-request.js';

/** One process serves everything (`--workers 1`). */
export function runSingle(config: Config, logger: Logger, stop: StopRequest): void {
  let app: App;
  try {
    const relay = processRelay(config, clusterNode(config, hostname()), undefined, () => app.keyring, logger);
    app = new App(config, { logger, ...(relay === undefined ? {} : { relay }) });
  } catch (err) {
    startFailed(err);
  }
  stop.own(drainThenNow(logger, () => exitWhenStopped(app.stop(), logger, exit), () => exit(1), () => app.hurry()));
  // Reload (certificates, token file): a failure is logged by reload() and the bridge keeps serving as before.
  process.on('SIGHUP', () => {
    app.reload().catch(() => undefined);
  });
  app.listen().then((at) => {
    // The one line that means "ready" (docs/configuration.md#start-and-stop); not when a stop came first.
    if (stop.count === 0) logger.info(...listeningLine({ address: at.host, port: at.port, url: at.url, tls: app.secure }, config.basePath));
  }, startFailed);
}
