/**
 * What the entry point (cli.ts) runs once the stop request is in place: flags/env/file ->
 * validated config -> one of the three process roles: single (`--workers 1`, ./single.ts), the
 * cluster primary (./primary.ts) or a cluster worker (./worker.ts; each worker runs the entry
 * point again). The roles are entry points: nothing but cli.ts imports this folder.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isatty } from 'node:tty';
import { App } from '../app.js';
import { isSecretCommand, runSecretCommand } from '../auth/secret-command.js';
import { isTokenCommand, runTokenCommand, type CommandResult } from '../auth/token-command.js';
import { ConfigError, loadConfig } from '../config/loader.js';
import { resolveWorkers } from '../config/workers.js';
import type { Config } from '../config/types.js';
import { createLogger, resolveLogFormat } from '../log.js';
import { warnIfUnpatched } from '../ssh/channel-window.js';
import { noteCryptoBinding } from '../ssh/crypto-binding.js';
import { VERSION } from '../version.js';
import { exit, startFailed } from './exit.js';
import { startLineLevel } from './listening-line.js';
import { RELAY_DIR_ENV, runPrimary } from './primary.js';
import { runSingle } from './single.js';
import type { StopRequest } from './stop-request.js';
import { runWorker } from './worker.js';

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
  if (result.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return exit(0);
  }
  return result.config;
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
  const argv = process.argv.slice(2);
  const command: CommandResult | null = isTokenCommand(argv) ? runTokenCommand(argv, () => readFileSync(0, 'utf8')) : isSecretCommand(argv) ? runSecretCommand(argv) : null;
  if (command !== null) {
    process.stdout.write(command.stdout);
    process.stderr.write(command.stderr);
    exit(command.code);
  }
  const config = loadOrExit();
  // A worker's stdout is the primary's (node:cluster inherits it), so `auto` comes out the same in both.
  const format = resolveLogFormat(config.logFormat, isatty(1));
  const logger = createLogger(config.serverDebug, undefined, format);
  const startLines = startLineLevel(format);
  if (cluster.isWorker) {
    const relayDir = process.env[RELAY_DIR_ENV];
    const self = cluster.worker?.id ?? 0;
    runWorker({ config, logger: logger.child({ worker: self, pid: process.pid }), stop, exit, startFailed, startLines, relay: relayDir === undefined ? undefined : { dir: relayDir, self } });
    return;
  }
  // Once per gateway (here, in the primary or the single process), not per worker.
  warnIfUnpatched(logger, config.sshWindow);
  noteCryptoBinding(logger);
  const workers = resolveWorkers(config.workers, availableParallelism());
  if (workers <= 1) {
    runSingle(config, logger, stop);
    return;
  }
  probe(config);
  runPrimary({ config, workers, logger, stop, exit, startLines });
}
