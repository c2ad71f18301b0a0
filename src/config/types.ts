/**
 * The validated, frozen configuration every other module receives. Durations are milliseconds,
 * sizes are bytes. Produced only by `loadConfig` (src/config/loader.ts) from defaults, a config
 * file, `UWSB_*` environment variables and flags, in that order of increasing precedence.
 */
export interface Config {
  /** Where to listen. `port` may be 0 (ephemeral; tests). */
  readonly serverAddress: { readonly host: string; readonly port: number };
  /** PEM certificate chain file; TLS is on when both cert and key are set. */
  readonly serverCert: string | null;
  readonly serverKey: string | null;
  /** Debug logging (state transitions). */
  readonly serverDebug: boolean;
  /** Log lines as JSON, as text for people, or (auto) text when stdout is a terminal. */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  readonly serverShutdownTimeoutMs: number;
  /**
   * After a stop is asked, how long /readyz answers 503 while the node still admits and serves,
   * before the drain begins (so a load balancer moves new sessions away first); 0: drain at once.
   */
  readonly serverShutdownReadyDelayMs: number;
  /** Allow plain HTTP on a non-loopback address. */
  readonly insecureHttp: boolean;

  readonly connMaxTotal: number;
  /** Max concurrent sessions per client (source) IP. */
  readonly connMaxPerHost: number;
  /** Max concurrent sessions per resolved target ip:port. */
  readonly connMaxPerTarget: number;
  /** A client that makes no read progress for this long is closed (CLIENT_STALLED). */
  readonly connTimeoutMs: number;

  readonly sshConnectTimeoutMs: number;
  readonly sshAuthTimeoutMs: number;
  readonly sshHandshakeTimeoutMs: number;
  /** SSH keepalive interval; 0 disables. */
  readonly sshKeepaliveIntervalMs: number;
  /** SSH window (bytes) the bridge grants a terminal channel: bounds the output one slow client holds (src/ssh/channel-window.ts). */
  readonly sshWindow: number;

  readonly wsReadBuffer: number;
  readonly wsWriteBuffer: number;
  readonly wsHandshakeTimeoutMs: number;
  /** Max WebSocket message size (ws maxPayload). */
  readonly wsReadLimit: number;
  /** Time allowed between the upgrade and the credentials frame. */
  readonly wsAuthTimeoutMs: number;
  /** Server ping interval; 0 disables pings. */
  readonly wsPingIntervalMs: number;
  /** A peer that has not answered a ping within this time is terminated. */
  readonly wsPongTimeoutMs: number;

  readonly rateIntervalMs: number;
  readonly rateBurst: number;
  /** Rate limiting per client IP on/off. */
  readonly ratePerIp: boolean;
  /** CIDRs (single addresses allowed) exempt from rate limiting, trimmed. */
  readonly rateWhitelist: readonly string[];

  readonly healthEnabled: boolean;
  readonly healthPath: string;
  readonly metricsEnabled: boolean;
  readonly metricsPath: string;

  /** Idle session timeout; 0 disables. */
  readonly sessionIdleTimeoutMs: number;
  readonly sessionIdleWarningMs: number;

  /** CIDRs whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** Extra allowed browser origins (exact `scheme://host[:port]`); same-origin is always allowed. */
  readonly allowedOrigins: readonly string[];

  /** URL prefix the page and the WebSocket route are served under (behind a reverse proxy); always starts and ends with `/`. */
  readonly basePath: string;

  /** Fixed-target mode: the route's host and port are ignored and every session goes here. */
  readonly target: { readonly host: string; readonly port: number } | null;

  /** How unknown host keys are treated (changed keys are always refused). */
  readonly hostKeyPolicy: 'strict' | 'tofu' | 'accept-new-insecure';
  /** known_hosts file read and appended to; null keeps accepted keys in memory. */
  readonly knownHosts: string | null;
  /** Read-only known_hosts file (ignored when missing). */
  readonly systemKnownHosts: string | null;
  /** Under tofu, accept unknown keys for seed-protocol clients (which cannot be asked). */
  readonly compatAcceptNewHostKeys: boolean;
  /** HOST[:PORTS] rules; empty = any target not denied. */
  readonly allowTargets: readonly string[];
  /** HOST[:PORTS] rules refused on top of the built-in link-local/metadata deny list. */
  readonly denyTargets: readonly string[];
  /** Also refuse loopback, private and shared address ranges. */
  readonly denyPrivateTargets: boolean;
  /** Rules for servers reached through a jump host (by the name the client gave); empty: any. */
  readonly jumpTargets: readonly string[];
  /** Operator routes (src/grammar/jump-route.ts): a matching target goes through the route's bastion. */
  readonly jumpRoutes: readonly string[];
  /** SSH auth failures per client IP within the window that ban it; 0 disables. */
  readonly authBanFailures: number;
  readonly authBanWindowMs: number;
  readonly authBanDurationMs: number;
  /** Explicit consent to an open gateway on a non-loopback address. */
  readonly allowAnyTarget: boolean;

