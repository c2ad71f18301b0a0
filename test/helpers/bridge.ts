/**
 * Starts the real bridge in-process on 127.0.0.1:0 with flags, capturing every log line in
 * memory so tests can read audit events. `close()` fails when any registered test secret
 * (test/helpers/secrets.ts) appears in the logs: every test that starts a bridge is a secret scan.
 * It serves the test build of the page (dist/web-test/: the page with its test hooks,
 * `window.__uwsb`, which the browser tests drive) unless asked for the production page.
 */
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { App, type Listening } from '../../src/app.js';
import { loadConfig } from '../../src/config/loader.js';
import { StaticSite } from '../../src/http/static.js';
import { createLogger } from '../../src/log.js';
import type { LookupFn } from '../../src/policy/target.js';
import { leakedSecrets } from './secrets.js';
import { unixRelay } from '../../src/cluster/resume-relay.js';
import { processRelay } from '../../src/cluster/relays.js';
import type { Keyring } from '../../src/auth/keyring.js';
import { clusterNode } from '../../src/config/cluster-kinds.js';
import type { Config } from '../../src/config/types.js';
import type { Relay } from '../../src/http/relay.js';
import type { Logger } from '../../src/log.js';
import { hostname } from 'node:os';

export interface BridgeHandle {
  readonly app: App;
  readonly url: string;
  readonly wsBase: string;
  readonly port: number;
  /** Every log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Raw log text, for secret scanning. */
  logText(): string;
  close(): Promise<void>;
}

/** The page with its test hooks, built by scripts/build-web.mjs next to dist/web/ (dist/test/helpers -> dist/web-test). */
export const TEST_WEB_ROOT = fileURLToPath(new URL('../../web-test/', import.meta.url));

export interface StartBridgeOptions {
  readonly lookup?: LookupFn;
  readonly env?: Record<string, string>;
  readonly relay?: { dir: string; self: number };
  /** Which build of the page to serve: `test` (default, with `window.__uwsb`) or `production` (dist/web/, what users get). */
  readonly page?: 'test' | 'production';
}

/** The relay the bridge's role would build: a worker's Unix socket (opts.relay), the relay between nodes (--node-relay-address), or both. */
function relayOf(config: Config, opts: StartBridgeOptions, logger: Logger, keyring: () => Keyring): { relay?: Relay } {
  const node = clusterNode(config, hostname());
  const worker = opts.relay === undefined ? undefined : unixRelay(opts.relay.dir, opts.relay.self, node, logger);
  const relay = processRelay(config, node, worker, keyring, logger);
  return relay === undefined ? {} : { relay };
}

export async function startBridge(flags: readonly string[] = [], opts: StartBridgeOptions = {}): Promise<BridgeHandle> {
  const result = loadConfig(['--server-address', '127.0.0.1:0', '--server-debug', ...flags], opts.env ?? {});
  if (result.kind !== 'config') throw new Error('unexpected help');
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const logger = createLogger(true, sink);
  // The relay reads the App's keyring (--cluster-secret-file, or random keys) at each use, as the roles' does.
  const app: App = new App(result.config, {
    logger,
    ...(opts.page === 'production' ? {} : { site: new StaticSite(TEST_WEB_ROOT) }),
    ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
    ...relayOf(result.config, opts, logger, () => app.keyring),
  });
  const listening: Listening = await app.listen();
  return {
    app,
    url: listening.url,
    wsBase: listening.url.replace(/^http/, 'ws'),
    port: listening.port,
    logs: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
    logText: () => text,
    close: async () => {
      await app.close();
      const leaked = leakedSecrets(text);
      if (leaked.length > 0) throw new Error(`secret(s) found in the bridge's logs: ${leaked.map((s) => `${s.slice(0, 2)}…`).join(', ')}`);
    },
  };
}
