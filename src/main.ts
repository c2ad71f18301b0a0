/**
 * What the entry point (cli.ts) runs once the stop request is in place: flags/env/file ->
 * validated config -> app. With cli.ts, the only place that calls process.exit: 0 after a clean
 * drain, 2 for a bad configuration, 1 for a failed start. With more than one worker
 * (`--workers`, default one per core) this process becomes the cluster primary
 * (src/cluster/primary.ts) and each worker runs the entry point again as a worker.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { App } from './app.js';
import { isTokenCommand, runTokenCommand } from './auth/token-command.js';
import { AuthSetupError } from './auth/tokens.js';
import { RELAY_DIR_ENV, runPrimary } from './cluster/primary.js';
import { runWorker } from './cluster/worker.js';
import { ConfigError, loadConfig } from './config/loader.js';
import type { Config } from './config/types.js';
import { TlsMaterialError } from './http/tls.js';
import { createLogger, type Logger } from './log.js';
import { TargetRuleError } from './policy/target-rules.js';
import { RecordSetupError } from './record/recorder.js';
import type { StopRequest } from './stop-request.js';

const exit = (code: number): never => process.exit(code);

/**
 * A failure to start: a target rule the option syntax admits but the policy cannot use ("10.*"),
 * a TLS file, token file or JWT key that cannot be read or used, a record directory that cannot be
 * created or written, or a refused listen (plain HTTP
 * or an open gateway off loopback) exit 2, a bad configuration; anything else exits 1.
 */
function startFailed(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`webssh-bridge: ${message}\n`);
  const config = err instanceof TargetRuleError || err instanceof TlsMaterialError || err instanceof AuthSetupError || err instanceof RecordSetupError || message.startsWith('refusing');
  return exit(config ? 2 : 1);
}

function loadOrExit(): Config {
  let result;
  try {
    result = loadConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`webssh-bridge: ${err.message}\n`);
      return exit(2);
    }
    throw err;
  }
  if (result.kind === 'help') {
    process.stdout.write(result.text);
    return exit(0);
  }
  return result.config;
}

/** One process serves everything (`--workers 1`). */
function runSingle(config: Config, logger: Logger, stop: StopRequest): void {
  let app: App;
  try {
    app = new App(config, { logger });
  } catch (err) {
    startFailed(err);
  }
  stop.own((reason, count) => {
    if (count > 1) {
      logger.warn({ signal: reason }, 'second signal: exiting without waiting');
      exit(1);
    }
    logger.info({ signal: reason }, 'shutting down');
    app.close().then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  });
  // Reload (certificates, token file): a failure is logged by reload() and the bridge keeps serving as before.
  process.on('SIGHUP', () => {
    app.reload().catch(() => undefined);
  });
  app.listen().then((at) => {
    // The one line that means "ready" (docs/configuration.md#start-and-stop); not when a stop came first.
    if (stop.count === 0) logger.info({ event: 'listening', address: at.host, port: at.port, url: at.url, tls: app.secure }, 'listening');
  }, startFailed);
}

/** Check the configuration once, in the primary, so a mistake is one message and exit 2, not one per worker. */
function probe(config: Config): void {
  let refusal: string | null;
  try {
    refusal = App.check(config);
  } catch (err) {
    startFailed(err);
  }
  if (refusal !== null) startFailed(new Error(refusal));
}

export function main(stop: StopRequest): void {
  if (isTokenCommand(process.argv.slice(2))) {
    const out = runTokenCommand(process.argv.slice(2), () => readFileSync(0, 'utf8'));
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    exit(out.code);
  }
  const config = loadOrExit();
  const logger = createLogger(config.serverDebug);
  if (cluster.isWorker) {
    const relayDir = process.env[RELAY_DIR_ENV];
    const self = cluster.worker?.id ?? 0;
    runWorker({ config, logger: logger.child({ worker: self, pid: process.pid }), stop, exit, startFailed, relay: relayDir === undefined ? undefined : { dir: relayDir, self } });
    return;
  }
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (workers <= 1) {
    runSingle(config, logger, stop);
    return;
  }
  probe(config);
  runPrimary({ config, workers, logger, stop, exit });
}
