/**
 * The Redis connection of the cluster (admission, and the shared rate limit, bans and tickets) and its typed commands. An outage is a fast
 * failure, never a hang:
 * - no offline queue: a command while disconnected fails at once;
 * - every command times out after `--cluster-redis-timeout` (a frozen Redis);
 * - a socket that receives nothing for a few timeouts while commands wait is cut, which fails
 *   what it held, and reconnection is retried with a backoff capped at one second, forever;
 * - nothing is resent after a reconnect (a grant whose answer was lost is settled by the
 *   node's resync instead, ../manager/node-lease.ts).
 *
 * Every command's latency goes to the observer (a histogram), and the store logs the moment
 * Redis becomes unavailable and the moment it is back, once each, not per request. The URL may
 * hold a password: only its host and port are ever logged.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { grantsKey, scriptKeys } from './keys.js';
import { SCRIPTS, type ScriptName } from './scripts.js';
import { SHARED_SCRIPTS, type SharedScriptName } from './shared-scripts.js';
import { OWNER_SCRIPTS, type OwnerScriptName } from './owner-scripts.js';

/** A command's name (a script's, or `hvals`, `hlen`), how long it took, and whether it answered. */
export type CommandObserver = (command: string, seconds: number, ok: boolean) => void;

type Arg = string | number;
type ScriptCommands = { readonly [K in ScriptName | SharedScriptName | OwnerScriptName]: (...args: Arg[]) => Promise<unknown> };

export interface StoreOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly observe?: CommandObserver | undefined;
}

/** `host:port` of a Redis URL, for logs (never its user or password). */
export function redisAddress(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port === '' ? '6379' : u.port}`;
}

export class RedisStore {
  readonly #client: Redis & ScriptCommands;
  readonly #log: Logger;
  readonly #observe: CommandObserver | undefined;
  readonly #address: string;
  #up = true;
  #closed: Promise<void> | undefined;

  constructor(opts: StoreOptions) {
    this.#log = opts.logger;
    this.#observe = opts.observe;
    this.#address = redisAddress(opts.url);
    const client = new Redis(opts.url, {
      enableOfflineQueue: false,
      commandTimeout: opts.timeoutMs,
      connectTimeout: Math.max(1000, 3 * opts.timeoutMs),
      socketTimeout: Math.max(1000, 3 * opts.timeoutMs),
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(1000, 50 * 2 ** Math.min(times - 1, 5)),
      connectionName: 'webssh-bridge',
      disableClientInfo: true,
      maintNotifications: 'disabled',
    });
    for (const [name, spec] of Object.entries({ ...SCRIPTS, ...SHARED_SCRIPTS, ...OWNER_SCRIPTS })) client.defineCommand(name, spec);
    // ioredis reports every failed (re)connection as 'error'; the transition is logged once below.
    client.on('error', (err: Error) => this.#down(err));
    this.#client = client as Redis & ScriptCommands;
  }

  /** Call `listener` every time the connection is ready (the first time, and after each reconnect). Removed by close(). */
  onReady(listener: () => void): void {
    this.#client.on('ready', listener);
  }

  /** Whether the last command answered. */
  get up(): boolean {
    return this.#up;
  }

  /** Run script `name` for `incarnation`'s keys with `args`. Rejects on any failure (closed, timeout, error reply). */
  script(name: ScriptName, incarnation: string, ...args: Arg[]): Promise<unknown> {
    return this.#run(name, () => this.#client[name](...scriptKeys(incarnation), ...args));
  }

  /** Run shared script `name` (rate, ban, tickets: ./shared-scripts.ts; the owner registry: ./owner-scripts.ts) on `keys` with `args`. Rejects on any failure. */
  shared(name: SharedScriptName | OwnerScriptName, keys: readonly string[], ...args: Arg[]): Promise<unknown> {
    return this.#run(name, () => this.#client[name](...keys, ...args));
  }

  /** The records of an incarnation's grants. */
  records(incarnation: string): Promise<string[]> {
    return this.#run('hvals', () => this.#client.hvals(grantsKey(incarnation)));
  }

  /** How many grants each incarnation holds (HLEN of each one's grants, sent together: one round trip, observed as `hlen`). */
  grantCounts(incarnations: readonly string[]): Promise<number[]> {
    return this.#run('hlen', () => Promise.all(incarnations.map((i) => this.#client.hlen(grantsKey(i)))));
  }

  async #run<T>(name: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed !== undefined) throw new Error('the Redis store is closed');
    const start = performance.now();
    try {
      const result = await call();
      this.#observe?.(name, (performance.now() - start) / 1000, true);
      this.#back();
      return result;
    } catch (err) {
      this.#observe?.(name, (performance.now() - start) / 1000, false);
      this.#down(err);
      throw err;
    }
  }

  #down(err: unknown): void {
    if (!this.#up || this.#closed !== undefined) return;
    this.#up = false;
    this.#log.warn({ event: 'cluster_unavailable', redis: this.#address, reason: err instanceof Error ? err.message : String(err) }, 'Redis unavailable: new sessions and tickets are refused (CLUSTER_UNAVAILABLE)');
  }

  #back(): void {
    if (this.#up) return;
    this.#up = true;
    this.#log.info({ event: 'cluster_available', redis: this.#address }, 'Redis available again');
  }

  /** Close the connection: politely within the command timeout, then at once. Idempotent. */
  close(timeoutMs: number): Promise<void> {
    this.#closed ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
      await Promise.race([this.#client.quit().then(() => undefined, () => undefined), late]);
      clearTimeout(timer);
      this.#client.disconnect();
      this.#client.removeAllListeners('ready');
    })();
    return this.#closed;
  }
}
