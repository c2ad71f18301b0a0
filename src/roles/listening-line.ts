/**
 * The gateway's one ready line (`"event":"listening"`, docs/configuration.md#start-and-stop), as
 * the single process and the cluster primary both log it. Its fields are what supervisors and
 * tests read; its message is what a person reads first: the version and the page's URL.
 */
import { VERSION } from '../version.js';

export interface ListeningAt {
  readonly address: string;
  readonly port: number;
  /** scheme://host:port, no path. */
  readonly url: string;
  readonly tls: boolean;
}

/** The fields and message of the `listening` line; the page is at `url` + `basePath`. */
export function listeningLine(at: ListeningAt, basePath: string, extra: Readonly<Record<string, unknown>> = {}): [Record<string, unknown>, string] {
  const fields = { event: 'listening', address: at.address, port: at.port, url: at.url, tls: at.tls, ...extra, version: VERSION };
  return [fields, `webssh-bridge ${VERSION} listening: open ${at.url}${basePath}`];
}

/**
 * The level of the start-up lines a person does not need (the primary's `primary_start`, each
 * worker's `worker_listening`): debug in the pretty format, so the first line a person sees is
 * the `listening` one, with the page's URL; info in JSON, as before (supervisors may read them).
 */
export function startLineLevel(format: 'json' | 'pretty'): 'info' | 'debug' {
  return format === 'pretty' ? 'debug' : 'info';
}
