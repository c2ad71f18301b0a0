/**
 * Composition root: builds the manager, metrics, HTTP server and upgrade handler from a frozen
 * config. `listen()` starts serving; `close()` drains (stop admitting, 1001 to every client,
 * wait up to server-shutdown-timeout, cut the rest) and then closes the server. Idempotent.
 * `stop()` is the stop a signal asks for: not ready at once (/readyz 503), still serving for the
 * ready delay (server-shutdown-ready-delay; `hurry()` or `close()` cut it short), then `close()`.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { BridgeAuth } from './auth/bridge-auth.js';
import { ClusterSecretFile } from './auth/cluster-secret.js';
import { randomKeyring, type Keyring } from './auth/keyring.js';
import type { Config } from './config/types.js';
import type { Logger } from './log.js';
import { ConnectionManager } from './manager/connection-manager.js';
import type { Gate } from './manager/gate.js';
import { createMetrics, type BridgeMetrics } from './metrics/metrics.js';
import { registerRelayMetrics } from './metrics/relay-metrics.js';
import { CidrSet } from './grammar/cidr.js';
import { systemLookup, type LookupFn } from './policy/target.js';
import { TargetPolicy } from './policy/target-rules.js';
import { JumpRoutes } from './ssh/route-keys.js';
import { prepareRecordDir, Recorder } from './record/recorder.js';
import { HostKeyStore } from './ssh/host-keys.js';
import { selectSubprotocol } from './protocol/codec.js';
import { createRequestHandler, localView, type StatsView } from './http/routes.js';
import { rejectUpgrade, sendError } from './http/respond.js';
import { createFilesHandler } from './http/files-route.js';
import { createHttpServer, listenSafetyError, openGatewayError } from './http/server.js';
import { loadTlsMaterial, peerCertificateSubject, reloadTls, tlsEnabled } from './http/tls.js';
import { createUpgradeHandler } from './http/upgrade.js';
import { Attach } from './http/attach.js';
import { Guard } from './http/guard.js';
import { createRelayedHandler } from './http/relayed.js';
import type { Relay, RelayListener } from './http/relay.js';
import { workerOwner } from './grammar/owner-id.js';
import { clusterNode } from './config/cluster-kinds.js';
import { hostname } from 'node:os';
import { StaticSite } from './http/static.js';
import { Pause } from './util/pause.js';
import { VERSION } from './version.js';

export interface AppOptions {
  readonly logger: Logger;
  /** DNS at the policy boundary; tests inject a stub to simulate names. */
  readonly lookup?: LookupFn;
  /** The built page; defaults to dist/web next to the compiled code. */
  readonly site?: StaticSite;
  /** The admission authority; defaults to one in this process (a cluster worker passes the primary's). */
  readonly gate?: Gate;
  /** Where /health, /stats and /metrics read the gateway's figures; defaults to this process's. */
  readonly view?: (manager: ConnectionManager, metrics: BridgeMetrics) => StatsView;
  /**
   * How a resume or viewer for a session held by another process reaches it (a cluster worker
   * passes its Unix-socket relay, src/cluster/resume-relay.ts); none in one process.
   */
  readonly relay?: Relay;
}

export interface Listening {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

export class App {
  readonly config: Config;
  readonly manager: ConnectionManager;
  readonly metrics: BridgeMetrics;
  /** Bridge authentication and its ticket store (inert when no method is configured). */
  readonly auth: BridgeAuth;
  /** Session recording (--record-dir); null when off. */
  readonly recorder: Recorder | null;
  /** Operator routes (--jump-route) and their bastion keys, re-read by reload(). */
  readonly routes: JumpRoutes;
  /**
   * What signs and checks share links, file tokens and relayed requests: the keyring file
   * (--cluster-secret-file, re-read by reload()), or random keys of this process without one.
   */
  readonly keyring: Keyring;
  readonly #secretFile: ClusterSecretFile | null;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #log: Logger;
  readonly #relay: Relay | undefined;
  readonly #relayUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  readonly #relayRequest: (req: IncomingMessage, res: ServerResponse) => void;
  #relayListener: RelayListener | undefined;
  #listening: Promise<Listening> | undefined;
  #closing: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /** The ready delay of a stop: owned here, ended by hurry() or close(). */
  readonly #readyDelay = new Pause();

