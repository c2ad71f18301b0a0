/**
 * How a process role ends its process: with cli.ts, the only place that calls process.exit.
 * 0 after a clean drain, 2 for a bad configuration, 1 for a failed start.
 */
import { KeyringFileError } from '../auth/keyring-file.js';
import { AuthSetupError } from '../auth/tokens.js';
import { TlsMaterialError } from '../http/tls.js';
import { TargetRuleError } from '../grammar/target-rule.js';
import type { Logger } from '../log.js';
import { RecordSetupError } from '../record/recorder.js';

export const exit = (code: number): never => process.exit(code);

/**
 * End the process with `end` once `stopped` (an App's stop() or close()) has: 0 after a clean
 * drain, 1 when it failed (logged).
 */
export function exitWhenStopped(stopped: Promise<void>, logger: Logger, end: (code: number) => void): void {
  stopped.then(
    () => end(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      end(1);
    },
  );
}

/**
 * A failure to start: a target rule the option syntax admits but the policy cannot use ("10.*"),
 * a TLS file, token file, JWT key or keyring file that cannot be read or used, a record directory that cannot be
 * created or written, or a refused listen (plain HTTP
 * or an open gateway off loopback) exit 2, a bad configuration; anything else exits 1.
 */
export function startFailed(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`webssh-bridge: ${message}\n`);
  const config = err instanceof TargetRuleError || err instanceof TlsMaterialError || err instanceof AuthSetupError || err instanceof KeyringFileError || err instanceof RecordSetupError || message.startsWith('refusing');
  return exit(config ? 2 : 1);
}
