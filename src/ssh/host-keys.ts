/**
 * Host key verification: the store of known keys and the policy that decides what an unknown
 * key means. One store per App (held by the ConnectionManager), shared by every session.
 *
 * Store:
 * - `known-hosts` (read and written) and `system-known-hosts` (read only; ignored when missing)
 *   are read once, synchronously, when the store is created (at start, like the TLS files). Any
 *   other read error (permissions, a directory) stops the start: a file we cannot read may hold
 *   `@revoked` lines, so ignoring it would fail open.
 * - `accept()` appends one line to `known-hosts` atomically: under an in-process lock it re-reads
 *   the file (lines added by someone else meanwhile are kept), writes the whole text to a temp
 *   file in the same directory, fsyncs it, renames it over the file and fsyncs the directory.
 *   Concurrent accepts queue on the lock, so none loses another's line. The in-memory index is
 *   replaced by the parsed new text in the same step. With no `known-hosts` configured, accepted
 *   keys are kept in memory for the life of the process. A failed write is logged and the key
 *   kept in memory, so the user who accepted it is not asked again by this process.
 *
 * The cluster (`--cluster-redis`, an injected SharedHostKeys, ./shared-host-keys.ts): a third
 * source of keys beside the two files, holding the keys accepted under tofu on any node, at most
 * one per server. Before a server is dialed (`server()`), a name the local entries know nothing
 * about (no key of any type) is looked up in the cluster too, for the name and the resolved
 * address in one request; a name the files know is decided by the files alone, without a round
 * trip, so a key in a file, and `@revoked` in a file, keep their meaning. The cluster's keys then
 * count as if they were lines of a file: a match is known, a different key (of the same type, or
 * of another type with none of this one) is HOST_KEY_CHANGED on every node, under every policy.
 * `accept()` tells the cluster first, in one atomic step that stores the key unless the server
 * already has one there, and only then writes the node's own file (as below), so two nodes
 * accepting different keys for one server cannot both win: the later is HOST_KEY_CHANGED.
 * Fails closed: when the cluster must be asked and does not answer, the session is refused
 * CLUSTER_UNAVAILABLE (before dialing for the lookup; after the user's answer for the accept,
 * with nothing written anywhere), never asked or accepted on the node's own word; only under
 * `accept-new-insecure`, which trusts unknown keys anyway and stores none, does the link go on
 * with the local entries (`localServer()`, src/ssh/link.ts). A key the cluster has no room for
 * (MAX_SHARED_HOST_KEYS servers) is HOST_KEY_REJECTED, not kept locally.
 *
 * Matching (`verify`): the name the user asked for (the route's host, or `--target`'s) on the
 * target port is authoritative. Only when the file knows nothing at all about that name (no key
 * of any type) is the resolved address looked up too, on the same port, as OpenSSH's
 * `CheckHostIP` would: a line for `[10.0.0.5]:2222` then vouches for a name that resolves there.
 * A revocation of the presented key under either the name or the address always wins.
 * Accepted keys are stored under the name only (as OpenSSH does since 8.5, `CheckHostIP no`).
 *
 * Policy (`decideHostKey`), after the lookup:
 * - known key: accepted.
 * - revoked key: HOST_KEY_REJECTED, whatever the policy.
 * - a different key of the same type is stored (or, with no key of this type, keys of other
 *   types are): HOST_KEY_CHANGED, whatever the policy, never offered to the user. The bridge asks
 *   servers for the key types it knows first (`preferredKeyTypes`), so a server that still holds
 *   its stored key presents it; one that does not has, for our purposes, changed its key.
 * - unknown key: `strict` refuses (HOST_KEY_UNKNOWN); `tofu` asks a v1 client, and for seed
 *   clients (which cannot be asked) refuses unless `compat-accept-new-host-keys`, which accepts
 *   and stores; `accept-new-insecure` accepts with a warning in the log and does NOT store, so
 *   the policy stays "log only" and a later change of the server's key is not mistaken for an
 *   attack (keys already in the files are still enforced).
 */
