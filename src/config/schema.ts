/**
 * The option table: the single place that says which options exist, how each is spelled as a
 * flag, env var and file key, its default, unit, meaning and validation. The loader, the help
 * text and the tests all read this table, so an option added here is complete everywhere.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { cidrError } from '../grammar/cidr.js';
import { parseTargetRule, TargetRuleError } from '../grammar/target-rule.js';
import { formatRecordRule, parseRecordRule } from '../grammar/record-rule.js';
import { parseDuration } from './duration.js';
import { boundedDuration, nodeId, redisUrl } from './cluster-kinds.js';
import { jumpRoutes } from './route-kinds.js';
import type { Config } from './types.js';

export type Field = keyof Config;

/** How one kind of value is parsed. Schemas take raw input: a string (flag, env) or JSON (file). */
export interface Kind<T> {
  readonly schema: z.ZodType<T>;
  /** Unit or value shape shown in help and docs. */
  readonly unit: string;
  /** Completes "expected ..." in error messages. */
  readonly allowed: string;
  /** Boolean flags take no separate value argument (`--flag` alone means true). */
  readonly isBool: boolean;
  /** What an error message may show of a refused value that can hold a secret (a URL's password). */
  readonly redact?: (raw: string) => string;
  /** A repeated flag adds to the value (joined with a newline) instead of replacing it. */
  readonly repeatable?: boolean;
}

export interface OptionSpec<T = unknown> extends Kind<T> {
  /** Flag name without dashes, and the config-file key. */
  readonly name: string;
  readonly env: string;
  /** The default as a user would type it; null means "not set". */
  readonly default: string | null;
  readonly description: string;
}