  /** PEM CA bundle: when set (TLS only), every client must present a certificate it signed (mTLS). */
  readonly clientCa: string | null;
  /** File of SHA-256 hashed bearer tokens (bridge authentication); null: no token mode. */
  readonly authTokens: string | null;
  /** JWKS URL the JWT signing keys are fetched from; null: not this key source. */
  readonly authJwtJwks: string | null;
  /** PEM public key JWTs are verified with; null: not this key source. */
  readonly authJwtPublicKey: string | null;
  /** Required `iss` of a JWT. */
  readonly authJwtIssuer: string | null;
  /** Required `aud` of a JWT. */
  readonly authJwtAudience: string | null;
  /** Request header a trusted reverse proxy puts the authenticated user in (lowercase); null: off. */
  readonly authProxyHeader: string | null;
  /** Lifetime of a one-time WebSocket ticket. */
  readonly authTicketTtlMs: number;
  /** Proxy-header and client-certificate subjects (exact or globs with * and ?) that are operators (recordings). */
  readonly adminSubjects: readonly string[];
  readonly filesUploadSubjects: readonly string[];

  /** Worker processes under node:cluster; 'auto' is one per core above 2 cores, else 1 (config/workers.ts); 1 runs a single process. */
  readonly workers: number | 'auto';

  /** Directory session recordings (asciicast v2) are written to; null: recording is off. */
  readonly recordDir: string | null;
  /** Also record the terminal input forwarded to the shell ("i" events). */
  readonly recordInput: boolean;
  /** `user:GLOB` / `target:GLOB` entries (normalized); empty records every session. */
  readonly recordFilter: readonly string[];
  /** A recording stops with a truncation marker before its file would pass this many bytes. */
  readonly recordMaxSize: number;

  /** How long a detached resumable session waits to be resumed; 0: resume is off. */
  readonly resumeGraceMs: number;
  /** Output bytes kept per resumable session for a resume to replay. */
  readonly resumeBuffer: number;
  /** Longest lifetime of a share link; 0: sharing is off. */
  readonly shareTtlMs: number;
  /** Most viewers of one session at once. */
  readonly shareMaxViewers: number;
  /** Redis URL shared by the nodes of a gateway (exact cluster-wide limits); null: one node, nothing shared. */
  readonly clusterRedis: string | null;
  /** This node's name in Redis keys and logs; null: the host name. */
  readonly nodeId: string | null;
  /** TTL of the node's lease in Redis; renewed every third of it. */
  readonly clusterLeaseMs: number;
  /** Longest wait for one Redis command. */
  readonly clusterRedisTimeoutMs: number;
  /** The keyring file: keys with ids for share links and relayed requests (src/auth/keyring-file.ts); null: random keys per process (one node). */
  readonly clusterSecretFile: string | null;
  /** This node's relay listener (mutual TLS), the address other nodes dial; null: no relay between nodes. */
  readonly nodeRelayAddress: { readonly host: string; readonly port: number } | null;
  /** PEM certificate chain, key and CA of the relay listener and of the relay's client side. */
  readonly nodeRelayCert: string | null;
  readonly nodeRelayKey: string | null;
  readonly nodeRelayCa: string | null;
  /** A resume token works from any client IP (default: only the IP that opened the session). */
  readonly resumeAnyIp: boolean;

  /** File transfer (SFTP on the session's link) is on. */
  readonly filesEnabled: boolean;
  /** Largest upload body, in bytes. */
  readonly filesMaxUpload: number;
  /** Transfers (uploads and downloads) running at once per session. */
  readonly filesMaxTransfers: number;
  /** Lifetime of a file token, in ms. */
  readonly filesTokenTtlMs: number;
}