import { readFileSync, statSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { BridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatEntry, hostMatches, lookup, parseKnownHosts, sha256Fingerprint, type KnownHostEntry, type LookupResult, type StoredKey } from './known-hosts.js';
import { clusterUnavailable, storedInCluster, type SharedHostKey, type SharedHostKeys, type SharedOutcome } from './shared-host-keys.js';

export type HostKeyPolicy = Config['hostKeyPolicy'];

/** The result of `verify`: the lookup result and whether the name or the resolved address decided it. */
export type HostKeyVerdict = LookupResult & { readonly via: 'name' | 'address' };

/** What a session asks about. `address` is the resolved address that is dialed. */
export interface HostKeyQuery {
  readonly host: string;
  readonly port: number;
  readonly address?: string;
  readonly keyType: string;
  readonly key: Buffer;
}

export interface HostKeyStoreOptions {
  readonly knownHosts: string | null;
  readonly systemKnownHosts: string | null;
  /** The cluster's keys (`--cluster-redis`); none on one node. */
  readonly shared?: SharedHostKeys | undefined;
}

/** What is known of one server, gathered before dialing it (HostKeyStore.server). */
export interface KnownServer {
  /** The verdict on the key the server presents. */
  verify(keyType: string, key: Buffer): HostKeyVerdict;
  /** Host key algorithms to offer (see HostKeyStore.preferredAlgorithms). */
  preferredAlgorithms(): string[] | undefined;
}

/** Result of `accept`: appended to the file, already there, or kept in memory (no file, or the write failed). */
export type AcceptResult = 'stored' | 'present' | 'memory';

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A change marker for a file: `mtimeMs:size`, or null when it does not exist. */
function stamp(path: string | null): string | null {
  if (path === null) return null;
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return null;
  }
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (missing(err)) return null;
    throw new Error(`cannot read known hosts file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** `[::1]` -> `::1`, lower case: the form known_hosts lookups and lines use. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Host key algorithms ssh2 negotiates by default, in its order. */
const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

/** The negotiable algorithms that present a key of `keyType`. */
function algorithmsFor(keyType: string): readonly string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_HOST_KEY_ALGORITHMS.includes(keyType) ? [keyType] : [];
}

export class HostKeyStore {
  readonly #file: string | null;
  readonly #log: Logger | undefined;
  readonly #system: readonly KnownHostEntry[];
  #fileEntries: readonly KnownHostEntry[];
  /** `mtime:size` of the known-hosts file when #fileEntries was read: another process (a cluster worker) may append to it. */
  #fileStamp: string | null = null;
  readonly #memory: KnownHostEntry[] = [];
  readonly #shared: SharedHostKeys | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(file: string | null, system: readonly KnownHostEntry[], fileEntries: readonly KnownHostEntry[], log: Logger | undefined, shared: SharedHostKeys | undefined) {
    this.#file = file;
    this.#system = system;
    this.#fileEntries = fileEntries;
    this.#log = log;
    this.#shared = shared;
    this.#fileStamp = stamp(file);
  }

  /** Re-read the known-hosts file when it changed on disk since we read it (cheap: one stat). */
  #refresh(): void {
    if (this.#file === null) return;
    const now = stamp(this.#file);
    if (now === this.#fileStamp) return;
    try {
      const text = readOptional(this.#file) ?? '';
      this.#fileEntries = parseKnownHosts(text, this.#file);
      this.#fileStamp = now;
    } catch (err) {
      this.#log?.warn({ event: 'known_hosts_reread_failed', file: this.#file, err: (err as Error).message }, 'known_hosts changed but could not be re-read; using the entries read before');
    }
  }

  /** Read both files now. @throws {Error} when a file exists but cannot be read. */
  static load(opts: HostKeyStoreOptions, log?: Logger): HostKeyStore {
    const parse = (path: string | null): KnownHostEntry[] => {
      if (path === null) return [];
      const text = readOptional(path);
      if (text === null) return [];
      return parseKnownHosts(text, path, (line, why) => log?.warn({ event: 'known_hosts_line_skipped', file: path, line, why }, 'known_hosts line skipped'));
    };
    const system = parse(opts.systemKnownHosts);
    const file = parse(opts.knownHosts);
    log?.debug({ known_hosts: opts.knownHosts, entries: file.length, system_known_hosts: opts.systemKnownHosts, system_entries: system.length, cluster: opts.shared !== undefined }, 'host keys loaded');
    return new HostKeyStore(opts.knownHosts, system, file, log, opts.shared);
  }

  /** The store the config describes, with the cluster's keys when `shared` is given. */
  static fromConfig(config: Pick<Config, 'knownHosts' | 'systemKnownHosts'>, log?: Logger, shared?: SharedHostKeys): HostKeyStore {
    return HostKeyStore.load({ knownHosts: config.knownHosts, systemKnownHosts: config.systemKnownHosts, shared }, log);
  }

  /** Every entry the verifier consults (system file, known-hosts file, memory). */
  entries(): readonly KnownHostEntry[] {
    return [...this.#system, ...this.#fileEntries, ...this.#memory];
  }

  /** The verdict of the local entries (the files and memory) alone; see `server()` for the cluster's too. */
  verify(q: HostKeyQuery): HostKeyVerdict {
    this.#refresh();
    return verifyIn(this.entries(), q);
  }

  /**
   * Host key algorithms to offer, in order, so the server presents a key type we know for this
   * host (OpenSSH orders its `HostKeyAlgorithms` the same way). Undefined: nothing known, keep
   * ssh2's default order. From the local entries alone; see `server()` for the cluster's too.
   */
  preferredAlgorithms(host: string, port: number, address?: string): string[] | undefined {
    this.#refresh();
    return preferredIn(this.entries(), host, port, address);
  }

  /**
   * What is known of the server `host` on `port`, dialed at `address`, asked once before dialing
   * it: the local entries and, with a cluster, the cluster's keys for the name and the address
   * when the local entries know nothing of the name (module comment).
   * @throws {BridgeError} CLUSTER_UNAVAILABLE when the cluster must be asked and does not answer.
   */
  async server(host: string, port: number, address?: string): Promise<KnownServer> {
    this.#refresh();
    const local = this.entries();
    const shared = this.#shared;
    const cluster = shared === undefined || knowsName(local, bare(host), port) ? [] : await this.#find(shared, host, port, address);
    return knownIn(cluster.length === 0 ? local : [...local, ...cluster], host, port, address);
  }

  /** What the local entries alone know of a server (`server()` without the cluster). */
  localServer(host: string, port: number, address?: string): KnownServer {
    this.#refresh();
    return knownIn(this.entries(), host, port, address);
  }

  /** The cluster's keys for the name and the address, as entries (source `redis`). */
  async #find(shared: SharedHostKeys, host: string, port: number, address: string | undefined): Promise<KnownHostEntry[]> {
    const name = bare(host);
    const addr = address === undefined ? null : bare(address);
    let found;
    try {
      found = await shared.find({ host: name, port, address: addr === name ? null : addr });
    } catch (err) {
      throw clusterUnavailable('the cluster could not be asked', err);
    }
    if (!found.ok) throw clusterUnavailable('the cluster did not answer');
    return found.keys.flatMap((k) => this.#clusterEntry(k));
  }

  /** A key from the cluster as an entry; one that is not a readable known_hosts line is skipped (logged), as a bad line of a file is. */
  #clusterEntry(k: SharedHostKey): KnownHostEntry[] {
    try {
      const entries = parseKnownHosts(formatEntry(k.host, k.port, k.keyType, k.key), 'redis');
      if (entries.length === 1) return entries.map((e) => ({ ...e, line: 0 }));
    } catch { /* reported below */ }
    this.#log?.warn({ event: 'known_hosts_line_skipped', file: 'redis', host: k.host, port: k.port, key_type: k.keyType }, 'unreadable host key record in the cluster skipped');
    return [];
  }

  /**
   * Trust `key` for `host` on `port` from now on. Resolves to where it went; a concurrent accept
   * of a different key for the same host (stored between the check and now) is HOST_KEY_CHANGED.
   */
  accept(host: string, port: number, keyType: string, key: Buffer): Promise<AcceptResult> {
    const run = (): Promise<AcceptResult> => this.#accept(bare(host), port, keyType, key);
    const next = this.#lock.then(run, run);
    this.#lock = next.catch(() => undefined);
    return next;
  }

  async #accept(host: string, port: number, keyType: string, key: Buffer): Promise<AcceptResult> {
    const line = formatEntry(host, port, keyType, key.toString('base64'));
    if (this.#shared !== undefined) await this.#share(this.#shared, host, port, keyType, key);
    const file = this.#file;
    if (file === null) {
      this.#checkNotChanged(this.entries(), host, port, keyType, key);
      if (lookup(this.entries(), host, port, keyType, key).status === 'match') return 'present';
      this.#remember(host, port, keyType, key);
      return 'memory';
    }
    try {
      return await withFileLock(file, async () => {
        let current = '';
        try {
          current = await readFile(file, 'utf8');
        } catch (err) {
          if (!missing(err)) throw err;
        }
        const parsed = parseKnownHosts(current, file);
        this.#fileEntries = parsed;
        this.#fileStamp = stamp(file);
        const all = this.entries();
        this.#checkNotChanged(all, host, port, keyType, key);
        if (lookup(all, host, port, keyType, key).status === 'match') return 'present';
        const text = `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}${line}\n`;
        await writeAtomic(file, text);
        this.#fileEntries = parseKnownHosts(text, file);
        this.#fileStamp = stamp(file);
        this.#log?.info({ event: 'host_key_stored', file, host, port, key_type: keyType, fingerprint: sha256Fingerprint(key) }, 'host key stored');
        return 'stored';
      });
    } catch (err) {
      if (err instanceof BridgeError) throw err;
      this.#log?.error({ event: 'known_hosts_write_failed', file, err: (err as Error).message }, 'could not write known_hosts; key kept in memory');
      this.#remember(host, port, keyType, key);
      return 'memory';
    }
  }

  /** The same verdicts `decideHostKey` refuses, re-checked under the lock against the current file. */
  #checkNotChanged(all: readonly KnownHostEntry[], host: string, port: number, keyType: string, key: Buffer): void {
    const r = lookup(all, host, port, keyType, key);
    const fingerprint = sha256Fingerprint(key);
    if (r.status === 'revoked') throw new BridgeError('HOST_KEY_REJECTED', `revoked key ${fingerprint}`);
    if (r.status === 'mismatch') throw changedError(r.stored, fingerprint, keyType);
    if (r.status === 'unknown' && r.otherTypes.length > 0) throw changedError(r.otherTypes, fingerprint, keyType);
  }

  /**
   * Tell the cluster, before anything is written here: a key the local entries refuse is not
   * offered; one the cluster refuses (another key stored meanwhile, no room) or cannot take (no
   * answer) throws, and nothing is written anywhere. A command that timed out may still have
   * stored it in Redis: harmless, the user accepted that very key.
   */
  async #share(shared: SharedHostKeys, host: string, port: number, keyType: string, key: Buffer): Promise<void> {
    this.#refresh();
    this.#checkNotChanged(this.entries(), host, port, keyType, key);
    const fingerprint = sha256Fingerprint(key);
    let outcome: SharedOutcome;
    try {
      outcome = await shared.share({ host, port, keyType, key: key.toString('base64') });
    } catch (err) {
      throw clusterUnavailable('the accepted key could not be shared', err);
    }
    if (outcome.ok) {
      if (outcome.outcome === 'stored') this.#log?.info({ event: 'host_key_shared', host, port, key_type: keyType, fingerprint }, 'host key stored in the cluster');
      return;
    }
    switch (outcome.code) {
      case 'HOST_KEY_CHANGED':
        throw changedError([storedInCluster(outcome.stored)], fingerprint, keyType);
      case 'NOT_KEPT': {
        const why = outcome.why === 'full' ? 'the cluster keeps no more host keys' : 'the key is too large to share';
        this.#log?.error({ event: 'host_key_not_shared', host, port, key_type: keyType, fingerprint, why: outcome.why }, `an accepted host key was refused: ${why}`);
        throw new BridgeError('HOST_KEY_REJECTED', `not stored: ${why}`);
      }
      case 'CLUSTER_UNAVAILABLE':
        throw clusterUnavailable('the accepted key could not be shared');
    }
  }

  #remember(host: string, port: number, keyType: string, key: Buffer): void {
    const [entry] = parseKnownHosts(formatEntry(host, port, keyType, key.toString('base64')), 'memory');
    if (entry !== undefined) this.#memory.push({ ...entry, line: 0 });
  }
}

/** Whether a non-revoked entry names `host` on `port` (a key of any type). */
function knowsName(entries: readonly KnownHostEntry[], host: string, port: number): boolean {
  return entries.some((e) => e.marker === null && hostMatches(e.hosts, host, port));
}

function knownIn(all: readonly KnownHostEntry[], host: string, port: number, address: string | undefined): KnownServer {
  return {
    verify: (keyType, key) => verifyIn(all, { host, port, ...(address === undefined ? {} : { address }), keyType, key }),
    preferredAlgorithms: () => preferredIn(all, host, port, address),
  };
}

/** The verdict of `entries` on the presented key (module comment: name first, the address when the name knows nothing). */
function verifyIn(all: readonly KnownHostEntry[], q: HostKeyQuery): HostKeyVerdict {
  const host = bare(q.host);
  const byName = lookup(all, host, q.port, q.keyType, q.key);
  if (byName.status === 'revoked') return { ...byName, via: 'name' };
  const address = q.address === undefined ? undefined : bare(q.address);
  const byAddress = address === undefined || address === host ? undefined : lookup(all, address, q.port, q.keyType, q.key);
  if (byAddress?.status === 'revoked') return { ...byAddress, via: 'address' };
  const nameKnowsNothing = byName.status === 'unknown' && byName.otherTypes.length === 0;
  if (nameKnowsNothing && byAddress !== undefined) return { ...byAddress, via: 'address' };
  return { ...byName, via: 'name' };
}

/** The algorithms of the key types `entries` know for the server first, then ssh2's default order; undefined when none. */
function preferredIn(entries: readonly KnownHostEntry[], host: string, port: number, address: string | undefined): string[] | undefined {
  const known = new Set<string>();
  const collect = (name: string): void => {
    for (const e of entries) {
      if (e.marker === null && hostMatches(e.hosts, name, port)) known.add(e.keyType);
    }
  };
  collect(bare(host));
  if (known.size === 0 && address !== undefined) collect(bare(address));
  const first = [...known].flatMap(algorithmsFor);
  if (first.length === 0) return undefined;
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 10_000;
/** How long to wait for another process's lock before giving up (the key then stays in memory). */
const LOCK_WAIT_MS = 5_000;

/**
 * Run `fn` holding `<file>.lock` (created exclusively), so the read-append-write of known_hosts
 * is one step across processes too: two cluster workers accepting keys at once must not write
 * over each other's line. The in-process #lock orders this process's own accepts.
 */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another process`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

/** Write `text` to `file` so that readers see the old or the new file, never a partial one. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch { /* new file */ }
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    const dh = await open(dir, 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  } catch { /* directory fsync is best effort (not every filesystem allows it) */ }
}