  constructor(config: Config, opts: AppOptions) {
    this.config = config;
    this.#log = opts.logger;
    // First, before anything holds a timer: a record directory that cannot be created or written
    // stops the start (RecordSetupError, exit 2), in the primary's probe and in every worker.
    const recorder = Recorder.fromConfig(config, opts.logger);
    this.routes = JumpRoutes.fromConfig(config); // a route whose key cannot be loaded stops the start
    // A keyring file that is missing, too open or bad stops the start (KeyringFileError, exit 2).
    const secretFile = config.clusterSecretFile === null ? null : ClusterSecretFile.load(config.clusterSecretFile);
    this.#secretFile = secretFile;
    this.keyring = secretFile ?? randomKeyring();
    if (secretFile !== null) this.#logKeyring(secretFile, 'keyring_loaded');

    this.recorder = recorder;
    // Cluster admission (Redis) is this process's when it owns its gate (one process); a worker asks the primary's.
    const metrics = createMetrics(() => manager.stats(), () => manager.gate.admission.ask('slots', { scope: 'caller' }),
      config.clusterRedis !== null && opts.gate === undefined ? { cluster: () => manager.gate.admission.ask('nodes', {}) } : {});
    const manager = new ConnectionManager(config, opts.logger, metrics, {
      recorder, owner: opts.relay?.self ?? workerOwner(0, clusterNode(config, hostname())), keyring: this.keyring, ...(opts.gate === undefined ? {} : { gate: opts.gate }),
    });
    this.manager = manager;
    this.metrics = metrics;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.wsReadLimit,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: selectSubprotocol,
    });
    const trusted = CidrSet.parse(config.trustedProxies);
    const auth = new BridgeAuth(config, { certSubject: peerCertificateSubject, trusted });
    this.auth = auth;
    const secure = tlsEnabled(config);
    // Every route that acts for a client enters through it: IP, ban and rate, cross-site, authentication.
    const guard = new Guard({ trusted, site: { secure, allowedOrigins: config.allowedOrigins }, abuse: manager.gate.abuse, rejections: manager });
    this.#server = createHttpServer(config);
    const relay = opts.relay;
    this.#relay = relay;
    if (relay?.stats !== undefined) registerRelayMetrics(metrics.registry, relay.stats);
    // Only exists with files-enabled (a 404 otherwise); its relayed entry takes file requests other workers pass here.
    const files = config.filesEnabled ? createFilesHandler({ config, directory: manager.directory, guard, metrics, logger: opts.logger, relay, owners: manager.gate.owners }) : null;
    this.#relayRequest = files?.relayed ?? ((_req, res) => sendError(res, 'NOT_FOUND'));
    this.#server.on('request', createRequestHandler({
      config, manager, site: opts.site ?? new StaticSite(), version: VERSION,
      auth, guard, logger: opts.logger, view: (opts.view ?? localView)(manager, metrics), files,
    }));
    const attach = new Attach({
      config, directory: manager.directory, admission: manager, guard, authEnabled: auth.enabled, logger: opts.logger, relay, owners: manager.gate.owners,
    });
    this.#server.on('upgrade', createUpgradeHandler({
      config, manager, guard, attach, tickets: manager.gate.tickets, wss: this.#wss, logger: opts.logger,
      policy: TargetPolicy.fromConfig(config), lookup: opts.lookup ?? systemLookup, auth, routes: this.routes,
    }));
    this.#relayUpgrade = relay === undefined ? undefined : createRelayedHandler({ config, manager, guard, attach, relay, wss: this.#wss, logger: opts.logger });
    // A TLS handshake that failed (no or a wrong client certificate under --client-ca, an old
    // protocol version, a scanner): counted as a rejection, logged at debug with the reason.
    this.#server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
      manager.reject('TLS_HANDSHAKE_FAILED');
      opts.logger.debug({ code: 'TLS_HANDSHAKE_FAILED', reason: err.code ?? err.message, peer: socket.remoteAddress }, 'tls handshake failed');
    });
    this.#server.on('clientError', (err: Error & { code?: string }, socket) => {
      const code = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
      if (socket.writable) rejectUpgrade(socket, code);
      else socket.destroy();
    });
  }

  /** What the relay between nodes has done, when this process has one (/stats, tests). */
  relayStats(): ReturnType<NonNullable<Relay['stats']>> | undefined {
    return this.#relay?.stats?.();
  }

  get secure(): boolean {
    return tlsEnabled(this.config);
  }

  /**
   * Re-read what can change without a restart (SIGHUP): with TLS, the certificate, key and
   * client CA, used from the next TLS connection on; the auth-tokens file; the keys of the
   * operator routes (--jump-route; a key that fails keeps the old one); the keyring file
   * (--cluster-secret-file: the next link or token is signed with its first key, and a link
   * whose key left the file is refused from then on). Open sessions are untouched. On failure
   * the old material stays in use, the error is logged (`reload_failed`) and rethrown.
   */
  async reload(): Promise<void> {
    // Each part is reloaded on its own: a broken token file does not hold back new certificates,
    // nor the other way round. What failed keeps its previous state and is named in the log.
    const failures: string[] = [];
    const reloaded: string[] = [];
    if (tlsEnabled(this.config)) {
      try {
        await reloadTls(this.#server, this.config);
        reloaded.push('tls');
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    try {
      if (this.config.authTokens !== null) {
        this.auth.reload();
        reloaded.push('auth-tokens');
      }
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
    if (this.routes.size > 0) {
      const keys = this.routes.reload();
      failures.push(...keys);
      if (keys.length === 0) reloaded.push('jump-route-keys');
    }
    if (this.#secretFile !== null) {
      try {
        this.#secretFile.reload();
        reloaded.push('cluster-secret-file');
        this.#logKeyring(this.#secretFile, 'keyring_reloaded');
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (failures.length > 0) {
      this.#log.error({ event: 'reload_failed', error: failures.join('; '), reloaded }, 'reload failed; what failed keeps its previous state');
      throw new Error(failures.join('; '));
    }
    this.#log.info({ event: 'reloaded', reloaded }, 'reloaded');
  }

  /** The key ids in force (never a secret): after a rotation step, each node's log says it took it. */
  #logKeyring(file: ClusterSecretFile, event: string): void {
    this.#log.info({ event, file: file.path, current: file.ids[0], keys: file.ids }, 'keyring in force');
  }

  /** Why this configuration must not start listening (plain HTTP or an open gateway off loopback), or null. */
  refusal(): string | null {
    return listenSafetyError(this.config) ?? openGatewayError(this.config, this.auth.enabled);
  }

  /**
   * Everything the constructor and listen() would refuse, without building an App: the files it
   * reads (TLS material, token file, JWT key, known_hosts, the keyring file, the record directory), the target
   * rules, and the listen rules. Throws what the constructor throws; returns the refusal text
   * (or null). The cluster primary runs it once so a mistake is one message, not one per worker.
   */
  static check(config: Config): string | null {
    TargetPolicy.fromConfig(config);
    JumpRoutes.fromConfig(config);
    if (tlsEnabled(config)) loadTlsMaterial(config);
    if (config.recordDir !== null) prepareRecordDir(config.recordDir);
    HostKeyStore.fromConfig(config);
    if (config.clusterSecretFile !== null) ClusterSecretFile.load(config.clusterSecretFile);
    const auth = new BridgeAuth(config);
    return listenSafetyError(config) ?? openGatewayError(config, auth.enabled);
  }

  /**
   * Starts serving. The caller logs the ready line (the CLI's `listening`, a cluster worker's
   * `worker_listening`). A close() that comes while this is under way waits for it, then closes
   * what it opened; listen() after close() is refused.
   */
  listen(): Promise<Listening> {
    if (this.#closing !== undefined) return Promise.reject(new Error('the bridge is closed'));
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<Listening> {
    const unsafe = this.refusal();
    if (unsafe !== null) throw new Error(unsafe);
    // The relay socket first: once the port listens (and the cluster primary hears so), a resume
    // relayed to this worker must find it.
    if (this.#relay !== undefined && this.#relayUpgrade !== undefined) {
      this.#relayListener = await this.#relay.listen(this.#relayUpgrade, this.#relayRequest);
      // The relay between nodes listens: the other nodes may now find this node's sessions (Redis).
      const address = this.#relayListener.address;
      if (address !== undefined) this.manager.gate.owners.tell('announceRelay', { address });
    }
    const { host, port } = this.config.serverAddress;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.removeListener('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address() as AddressInfo;
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `${this.secure ? 'https' : 'http'}://${shown}:${addr.port}` };
  }

  /**
   * The first step of a stop, for a process whose ready delay another owns (a cluster worker told
   * by its primary): /readyz answers 503 from now on; sessions are still admitted and served.
   */
  leave(): void {
    this.manager.leave();
  }

  /**
   * A stop (SIGTERM, SIGINT): not ready at once, then, while the server listens, new sessions are
   * still admitted for `server-shutdown-ready-delay` so a load balancer that watches /readyz moves
   * them elsewhere first; then close(). Resolves when close() has. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.leave();
    const delayMs = this.config.serverShutdownReadyDelayMs;
    // Nothing listens yet (a stop during the start): nobody to warn, no delay.
    if (delayMs > 0 && this.#closing === undefined && this.#server.listening) {
      this.#log.info({ event: 'not_ready', ready_delay_ms: delayMs, sessions: this.manager.size }, 'not ready: /readyz answers 503, new sessions still admitted until the drain');
      await this.#readyDelay.wait(delayMs);
    }
    await this.close();
  }

  /** Skip the rest of the ready delay (a second signal): the drain begins now. True when a delay was under way. */
  hurry(): boolean {
    return this.#readyDelay.cut();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    this.#readyDelay.cut();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#log.info({ sessions: this.manager.size, timeout_ms: this.config.serverShutdownTimeoutMs }, 'draining');
    // A listen still under way finishes first (it cannot be called off half-way), so the server
    // and relay socket it opens are closed below instead of staying open after the drain.
    await this.#listening?.catch(() => undefined);
    const stopped = new Promise<void>((resolve) => {
      if (!this.#server.listening) resolve();
      else this.#server.close(() => resolve());
    });
    await this.manager.drain(this.config.serverShutdownTimeoutMs);
    // Every session has closed its recording; wait for the files to reach the disk before exit.
    await this.recorder?.closeAll(this.#log);
    this.#server.closeAllConnections();
    this.#relayListener?.close();
    this.#wss.close();
    await this.manager.gate.dispose();
    await stopped;
    this.#log.info('stopped');
  }
}