export interface OptionMeta extends OptionSpec {
  readonly field: Field;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** setTimeout fires at once for delays above 2^31-1 ms, which would turn a long timeout into none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const DECIMAL = /^\d+$/;

function custom(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

const bool: Kind<boolean> = {
  schema: z.union([
    z.boolean(),
    z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'], case: 'insensitive' }),
  ]),
  unit: 'bool',
  allowed: 'true or false (also 1/0, yes/no)',
  isBool: true,
};

function int(min: number, unit: string): Kind<number> {
  return {
    schema: z
      .union([z.string().regex(DECIMAL).transform(Number), z.number()])
      .pipe(z.number().int().min(min).max(Number.MAX_SAFE_INTEGER)),
    unit,
    allowed: `an integer >= ${min}`,
    isBool: false,
  };
}

function size(min: number, max: number, minText: string, maxText: string): Kind<number> {
  const text = z.string().transform((s, ctx) => {
    const m = /^(\d+)(kib|mib)?$/i.exec(s);
    if (m?.[1] === undefined) return custom(ctx, `"${s}" is not a size`);
    const unit = m[2]?.toLowerCase();
    return Number(m[1]) * (unit === 'kib' ? KiB : unit === 'mib' ? MiB : 1);
  });
  return {
    schema: z.union([text, z.number()]).pipe(z.number().int().min(min).max(max)),
    unit: 'bytes',
    allowed: `a size from ${minText} to ${maxText} (bytes, or a number with a KiB or MiB suffix)`,
    isBool: false,
  };
}

function duration(zeroDisables: boolean): Kind<number> {
  return {
    schema: z.union([z.string(), z.number()]).transform((v, ctx) => {
      if (typeof v === 'number') return custom(ctx, 'a duration is a string with a unit, such as "5000ms", not a number');
      let ms: number;
      try {
        ms = Math.ceil(parseDuration(v)); // round up so a tiny positive value never means "off"
      } catch (err) {
        return custom(ctx, (err as Error).message);
      }
      if (ms > MAX_TIMER_MS) return custom(ctx, 'longer than 596h31m23.647s, the longest timer Node.js supports');
      if (ms === 0 && !zeroDisables) return custom(ctx, 'zero is not allowed here');
      return ms;
    }),
    unit: 'duration',
    allowed: `a duration ${zeroDisables ? '>= 0 (0 disables)' : '> 0'} in Go syntax such as 500ms, 30s, 1m30s, 2h`,
    isBool: false,
  };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** `host:port` / `[v6]:port` / `:port`; an empty host comes back as ''. Returns an error text or the parts. */
function hostPort(s: string): { host: string; port: number } | string {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  if (m?.[3] === undefined) return 'not of the form host:port';
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is outside 0-65535`;
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) return `"[${m[1]}]" is not an IPv6 address`;
    return { host: m[1].toLowerCase(), port };
  }
  const host = m[2] ?? '';
  if (host === '' || isIP(host) === 4) return { host, port };
  if (!HOSTNAME.test(host) || /^[\d.]+$/.test(host)) return `"${host}" is not an IP address or host name`;
  return { host: host.toLowerCase(), port };
}

const address: Kind<{ host: string; port: number }> = {
  schema: z.string().transform((s, ctx) => {
    const r = hostPort(s);
    if (typeof r === 'string') return custom(ctx, r);
    return r.host === '' ? { host: '0.0.0.0', port: r.port } : r;
  }),
  unit: 'host:port',
  allowed: 'host:port, [ipv6]:port or :port (all IPv4 interfaces), port 0-65535',
  isBool: false,
};

/** The fixed SSH target: a host is required and port 0 is not a port. */
const target: Kind<{ host: string; port: number } | null> = {
  schema: z.union([
    z.null(),
    z.string().transform((s, ctx) => {
      const r = hostPort(s);
      if (typeof r === 'string') return custom(ctx, r);
      if (r.host === '') return custom(ctx, 'a host is required');
      if (r.port === 0) return custom(ctx, 'port must be 1-65535');
      return r;
    }),
  ]),
  unit: 'host:port',
  allowed: 'host:port or [ipv6]:port of the one SSH server this gateway reaches, port 1-65535',
  isBool: false,
};

/** Where other nodes dial this one: a host that names one interface (not 0.0.0.0 or ::), port 0 (tests: any free port) to 65535. */
const relayAddress: Kind<{ host: string; port: number } | null> = {
  schema: z.union([
    z.null(),
    z.string().transform((s, ctx) => {
      const r = hostPort(s);
      if (typeof r === 'string') return custom(ctx, r);
      if (r.host === '' || r.host === '0.0.0.0' || r.host === '::') return custom(ctx, 'a host other nodes can dial is required (not 0.0.0.0 or ::)');
      return r;
    }),
  ]),
  unit: 'host:port',
  allowed: 'host:port or [ipv6]:port that other nodes dial (not a wildcard address), port 0-65535',
  isBool: false,
};

/** Free text (an issuer, an audience); not empty. */
const text: Kind<string | null> = {
  schema: z.union([z.string().trim().min(1).max(1024), z.null()]),
  unit: 'text',
  allowed: 'a non-empty string',
  isBool: false,
};

const httpUrl: Kind<string | null> = {
  schema: z.union([
    z.null(),
    z.string().refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    }, 'not an http(s) URL'),
  ]),
  unit: 'URL',
  allowed: 'an http:// or https:// URL without credentials',
  isBool: false,
};

/** Headers a client always controls or the bridge reads for another purpose cannot carry an identity. */
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'origin', 'x-forwarded-for', 'forwarded', 'sec-websocket-protocol', 'sec-websocket-key', 'upgrade', 'connection', 'content-type', 'content-length']);

const headerName: Kind<string | null> = {
  schema: z.union([
    z.null(),
    z.string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not an HTTP header name')
      .transform((s) => s.toLowerCase())
      .refine((s) => !RESERVED_HEADERS.has(s), 'this header is reserved'),
  ]),
  unit: 'header',
  allowed: `an HTTP header name such as X-Forwarded-User (not ${[...RESERVED_HEADERS].join(', ')})`,
  isBool: false,
};

/** `auto` or 1-256 processes. */
const workerCount: Kind<number | 'auto'> = {
  schema: z.union([
    z.literal('auto'),
    z.union([z.string().regex(DECIMAL).transform(Number), z.number()]).pipe(z.number().int().min(1).max(256)),
  ]),
  unit: 'processes',
  allowed: 'auto (1 on up to 2 CPU cores, else one per core) or an integer from 1 to 256',
  isBool: false,
};

/** One of a fixed set of words. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T): Kind<T[number]> {
  return { schema: z.enum(values), unit: 'word', allowed: `one of ${values.join(', ')}`, isBool: false };
}

/**
 * Target rules (`HOST[:PORTS]`), validated by the grammar the policy itself parses with
 * (src/grammar/target-rule.ts), so a rule the option table admits is a rule the policy can use.
 */
const targetRules = (option: string): Kind<readonly string[]> =>
  list('list of target rules', 'a comma-separated list of HOST[:PORTS] rules: IP, CIDR ([v6/len] before a port) or host glob, ports N or N-M', (entry) => {
    try {
      parseTargetRule(entry);
      return entry;
    } catch (err) {
      if (err instanceof TargetRuleError) return { error: `invalid target rule in ${option}: ${err.message}` };
      throw err;
    }
  });

const filePath: Kind<string | null> = {
  schema: z.union([z.string().min(1), z.null()]),
  unit: 'path',
  allowed: 'a non-empty file path',
  isBool: false,
};

const urlPath: Kind<string> = {
  schema: z
    .string()
    .regex(/^\/[^\s?#]*$/)
    .refine((p) => !p.startsWith('/ws/'), 'the /ws/ prefix belongs to the WebSocket endpoint'),
  unit: 'URL path',
  allowed: 'a URL path starting with "/" without whitespace, "?" or "#", outside /ws/',
  isBool: false,
};

/** `/ssh` and `/ssh/` both mean the prefix `/ssh/`; segments are plain URL-safe names. */
const basePath: Kind<string> = {
  schema: z
    .string()
    .regex(/^\/(?:[A-Za-z0-9._~-]+\/?)*$/)
    .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'no . or .. segments')
    .transform((p) => (p.endsWith('/') ? p : `${p}/`)),
  unit: 'URL path',
  allowed: 'a URL path prefix like /ssh (letters, digits, . _ ~ - segments)',
  isBool: false,
};

/** Lists come as one comma-separated string (flag, env, file) or a JSON array of strings (file). */
function list(unit: string, allowed: string, check: (entry: string) => string | { error: string }): Kind<readonly string[]> {
  const entries = z.union([z.string().transform((s) => s.split(',')), z.array(z.string())]);
  return {
    schema: entries.transform((raw, ctx) => {
      const out: string[] = [];
      for (const entry of raw.map((e) => e.trim()).filter((e) => e !== '')) {
        const result = check(entry);
        if (typeof result !== 'string') return custom(ctx, result.error);
        out.push(result);
      }
      return out;
    }),
    unit,
    allowed,
    isBool: false,
  };
}

const cidrs = list('list of CIDRs', 'a comma-separated list of IP addresses or CIDRs', (entry) => {
  const err = cidrError(entry);
  return err === null ? entry : { error: err };
});

/** Browsers send `Origin` normalized (lowercase, no default port), so entries are stored that way. */
function canonicalOrigin(entry: string): string | null {
  if (!/^https?:\/\/[^/?#@\s\\]+$/i.test(entry)) return null;
  try {
    const origin = new URL(entry).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

const origins = list('list of origins', 'a comma-separated list of origins scheme://host[:port] (http or https, no path)', (entry) => {
  return canonicalOrigin(entry) ?? { error: `"${entry}" is not an origin` };
});

/** `user:GLOB` / `target:GLOB` (src/record/filter.ts), stored normalized. */
const recordRules = list('list of record rules', 'a comma-separated list of user:GLOB and target:GLOB entries (globs with * and ?; a target is host:port)', (entry) => {
  const rule = parseRecordRule(entry);
  return 'error' in rule ? rule : formatRecordRule(rule);
});

/** Subjects as the proxy header or a client certificate gives them: printable, at most 256 characters. */
const subjectGlobs = list('list of subjects', 'a comma-separated list of user names or certificate subjects, exact or with the globs * and ? (1-256 printable characters each)', (entry) => {
  return /^[\x20-\x7e]{1,256}$/.test(entry) ? entry : { error: `"${entry}" is not a subject (1-256 printable ASCII characters)` };
});

function opt<T>(name: string, kind: Kind<T>, def: string | null, description: string, env?: string): OptionSpec<T> {
  return { ...kind, name, env: env ?? `UWSB_${name.toUpperCase().replaceAll('-', '_')}`, default: def, description };
}

const pos = duration(false);
const nonNeg = duration(true);

/** Keyed by Config field, so the compiler rejects a missing option or a schema of the wrong type. */
const TABLE: { readonly [K in Field]: OptionSpec<Config[K]> } = {
  serverAddress: opt('server-address', address, '127.0.0.1:8080', 'Address to listen on; port 0 picks a free port.'),
  serverCert: opt('server-cert', filePath, null, 'PEM certificate chain; TLS is on when cert and key are both set.', 'UWSB_SERVER_CERT_FILE'),
  serverKey: opt('server-key', filePath, null, 'PEM private key for server-cert.', 'UWSB_SERVER_KEY_FILE'),
  serverDebug: opt('server-debug', bool, 'false', 'Debug logging (session state transitions).'),
  logFormat: opt('log-format', oneOf(['auto', 'json', 'pretty'] as const), 'auto', 'Log lines as JSON (json), as text for people (pretty), or auto: pretty when stdout is a terminal, JSON otherwise.'),
  serverShutdownTimeoutMs: opt('server-shutdown-timeout', pos, '30s', 'How long shutdown waits for sessions to drain.'),
  serverShutdownReadyDelayMs: opt('server-shutdown-ready-delay', nonNeg, '0', 'After SIGTERM, how long /readyz answers 503 while new sessions are still admitted, before the drain; behind a load balancer, its check interval x fall count. 0: drain at once.'),
  insecureHttp: opt('insecure-http', bool, 'false', 'Allow plain HTTP on a non-loopback address.'),
  connMaxTotal: opt('conn-max-total', int(1, 'sessions'), '1000', 'Max concurrent sessions in total.'),
  connMaxPerHost: opt('conn-max-per-host', int(1, 'sessions'), '10', 'Max concurrent sessions per client source IP.'),
  connMaxPerTarget: opt('conn-max-per-target', int(1, 'sessions'), '10', 'Max concurrent sessions per resolved target ip:port.'),
  connTimeoutMs: opt('conn-timeout', pos, '30s', 'A client that makes no read progress for this long is closed.'),
  sshConnectTimeoutMs: opt('ssh-connect-timeout', pos, '10s', 'TCP connect timeout to the SSH target.'),
  sshAuthTimeoutMs: opt('ssh-auth-timeout', pos, '45s', 'Time allowed for SSH authentication.'),
  sshHandshakeTimeoutMs: opt('ssh-handshake-timeout', pos, '60s', 'Time allowed for the SSH handshake.'),
  sshKeepaliveIntervalMs: opt('ssh-keepalive-interval', nonNeg, '15s', 'SSH keepalive interval; 0 disables.'),
  sshWindow: opt('ssh-window', size(32 * KiB, 16 * MiB, '32KiB', '16MiB'), '256KiB', 'SSH channel window the bridge grants the terminal\'s channel: output the server may send ahead of what the client has taken. A client that stops reading holds about 1 MiB plus this much per session; a larger window speeds output from distant servers (throughput is at most window / round trip).'),
  wsReadBuffer: opt('ws-read-buffer', size(1, 16 * MiB, '1', '16MiB'), '4096', 'Accepted for seed compatibility; no effect (ws sizes its own buffers).'),
  wsWriteBuffer: opt('ws-write-buffer', size(1, 16 * MiB, '1', '16MiB'), '4096', 'Accepted for seed compatibility; no effect (output is bounded by the pump watermarks).'),
  wsHandshakeTimeoutMs: opt('ws-handshake-timeout', pos, '10s', 'Time for the HTTP upgrade request to arrive.'),
  wsReadLimit: opt('ws-read-limit', size(KiB, 64 * MiB, '1KiB', '64MiB'), '524288', 'Largest WebSocket message accepted; larger closes with 1009.'),
  wsAuthTimeoutMs: opt('ws-auth-timeout', pos, '15s', 'Time between the upgrade and the credentials frame.'),
  wsPingIntervalMs: opt('ws-ping-interval', nonNeg, '30s', 'WebSocket ping interval; 0 disables pings.'),
  wsPongTimeoutMs: opt('ws-pong-timeout', pos, '20s', 'A peer that has not answered a ping within this time is dropped.'),
  rateIntervalMs: opt('rate-interval', pos, '2s', 'Time in which an emptied rate-limit bucket refills completely.'),
  rateBurst: opt('rate-burst', int(1, 'attempts'), '10', 'Connection attempts allowed back to back (bucket size, refilled per rate-interval).'),
  ratePerIp: opt('rate-per-ip', bool, 'true', 'Rate limit per client IP; false uses one global bucket.'),
  rateWhitelist: opt('rate-whitelist', cidrs, '', 'IPs/CIDRs exempt from rate limiting.'),
  healthEnabled: opt('health-enabled', bool, 'true', 'Serve the health endpoint.'),
  healthPath: opt('health-path', urlPath, '/health', 'Health endpoint path.'),
  metricsEnabled: opt('metrics-enabled', bool, 'false', 'Serve Prometheus metrics and the JSON /stats.'),
  metricsPath: opt('metrics-path', urlPath, '/metrics', 'Metrics endpoint path.'),
  sessionIdleTimeoutMs: opt('session-idle-timeout', nonNeg, '30m', 'Close a session idle for this long (no input, output, resize or presence); 0 disables.'),
  sessionIdleWarningMs: opt('session-idle-warning', nonNeg, '60s', 'Warn a v1 client this long before an idle close (at most half the idle timeout); 0: no warning.'),
  trustedProxies: opt('trusted-proxies', cidrs, '', 'Proxies (IPs/CIDRs) whose X-Forwarded-For is believed.'),
  allowedOrigins: opt('allowed-origins', origins, '', 'Extra allowed browser origins; same-origin is always allowed.'),
  basePath: opt('base-path', basePath, '/', 'URL prefix of the page and the WebSocket route, for a reverse proxy sub-path.'),
  target: opt('target', target, null, 'Fixed-target mode: every session goes to this host:port, whatever the path says.'),
  hostKeyPolicy: opt('host-key-policy', oneOf(['strict', 'tofu', 'accept-new-insecure'] as const), 'tofu', 'strict: only known keys; tofu: the user accepts an unknown key, which is then stored; accept-new-insecure: log only.'),
  knownHosts: opt('known-hosts', filePath, null, 'OpenSSH known_hosts file the bridge reads and appends accepted keys to (atomically); unset keeps accepted keys in memory only.'),
  systemKnownHosts: opt('system-known-hosts', filePath, '/etc/ssh/ssh_known_hosts', 'Read-only OpenSSH known_hosts file also trusted (ignored when missing).'),
  compatAcceptNewHostKeys: opt('compat-accept-new-host-keys', bool, 'false', 'Seed-protocol clients cannot answer a host key prompt: under tofu, accept and store unknown keys for them instead of refusing.'),
  allowTargets: opt('allow-targets', targetRules('allow-targets'), '', 'Only these targets may be reached (HOST[:PORTS] rules); empty allows any target not denied.'),
  denyTargets: opt('deny-targets', targetRules('deny-targets'), '', 'Targets refused (HOST[:PORTS] rules), on top of link-local and metadata addresses; deny wins over allow.'),
  denyPrivateTargets: opt('deny-private-targets', bool, 'false', 'Also refuse loopback, private (RFC 1918, fc00::/7) and shared (100.64.0.0/10) addresses.'),
  jumpTargets: opt('jump-targets', targetRules('jump-targets'), '', 'Servers behind a jump host (later hops and a jumped session\'s target) must match one of these HOST[:PORTS] rules, by the name or address the client gave; empty: whatever the jump host reaches.'),
  jumpRoutes: opt('jump-route', jumpRoutes, '', 'Operator routes, "HOST[:PORTS] via USER@HOST[:PORT] key=FILE [passphrase-file=FILE]": a matching target is reached through that bastion, logged in with that key (re-read on SIGHUP); repeatable.'),
  authBanFailures: opt('auth-ban-failures', int(0, 'failures'), '5', 'Failed logins (SSH authentication failures and rejected gateway credentials) from one client IP within auth-ban-window that ban it; 0 disables.'),
  authBanWindowMs: opt('auth-ban-window', pos, '5m', 'Window in which auth-ban-failures are counted.'),
  authBanDurationMs: opt('auth-ban-duration', pos, '5m', 'How long a banned client IP is refused (HTTP 429 AUTH_BANNED).'),
  allowAnyTarget: opt('allow-any-target', bool, 'false', 'Required to listen on a non-loopback address with no allow-targets list and no bridge authentication.'),
  clientCa: opt('client-ca', filePath, null, 'PEM CA bundle; with TLS, clients must present a certificate signed by it (mutual TLS). Reloaded on SIGHUP.', 'UWSB_CLIENT_CA_FILE'),
  authTokens: opt('auth-tokens', filePath, null, 'Bridge authentication by bearer token: file of "sha256:HEX [name]" lines (make them with `webssh-bridge hash-token`). Reloaded on SIGHUP.', 'UWSB_AUTH_TOKENS_FILE'),
  authJwtJwks: opt('auth-jwt-jwks', httpUrl, null, 'Bridge authentication by JWT: JWKS URL of the signing keys.'),
  authJwtPublicKey: opt('auth-jwt-public-key', filePath, null, 'Bridge authentication by JWT: PEM public key (with auth-jwt-jwks too, a token signed by either is accepted).', 'UWSB_AUTH_JWT_PUBLIC_KEY_FILE'),
  authJwtIssuer: opt('auth-jwt-issuer', text, null, 'Required JWT issuer (iss); required with JWT authentication.'),
  authJwtAudience: opt('auth-jwt-audience', text, null, 'Required JWT audience (aud); required with JWT authentication.'),
  authProxyHeader: opt('auth-proxy-header', headerName, null, 'Bridge authentication by a reverse proxy: request header holding the authenticated user, believed only from trusted-proxies.'),
  authTicketTtlMs: opt('auth-ticket-ttl', pos, '30s', 'Lifetime of the one-time ticket the page exchanges its credential for.'),
  adminSubjects: opt('admin-subjects', subjectGlobs, '', 'Proxy-header users and client-certificate subjects (exact, or globs with * and ?) that are operators: they may list and play session recordings.'),
  workers: opt('workers', workerCount, 'auto', 'Worker processes (node:cluster) sharing the port; auto is one per CPU core above 2 cores and a single process on 2 or fewer, 1 runs everything in one process. Limits stay exact across workers.'),
  recordDir: opt('record-dir', filePath, null, 'Record every session that reaches the shell as an asciicast v2 file in this directory (created with mode 0700; files 0600); with --cluster-redis the nodes may share it (a shared mount): each file name carries its node id (docs/scaling.md). Unset: no recording.'),
  recordInput: opt('record-input', bool, 'false', 'Also record what the user types (asciicast "i" events); credentials are never recorded.'),
  recordFilter: opt('record-filter', recordRules, '', 'Record only sessions matching one of these user:GLOB / target:GLOB (host:port) entries; empty records every session.'),
  recordMaxSize: opt('record-max-size', size(4 * KiB, 1024 * 1024 * MiB, '4KiB', '1048576MiB'), '100MiB', 'Largest recording file; before passing it the recording stops with a truncation marker (the session goes on).'),
  resumeGraceMs: opt('resume-grace', nonNeg, '2m', 'How long a resumable session (v1 clients that ask for it) survives a dropped socket, waiting to be resumed; 0 disables resume.'),
  resumeBuffer: opt('resume-buffer', size(4 * KiB, 1024 * MiB, '4KiB', '1024MiB'), '1MiB', 'Output kept per resumable session for the client to catch up on after a resume; older output is dropped (the client is told how much).'),
  shareTtlMs: opt('share-ttl', nonNeg, '1h', 'Longest lifetime of a view-only share link (an owner may ask for less); 0 turns sharing off.'),
  shareMaxViewers: opt('share-max-viewers', int(1, 'viewers'), '10', 'Most viewers watching one session at once.'),
  clusterRedis: opt('cluster-redis', redisUrl, null, 'Redis shared by the nodes of a gateway: session limits, the rate limit, login bans, tickets and host keys accepted under tofu are shared by every node that names it (docs/scaling.md); unset: one node, nothing shared.'),
  nodeId: opt('node-id', nodeId, null, 'This node\'s name in the cluster (Redis keys, logs); unset: the host name.'),
  clusterLeaseMs: opt('cluster-lease', boundedDuration(300, 600_000, '300ms', '10m'), '15s', 'Lease of a node in Redis, renewed every third of it; a node that stops renewing gives its slots back this long (plus one renewal) after. Also the heartbeat of recordings\' live markers: touched every third of it (at least 1s), ended once untouched this long.'),
  clusterRedisTimeoutMs: opt('cluster-redis-timeout', boundedDuration(10, 60_000, '10ms', '1m'), '300ms', 'Longest wait for a Redis command; past it a new session, a ticket or a host key only Redis could know is refused (CLUSTER_UNAVAILABLE), and the rate limit and ban fall back to the node.'),
  clusterSecretFile: opt('cluster-secret-file', filePath, null, 'Keyring file of "ID SECRET" lines (make one with `webssh-bridge new-secret`): signs share links, file tokens and relayed requests; the first line signs, every line verifies. Required with cluster-redis (the same file on every node); unset: random keys per process. Reloaded on SIGHUP.'),
  nodeRelayAddress: opt('node-relay-address', relayAddress, null, 'This node\'s relay listener (mutual TLS) and the address other nodes dial to reach the sessions it holds: a resume, a viewer or a file request for them may then reach any node (docs/scaling.md); unset: they must reach this node.'),
  nodeRelayCert: opt('node-relay-cert', filePath, null, 'PEM certificate chain this node shows on the relay, as server and as client.', 'UWSB_NODE_RELAY_CERT_FILE'),
  nodeRelayKey: opt('node-relay-key', filePath, null, 'PEM private key of node-relay-cert.', 'UWSB_NODE_RELAY_KEY_FILE'),
  nodeRelayCa: opt('node-relay-ca', filePath, null, 'PEM CA bundle the relay trusts: both ends of a relay link must show a certificate it signed.', 'UWSB_NODE_RELAY_CA_FILE'),
  resumeAnyIp: opt('resume-any-ip', bool, 'false', 'Let a resume token be used from another client IP than the one that opened the session (clients that roam between networks).'),
  filesEnabled: opt('files-enabled', bool, 'true', 'File transfer over the session\'s own SSH connection (SFTP): the `files` message and the api/files routes.'),
  filesMaxUpload: opt('files-max-upload', size(1, 1024 * 1024 * MiB, '1', '1048576MiB'), '4096MiB', 'Largest upload; a larger body is refused (FILES_TOO_LARGE) and its temporary file removed.'),
  filesMaxTransfers: opt('files-max-transfers', int(1, 'transfers'), '4', 'Uploads and downloads running at once per session; one more is refused (FILES_BUSY).'),
  filesTokenTtlMs: opt('files-token-ttl', pos, '5m', 'Lifetime of a file token (the `files-token` answer); download links live 60 s at most, and never past it.'),
  filesUploadSubjects: opt('files-upload-subjects', subjectGlobs, '', 'Gateway subjects (token names, JWT subs, proxy users, certificate subjects; exact, or globs with * and ?) that may change files: upload, mkdir, rename, delete. Anyone else gets FILES_READ_ONLY and may still list and download. Empty: every identity may (a JWT can still narrow itself with webssh_files: "read").'),
};

/** Every option in help order. */
export const OPTIONS: readonly OptionMeta[] = Object.freeze(
  (Object.keys(TABLE) as Field[]).map((field): OptionMeta => Object.freeze({ ...TABLE[field], field })),
);

/** `--config` names the file; it is not a Config field, so it lives outside the table. */
export const CONFIG_OPTION: OptionSpec<string> = opt(
  'config',
  { schema: z.string().min(1), unit: 'path', allowed: 'a readable JSON file', isBool: false },
  null,
  'JSON file whose keys are the option names (kebab-case, as the flags).',
);