/** HOST_KEY_CHANGED with both fingerprints: the full text for the v1 error, a short one for the close reason. */
export function changedError(storedKeys: readonly StoredKey[], presented: string, presentedType: string): BridgeError {
  const typed = storedKeys.some((s) => s.keyType !== presentedType);
  const show = (fp: string, type: string): string => (typed ? `${fp} (${type})` : fp);
  const stored = storedKeys.map((s) => show(s.fingerprint, s.keyType)).join(', ');
  return new BridgeError('HOST_KEY_CHANGED', `stored ${stored} presented ${show(presented, presentedType)}`, {
    reasonDetail: `presented ${presented} differs from stored`,
  });
}

export type HostKeyDecision =
  | { readonly action: 'accept'; readonly store: boolean; readonly why: 'known' | 'compat' | 'insecure' }
  | { readonly action: 'ask' }
  | { readonly action: 'refuse'; readonly error: BridgeError };

export interface DecideOptions {
  readonly policy: HostKeyPolicy;
  /** The client can answer a prompt (v1). */
  readonly canAsk: boolean;
  readonly compatAcceptNew: boolean;
  readonly keyType: string;
  readonly fingerprint: string;
}

/** The policy table (module comment): pure, so every cell is a unit test. */
export function decideHostKey(verdict: LookupResult, o: DecideOptions): HostKeyDecision {
  switch (verdict.status) {
    case 'match':
      return { action: 'accept', store: false, why: 'known' };
    case 'revoked':
      return { action: 'refuse', error: new BridgeError('HOST_KEY_REJECTED', `revoked key ${o.fingerprint}`) };
    case 'mismatch':
      return { action: 'refuse', error: changedError(verdict.stored, o.fingerprint, o.keyType) };
    case 'unknown':
      break;
  }
  if (verdict.otherTypes.length > 0) return { action: 'refuse', error: changedError(verdict.otherTypes, o.fingerprint, o.keyType) };
  const unknown = (why: string): HostKeyDecision => ({
    action: 'refuse',
    error: new BridgeError('HOST_KEY_UNKNOWN', `presented ${o.fingerprint}${why}`, { reasonDetail: `presented ${o.fingerprint}` }),
  });
  switch (o.policy) {
    case 'strict':
      return unknown(' (policy strict)');
    case 'accept-new-insecure':
      return { action: 'accept', store: false, why: 'insecure' };
    case 'tofu':
      if (o.canAsk) return { action: 'ask' };
      return o.compatAcceptNew ? { action: 'accept', store: true, why: 'compat' } : unknown(' (this client cannot be asked; see compat-accept-new-host-keys)');
  }
}
