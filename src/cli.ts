#!/usr/bin/env node
/**
 * Entry point: flags/env/file -> validated config -> app. The only place that calls
 * process.exit: 0 after a clean drain, 2 for a bad configuration, 1 for a failed start.
 */
import { readFileSync } from 'node:fs';
import { App } from './app.js';
import { isTokenCommand, runTokenCommand } from './auth/token-command.js';
import { AuthSetupError } from './auth/tokens.js';
import { ConfigError, loadConfig } from './config/loader.js';
import { TlsMaterialError } from './http/tls.js';
import { createLogger } from './log.js';
import { TargetRuleError } from './policy/target-rules.js';

function main(): void {
  if (isTokenCommand(process.argv.slice(2))) {
    const out = runTokenCommand(process.argv.slice(2), () => readFileSync(0, 'utf8'));
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exit(out.code);
  }
  let result;
  try {
    result = loadConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`webssh-bridge: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (result.kind === 'help') {
    process.stdout.write(result.text);
    process.exit(0);
  }
  const config = result.config;
  const logger = createLogger(config.serverDebug);
  let app: App;
  try {
    app = new App(config, { logger });
  } catch (err) {
    // A target rule the option syntax admits but the policy cannot use ("10.*"), a TLS file,
    // token file or JWT key that cannot be read or used: a bad configuration.
    if (err instanceof TargetRuleError || err instanceof TlsMaterialError || err instanceof AuthSetupError) {
      process.stderr.write(`webssh-bridge: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Reload (certificates): a failure is logged by reload() and the bridge keeps serving as before.
  process.on('SIGHUP', () => {
    app.reload().catch(() => undefined);
  });

  app.listen().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`webssh-bridge: ${message}\n`);
    process.exit(err instanceof Error && message.startsWith('refusing') ? 2 : 1);
  });
}

main();
