/**
 * pino logs, JSON (for machines) or pretty (for people: src/log-pretty.ts). Secrets never reach
 * a log call by design (credentials objects are not logged); the redact list is a second net for
 * anything that slips through as a field. Both formats go through it: the pretty form is made
 * from the JSON line pino has already serialized and redacted.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyLine } from './log-pretty.js';

export type { Logger } from 'pino';
export { resolveLogFormat } from './log-pretty.js';

const REDACT = [
  'password', '*.password', 'passphrase', '*.passphrase', 'privateKey', '*.privateKey',
  'token', '*.token', 'auth', '*.auth', 'credentials', '*.credentials',
  'ticket', '*.ticket', 'authorization', '*.authorization', 'jwt', '*.jwt',
];

/** Rewrites each JSON line pino writes as its pretty form, into `out`. */
function prettyStream(out: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        out.write(line); // not a record (pino writes nothing else; kept as it is rather than lost)
        return;
      }
      out.write(typeof record === 'object' && record !== null && !Array.isArray(record) ? prettyLine(record as Record<string, unknown>) : line);
    },
  };
}

export function createLogger(debug: boolean, destination?: DestinationStream, format: 'json' | 'pretty' = 'json'): Logger {
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
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, format === 'pretty' ? prettyStream(out) : out);
}
