/**
 * pino JSON logs. Secrets never reach a log call by design (credentials objects are not logged);
 * the redact list is a second net for anything that slips through as a field.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACT = [
  'password', '*.password', 'passphrase', '*.passphrase', 'privateKey', '*.privateKey',
  'token', '*.token', 'auth', '*.auth', 'credentials', '*.credentials',
  'ticket', '*.ticket', 'authorization', '*.authorization', 'jwt', '*.jwt',
];

export function createLogger(debug: boolean, destination?: DestinationStream): Logger {
  const options = {
    level: debug ? 'debug' : 'info',
    base: { service: 'webssh-bridge' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Synchronous writes to stdout: nothing is lost when the process dies, and no exit-time flush.
  // (pino's default asynchronous stream flushes at exit, and when stdout is a pipe whose reader
  // has gone, that flush retries EPIPE forever and the process never exits.) A broken pipe
  // makes pino drop further log lines instead.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
