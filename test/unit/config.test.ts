import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, helpText, loadConfig } from '../../src/config/loader.js';
import { OPTIONS } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';

type Env = Record<string, string | undefined>;

function load(argv: readonly string[] = [], env: Env = {}, files: Record<string, string> = {}): Config {
  const result = loadConfig(argv, env, (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  });
  assert.equal(result.kind, 'config');
  return result.config;
}

/** Asserts a ConfigError naming `option` and `value`, both in the fields and in the message. */
function fails(fn: () => unknown, option: string, value: string, pattern?: RegExp): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.option, option);
  assert.equal(caught.value, value);
  assert.ok(caught.message.includes(option), caught.message);
  if (value !== '') assert.ok(caught.message.includes(value), caught.message);
  assert.ok(caught.allowed.length > 0);
  assert.ok(caught.message.includes(caught.allowed), caught.message);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  return caught;
}

const DEFAULTS: Config = {
  serverAddress: { host: '127.0.0.1', port: 8080 },
  serverCert: null,
  serverKey: null,
  serverDebug: false,
  logFormat: 'auto',
  serverShutdownTimeoutMs: 30_000,
  serverShutdownReadyDelayMs: 0,
  insecureHttp: false,
  connMaxTotal: 1000,
  connMaxPerHost: 10,
  connMaxPerTarget: 10,
  connTimeoutMs: 30_000,
  sshConnectTimeoutMs: 10_000,
  sshAuthTimeoutMs: 45_000,
  sshHandshakeTimeoutMs: 60_000,
  sshKeepaliveIntervalMs: 15_000,
  sshWindow: 262_144,
  wsReadBuffer: 4096,
  wsWriteBuffer: 4096,
  wsHandshakeTimeoutMs: 10_000,
  wsReadLimit: 524_288,
  wsAuthTimeoutMs: 15_000,
  wsPingIntervalMs: 30_000,
  wsPongTimeoutMs: 20_000,
  rateIntervalMs: 2_000,
  rateBurst: 10,
  ratePerIp: true,
  rateWhitelist: [],
  healthEnabled: true,
  healthPath: '/health',
  metricsEnabled: false,
  metricsPath: '/metrics',
  sessionIdleTimeoutMs: 1_800_000,
  sessionIdleWarningMs: 60_000,
  trustedProxies: [],
  allowedOrigins: [],
  basePath: '/',
  target: null,
  hostKeyPolicy: 'tofu',
  knownHosts: null,
  systemKnownHosts: '/etc/ssh/ssh_known_hosts',
  compatAcceptNewHostKeys: false,
  allowTargets: [],
  denyTargets: [],
  denyPrivateTargets: false,
  jumpTargets: [],
  jumpRoutes: [],
  authBanFailures: 5,
  authBanWindowMs: 300_000,
  authBanDurationMs: 300_000,
  allowAnyTarget: false,
  clientCa: null,
  authTokens: null,
  authJwtJwks: null,
  authJwtPublicKey: null,
  authJwtIssuer: null,
  authJwtAudience: null,
  authProxyHeader: null,
  authTicketTtlMs: 30_000,
  adminSubjects: [],
  workers: 'auto',
  recordDir: null,
  recordInput: false,
  recordFilter: [],
  recordMaxSize: 104_857_600,
  resumeGraceMs: 120_000,
  resumeBuffer: 1_048_576,
  resumeAnyIp: false,
  filesEnabled: true,
  filesMaxUpload: 4096 * 1024 * 1024,
  filesMaxTransfers: 4,
  filesTokenTtlMs: 300_000,
  filesUploadSubjects: [],
  shareTtlMs: 3_600_000,
  shareMaxViewers: 10,
  clusterRedis: null,
  nodeId: null,
  clusterLeaseMs: 15_000,
  clusterRedisTimeoutMs: 300,
  clusterSecretFile: null,
  nodeRelayAddress: null,
  nodeRelayCert: null,
  nodeRelayKey: null,
  nodeRelayCa: null,
};

interface Sample {
  readonly name: string;
  readonly env: string;
  readonly text: string;
  readonly json: unknown;
  readonly field: keyof Config;
  readonly expected: unknown;
}

const s = (name: string, env: string, text: string, json: unknown, field: keyof Config, expected: unknown): Sample => ({
  name, env, text, json, field, expected,
});

/** One non-default value per option; the env names are spelled out, not derived. */
const SAMPLES: readonly Sample[] = [
  s('server-address', 'UWSB_SERVER_ADDRESS', '[::1]:9000', '[::1]:9000', 'serverAddress', { host: '::1', port: 9000 }),
  s('server-cert', 'UWSB_SERVER_CERT_FILE', '/etc/c.pem', '/etc/c.pem', 'serverCert', '/etc/c.pem'),
  s('server-key', 'UWSB_SERVER_KEY_FILE', '/etc/k.pem', '/etc/k.pem', 'serverKey', '/etc/k.pem'),
  s('server-debug', 'UWSB_SERVER_DEBUG', 'true', true, 'serverDebug', true),
  s('log-format', 'UWSB_LOG_FORMAT', 'pretty', 'pretty', 'logFormat', 'pretty'),
  s('server-shutdown-timeout', 'UWSB_SERVER_SHUTDOWN_TIMEOUT', '1m30s', '1m30s', 'serverShutdownTimeoutMs', 90_000),
  s('server-shutdown-ready-delay', 'UWSB_SERVER_SHUTDOWN_READY_DELAY', '6s', '6s', 'serverShutdownReadyDelayMs', 6_000),
  s('insecure-http', 'UWSB_INSECURE_HTTP', 'yes', true, 'insecureHttp', true),
  s('conn-max-total', 'UWSB_CONN_MAX_TOTAL', '5', 5, 'connMaxTotal', 5),
  s('conn-max-per-host', 'UWSB_CONN_MAX_PER_HOST', '3', 3, 'connMaxPerHost', 3),
  s('conn-max-per-target', 'UWSB_CONN_MAX_PER_TARGET', '4', '4', 'connMaxPerTarget', 4),
  s('conn-timeout', 'UWSB_CONN_TIMEOUT', '500ms', '500ms', 'connTimeoutMs', 500),
  s('ssh-connect-timeout', 'UWSB_SSH_CONNECT_TIMEOUT', '1.5s', '1.5s', 'sshConnectTimeoutMs', 1_500),
  s('ssh-auth-timeout', 'UWSB_SSH_AUTH_TIMEOUT', '2m', '2m', 'sshAuthTimeoutMs', 120_000),
  s('ssh-handshake-timeout', 'UWSB_SSH_HANDSHAKE_TIMEOUT', '1h', '1h', 'sshHandshakeTimeoutMs', 3_600_000),
  s('ssh-keepalive-interval', 'UWSB_SSH_KEEPALIVE_INTERVAL', '0', '0', 'sshKeepaliveIntervalMs', 0),
  s('ssh-window', 'UWSB_SSH_WINDOW', '64KiB', 65536, 'sshWindow', 65_536),
  s('ws-read-buffer', 'UWSB_WS_READ_BUFFER', '8KiB', 8192, 'wsReadBuffer', 8192),
  s('ws-write-buffer', 'UWSB_WS_WRITE_BUFFER', '1MiB', '1MiB', 'wsWriteBuffer', 1_048_576),
  s('ws-handshake-timeout', 'UWSB_WS_HANDSHAKE_TIMEOUT', '3s', '3s', 'wsHandshakeTimeoutMs', 3_000),
  s('ws-read-limit', 'UWSB_WS_READ_LIMIT', '2048', 2048, 'wsReadLimit', 2048),
  s('ws-auth-timeout', 'UWSB_WS_AUTH_TIMEOUT', '20s', '20s', 'wsAuthTimeoutMs', 20_000),
  s('ws-ping-interval', 'UWSB_WS_PING_INTERVAL', '0s', '0s', 'wsPingIntervalMs', 0),
  s('ws-pong-timeout', 'UWSB_WS_PONG_TIMEOUT', '5s', '5s', 'wsPongTimeoutMs', 5_000),
  s('rate-interval', 'UWSB_RATE_INTERVAL', '250ms', '250ms', 'rateIntervalMs', 250),
  s('rate-burst', 'UWSB_RATE_BURST', '7', 7, 'rateBurst', 7),
  s('rate-per-ip', 'UWSB_RATE_PER_IP', 'false', false, 'ratePerIp', false),
  s('rate-whitelist', 'UWSB_RATE_WHITELIST', ' 10.0.0.0/8, ,192.0.2.7 ', ['10.0.0.0/8', ' 192.0.2.7', ''], 'rateWhitelist', ['10.0.0.0/8', '192.0.2.7']),
  s('health-enabled', 'UWSB_HEALTH_ENABLED', 'no', false, 'healthEnabled', false),
  s('health-path', 'UWSB_HEALTH_PATH', '/healthz', '/healthz', 'healthPath', '/healthz'),
  s('metrics-enabled', 'UWSB_METRICS_ENABLED', '1', true, 'metricsEnabled', true),
  s('metrics-path', 'UWSB_METRICS_PATH', '/prom', '/prom', 'metricsPath', '/prom'),
  s('session-idle-timeout', 'UWSB_SESSION_IDLE_TIMEOUT', '10m', '10m', 'sessionIdleTimeoutMs', 600_000),
  s('session-idle-warning', 'UWSB_SESSION_IDLE_WARNING', '90s', '90s', 'sessionIdleWarningMs', 90_000),
  s('trusted-proxies', 'UWSB_TRUSTED_PROXIES', '::1,127.0.0.1', ['::1', '127.0.0.1'], 'trustedProxies', ['::1', '127.0.0.1']),
  s('allowed-origins', 'UWSB_ALLOWED_ORIGINS', 'https://App.Example.com:443,http://localhost:3000', ['HTTPS://app.example.com', 'http://localhost:3000'], 'allowedOrigins', ['https://app.example.com', 'http://localhost:3000']),
  s('base-path', 'UWSB_BASE_PATH', '/ssh', '/ssh/', 'basePath', '/ssh/'),
  s('target', 'UWSB_TARGET', 'ssh.internal:2222', 'ssh.internal:2222', 'target', { host: 'ssh.internal', port: 2222 }),
  s('host-key-policy', 'UWSB_HOST_KEY_POLICY', 'strict', 'strict', 'hostKeyPolicy', 'strict'),
  s('known-hosts', 'UWSB_KNOWN_HOSTS', '/var/lib/uwsb/known_hosts', '/var/lib/uwsb/known_hosts', 'knownHosts', '/var/lib/uwsb/known_hosts'),
  s('system-known-hosts', 'UWSB_SYSTEM_KNOWN_HOSTS', '/etc/kh', '/etc/kh', 'systemKnownHosts', '/etc/kh'),
  s('compat-accept-new-host-keys', 'UWSB_COMPAT_ACCEPT_NEW_HOST_KEYS', 'true', true, 'compatAcceptNewHostKeys', true),
  s('allow-targets', 'UWSB_ALLOW_TARGETS', '10.0.0.0/8:22,*.lab.example:22-2222', ['10.0.0.0/8:22', '*.lab.example:22-2222'], 'allowTargets', ['10.0.0.0/8:22', '*.lab.example:22-2222']),
  s('deny-targets', 'UWSB_DENY_TARGETS', '[fd00::/8]:22,db.example', ['[fd00::/8]:22', 'db.example'], 'denyTargets', ['[fd00::/8]:22', 'db.example']),
  s('deny-private-targets', 'UWSB_DENY_PRIVATE_TARGETS', 'true', true, 'denyPrivateTargets', true),
  s('jump-targets', 'UWSB_JUMP_TARGETS', '10.0.0.0/8:22,*.internal', ['10.0.0.0/8:22', '*.internal'], 'jumpTargets', ['10.0.0.0/8:22', '*.internal']),
  s('jump-route', 'UWSB_JUMP_ROUTE', '*.lab:22 via ops@bastion:2222 key=/k/id\n10.0.0.0/8 via ops@[::1] key=/k/id2', ['*.lab:22 via ops@bastion:2222 key=/k/id', '10.0.0.0/8 via ops@[::1] key=/k/id2'], 'jumpRoutes', ['*.lab:22 via ops@bastion:2222 key=/k/id', '10.0.0.0/8 via ops@[::1] key=/k/id2']),
  s('auth-ban-failures', 'UWSB_AUTH_BAN_FAILURES', '0', 0, 'authBanFailures', 0),
  s('auth-ban-window', 'UWSB_AUTH_BAN_WINDOW', '1m', '1m', 'authBanWindowMs', 60_000),
  s('auth-ban-duration', 'UWSB_AUTH_BAN_DURATION', '1h', '1h', 'authBanDurationMs', 3_600_000),
  s('allow-any-target', 'UWSB_ALLOW_ANY_TARGET', 'true', true, 'allowAnyTarget', true),
  s('client-ca', 'UWSB_CLIENT_CA_FILE', '/etc/ca.pem', '/etc/ca.pem', 'clientCa', '/etc/ca.pem'),
  s('auth-tokens', 'UWSB_AUTH_TOKENS_FILE', '/etc/uwsb/tokens', '/etc/uwsb/tokens', 'authTokens', '/etc/uwsb/tokens'),
  s('auth-jwt-jwks', 'UWSB_AUTH_JWT_JWKS', 'https://idp.example/jwks.json', 'https://idp.example/jwks.json', 'authJwtJwks', 'https://idp.example/jwks.json'),
  s('auth-jwt-public-key', 'UWSB_AUTH_JWT_PUBLIC_KEY_FILE', '/etc/jwt.pem', '/etc/jwt.pem', 'authJwtPublicKey', '/etc/jwt.pem'),
  s('auth-jwt-issuer', 'UWSB_AUTH_JWT_ISSUER', 'https://idp.example', 'https://idp.example', 'authJwtIssuer', 'https://idp.example'),
  s('auth-jwt-audience', 'UWSB_AUTH_JWT_AUDIENCE', 'webssh', 'webssh', 'authJwtAudience', 'webssh'),
  s('auth-proxy-header', 'UWSB_AUTH_PROXY_HEADER', 'X-Forwarded-User', 'X-Forwarded-User', 'authProxyHeader', 'x-forwarded-user'),
  s('auth-ticket-ttl', 'UWSB_AUTH_TICKET_TTL', '10s', '10s', 'authTicketTtlMs', 10_000),
  s('admin-subjects', 'UWSB_ADMIN_SUBJECTS', 'carol, ops-*', ['carol', 'ops-*'], 'adminSubjects', ['carol', 'ops-*']),
  s('workers', 'UWSB_WORKERS', '3', 3, 'workers', 3),
  s('record-dir', 'UWSB_RECORD_DIR', '/var/log/uwsb/casts', '/var/log/uwsb/casts', 'recordDir', '/var/log/uwsb/casts'),
  s('record-input', 'UWSB_RECORD_INPUT', 'true', true, 'recordInput', true),
  s('record-filter', 'UWSB_RECORD_FILTER', 'user:deploy-*, Target:*.Prod.example:22', ['user:deploy-*', 'TARGET:*.prod.example:22'], 'recordFilter', ['user:deploy-*', 'target:*.prod.example:22']),
  s('record-max-size', 'UWSB_RECORD_MAX_SIZE', '512KiB', 524_288, 'recordMaxSize', 524_288),
  s('resume-grace', 'UWSB_RESUME_GRACE', '45s', '45s', 'resumeGraceMs', 45_000),
  s('resume-buffer', 'UWSB_RESUME_BUFFER', '256KiB', 262_144, 'resumeBuffer', 262_144),
  s('share-ttl', 'UWSB_SHARE_TTL', '15m', '15m', 'shareTtlMs', 900_000),
  s('share-max-viewers', 'UWSB_SHARE_MAX_VIEWERS', '3', 3, 'shareMaxViewers', 3),
  s('cluster-redis', 'UWSB_CLUSTER_REDIS', 'rediss://:pw@redis.example:6380/2', 'rediss://:pw@redis.example:6380/2', 'clusterRedis', 'rediss://:pw@redis.example:6380/2'),
  s('node-id', 'UWSB_NODE_ID', 'gw-1_eu-west', 'gw-1_eu-west', 'nodeId', 'gw-1_eu-west'),
  s('cluster-lease', 'UWSB_CLUSTER_LEASE', '3s', '3s', 'clusterLeaseMs', 3000),
  s('cluster-redis-timeout', 'UWSB_CLUSTER_REDIS_TIMEOUT', '500ms', '500ms', 'clusterRedisTimeoutMs', 500),
  s('cluster-secret-file', 'UWSB_CLUSTER_SECRET_FILE', '/etc/uwsb/keyring', '/etc/uwsb/keyring', 'clusterSecretFile', '/etc/uwsb/keyring'),
  s('node-relay-address', 'UWSB_NODE_RELAY_ADDRESS', '10.0.0.5:7443', '10.0.0.5:7443', 'nodeRelayAddress', { host: '10.0.0.5', port: 7443 }),
  s('node-relay-cert', 'UWSB_NODE_RELAY_CERT_FILE', '/etc/uwsb/relay.crt', '/etc/uwsb/relay.crt', 'nodeRelayCert', '/etc/uwsb/relay.crt'),
  s('node-relay-key', 'UWSB_NODE_RELAY_KEY_FILE', '/etc/uwsb/relay.key', '/etc/uwsb/relay.key', 'nodeRelayKey', '/etc/uwsb/relay.key'),
  s('node-relay-ca', 'UWSB_NODE_RELAY_CA_FILE', '/etc/uwsb/relay-ca.pem', '/etc/uwsb/relay-ca.pem', 'nodeRelayCa', '/etc/uwsb/relay-ca.pem'),
  s('resume-any-ip', 'UWSB_RESUME_ANY_IP', 'true', true, 'resumeAnyIp', true),
  s('files-enabled', 'UWSB_FILES_ENABLED', 'false', false, 'filesEnabled', false),
  s('files-max-upload', 'UWSB_FILES_MAX_UPLOAD', '64MiB', 67_108_864, 'filesMaxUpload', 67_108_864),
  s('files-max-transfers', 'UWSB_FILES_MAX_TRANSFERS', '2', 2, 'filesMaxTransfers', 2),
  s('files-token-ttl', 'UWSB_FILES_TOKEN_TTL', '90s', '90s', 'filesTokenTtlMs', 90_000),
  s('files-upload-subjects', 'UWSB_FILES_UPLOAD_SUBJECTS', 'ci, ops-*', ['ci', 'ops-*'], 'filesUploadSubjects', ['ci', 'ops-*']),
];

const EXPECTED_ALL = Object.fromEntries(SAMPLES.map((x) => [x.field, x.expected])) as unknown as Config;

void describe('config defaults', () => {
  void it('gives every field its documented default', () => {
    assert.deepEqual(load(), DEFAULTS);
  });

  void it('has a sample for every option in the table (no option untested)', () => {
    assert.deepEqual(SAMPLES.map((x) => x.name), OPTIONS.map((o) => o.name));
    assert.deepEqual(SAMPLES.map((x) => x.env), OPTIONS.map((o) => o.env));
  });

  void it('returns a deeply frozen object', () => {
    const c = load(['--rate-whitelist=10.0.0.0/8']);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.serverAddress));
    for (const list of [c.rateWhitelist, c.trustedProxies, c.allowedOrigins]) assert.ok(Object.isFrozen(list));
    assert.throws(() => {
      (c as { connMaxTotal: number }).connMaxTotal = 1;
    }, TypeError);
    assert.throws(() => (c.rateWhitelist as string[]).push('1.2.3.4'), TypeError);
  });
});

void describe('config sources', () => {
  void it('sets every option by flag', () => {
    assert.deepEqual(load(SAMPLES.map((x) => `--${x.name}=${x.text}`)), EXPECTED_ALL);
  });

  void it('sets every option by environment variable', () => {
    assert.deepEqual(load([], Object.fromEntries(SAMPLES.map((x) => [x.env, x.text]))), EXPECTED_ALL);
  });

  void it('sets every option by config file key', () => {
    const file = JSON.stringify(Object.fromEntries(SAMPLES.map((x) => [x.name, x.json])));
    assert.deepEqual(load(['--config', '/c.json'], {}, { '/c.json': file }), EXPECTED_ALL);
  });

  void it('reads the file named by UWSB_CONFIG, and --config wins over it', () => {
    const files = { '/env.json': '{"rate-burst": 2}', '/flag.json': '{"rate-burst": 3}' };
    assert.equal(load([], { UWSB_CONFIG: '/env.json' }, files).rateBurst, 2);
    assert.equal(load(['--config=/flag.json'], { UWSB_CONFIG: '/env.json' }, files).rateBurst, 3);
  });

  void it('reads a real file by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsb-config-'));
    try {
      const path = join(dir, 'c.json');
      writeFileSync(path, '\uFEFF{"conn-max-total": 42, "server-cert": null}');
      const result = loadConfig(['--config', path], {});
      assert.equal(result.kind === 'config' && result.config.connMaxTotal, 42);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('ignores variables without the UWSB_ prefix and treats empty UWSB_ values as unset', () => {
    assert.deepEqual(load([], { PATH: '/bin', HOME: undefined, uwsb_rate_burst: 'x', UWSB_RATE_BURST: '', UWSB_CONFIG: '' }), DEFAULTS);
  });

  void it('applies precedence flag > env > file > default', () => {
    const files = { '/c.json': '{"conn-max-total": 1, "conn-max-per-host": 1, "conn-max-per-target": 1}' };
    const env = { UWSB_CONFIG: '/c.json', UWSB_CONN_MAX_TOTAL: '2', UWSB_CONN_MAX_PER_HOST: '2' };
    const c = load(['--conn-max-total', '3'], env, files);
    assert.equal(c.connMaxTotal, 3);
    assert.equal(c.connMaxPerHost, 2);
    assert.equal(c.connMaxPerTarget, 1);
    assert.equal(c.rateBurst, 10);
  });

  void it('validates overridden values too', () => {
    fails(() => load(['--conn-max-total=3'], { UWSB_CONN_MAX_TOTAL: 'abc' }), 'conn-max-total', 'abc');
  });
});

void describe('flag syntax', () => {
  for (const argv of [['--rate-burst', '5'], ['--rate-burst=5'], ['-rate-burst=5'], ['-rate-burst', '5']]) {
    void it(`accepts ${argv.join(' ')}`, () => {
      assert.equal(load(argv).rateBurst, 5);
    });
  }

  void it('treats a boolean flag alone as true and accepts =true/=false', () => {
    assert.equal(load(['--server-debug']).serverDebug, true);
    assert.equal(load(['-server-debug']).serverDebug, true);
    assert.equal(load(['--server-debug=TRUE']).serverDebug, true);
    assert.equal(load(['--rate-per-ip=false']).ratePerIp, false);
    assert.equal(load(['-health-enabled=0', '--metrics-enabled']).healthEnabled, false);
  });

  void it('accepts every boolean spelling in env, case-insensitively', () => {
    for (const [text, value] of [['true', true], ['TRUE', true], ['1', true], ['Yes', true], ['false', false], ['False', false], ['0', false], ['NO', false]] as const) {
      assert.equal(load([], { UWSB_SERVER_DEBUG: text }).serverDebug, value, text);
    }
  });

  void it('lets the last repeated flag win', () => {
    assert.equal(load(['--rate-burst=1', '--rate-burst', '9']).rateBurst, 9);
  });

  void it('keeps "=" inside a value and accepts "-" as a value', () => {
    assert.equal(load(['--metrics-path=/a=b']).metricsPath, '/a=b');
    assert.equal(load(['--server-cert', '-', '--server-key', 'k']).serverCert, '-');
  });

  void it('accepts a trailing "--"', () => {
    assert.equal(load(['--rate-burst=2', '--']).rateBurst, 2);
  });

  void it('returns help for --help, -h and -help, even when the rest is broken', () => {
    for (const flag of ['--help', '-h', '-help', '--h']) {
      const result = loadConfig(['--nope', flag], { UWSB_NOPE: 'x' });
      assert.equal(result.kind, 'help');
      assert.equal(result.kind === 'help' && result.text, helpText());
    }
  });

  void it('returns the version for --version and -version, even when the rest is broken; help wins over it', () => {
    for (const flag of ['--version', '-version']) {
      assert.deepEqual(loadConfig(['--nope', flag], { UWSB_NOPE: 'x' }), { kind: 'version' });
      assert.equal(loadConfig([flag, '--help'], {}).kind, 'help');
    }
    assert.throws(() => loadConfig(['--', '--version'], {}), ConfigError, 'nothing after "--" is a flag');
  });
});

void describe('values', () => {
  void it('parses listen addresses like Go', () => {
    assert.deepEqual(load(['--server-address=:0']).serverAddress, { host: '0.0.0.0', port: 0 });
    assert.deepEqual(load(['--server-address=Example.COM:443']).serverAddress, { host: 'example.com', port: 443 });
    assert.deepEqual(load(['--server-address=10.1.2.3:65535']).serverAddress, { host: '10.1.2.3', port: 65535 });
    assert.deepEqual(load(['--server-address=localhost:22']).serverAddress, { host: 'localhost', port: 22 });
  });

  void it('rounds sub-millisecond durations up so they never mean "disabled"', () => {
    assert.equal(load(['--conn-timeout=1ns']).connTimeoutMs, 1);
    assert.equal(load(['--conn-timeout=1500us']).connTimeoutMs, 2);
  });

  void it('accepts size bounds', () => {
    assert.equal(load(['--ws-read-limit=1KiB']).wsReadLimit, 1024);
    assert.equal(load(['--ws-read-limit=64MiB']).wsReadLimit, 64 * 1024 * 1024);
    assert.equal(load(['--ws-read-buffer=1']).wsReadBuffer, 1);
    assert.equal(load(['--ws-write-buffer=16mib']).wsWriteBuffer, 16 * 1024 * 1024);
    assert.equal(load(['--ssh-window=32KiB']).sshWindow, 32 * 1024);
    assert.equal(load(['--ssh-window=16MiB']).sshWindow, 16 * 1024 * 1024);
  });

  void it('drops default ports and lowercases origins, keeping IPv6 literals', () => {
    assert.deepEqual(load(['--allowed-origins=http://EX.com:80,https://[::1]:8443']).allowedOrigins, ['http://ex.com', 'https://[::1]:8443']);
  });

  void it('enables TLS only with both cert and key, and lets an empty list override', () => {
    const c = load(['--server-cert=c', '--server-key=k', '--trusted-proxies='], { UWSB_TRUSTED_PROXIES: '10.0.0.0/8' });
    assert.deepEqual([c.serverCert, c.serverKey, c.trustedProxies], ['c', 'k', []]);
  });
});

void describe('errors', () => {
  void it('formats the message as documented', () => {
    const err = fails(() => load(['--conn-max-total', 'abc']), 'conn-max-total', 'abc');
    assert.equal(err.message, 'invalid value "abc" for option conn-max-total (--conn-max-total / UWSB_CONN_MAX_TOTAL): expected an integer >= 1');
    assert.equal(err.name, 'ConfigError');
  });

  void it('rejects an unknown flag and suggests the nearest', () => {
    fails(() => load(['--conn-max-totl=5']), 'conn-max-totl', '--conn-max-totl=5', /did you mean --conn-max-total\?/);
    fails(() => load(['---rate-burst=5']), '-rate-burst', '---rate-burst=5');
  });

  void it('rejects an unknown UWSB_ variable (typo guard)', () => {
    fails(() => load([], { UWSB_SERVER_CERT: '/c.pem' }), 'UWSB_SERVER_CERT', '/c.pem', /did you mean UWSB_SERVER_CERT_FILE\?/);
  });

  void it('rejects an unknown config file key', () => {
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"rate-brust": 3}' }), 'rate-brust', '3', /did you mean "rate-burst"\?/);
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"config": "/x"}' }), 'config', '/x');
  });

  void it('rejects bad integers', () => {
    for (const bad of ['abc', '1e3', '1.5', '-1', '+1', '0', ' 5', '0x10', '', '99999999999999999999']) {
      fails(() => load([`--conn-max-per-host=${bad}`]), 'conn-max-per-host', bad, /an integer >= 1/);
    }
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"rate-burst": 1.5}' }), 'rate-burst', '1.5', /in config file "\/c.json"/);
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"rate-burst": true}' }), 'rate-burst', 'true');
  });

  void it('rejects bad durations', () => {
    for (const bad of ['10', '-1s', 'abc', '1d', '0', '0s', '1000h', '']) {
      fails(() => load([`--ws-auth-timeout=${bad}`]), 'ws-auth-timeout', bad, /a duration > 0/);
    }
    fails(() => load([], { UWSB_WS_PING_INTERVAL: '-5s' }), 'ws-ping-interval', '-5s', /a duration >= 0/);
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"conn-timeout": 5000}' }), 'conn-timeout', '5000', /not a number/);
  });

  void it('rejects bad booleans', () => {
    fails(() => load(['--server-debug=maybe']), 'server-debug', 'maybe', /true or false/);
    fails(() => load([], { UWSB_RATE_PER_IP: 'on' }), 'rate-per-ip', 'on');
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"health-enabled": 1}' }), 'health-enabled', '1');
  });

  void it('rejects bad sizes', () => {
    fails(() => load(['--ws-read-buffer=1MB']), 'ws-read-buffer', '1MB', /KiB or MiB/);
    fails(() => load(['--ws-read-buffer=17MiB']), 'ws-read-buffer', '17MiB');
    fails(() => load(['--ws-write-buffer=0']), 'ws-write-buffer', '0');
    fails(() => load(['--ws-read-limit=512']), 'ws-read-limit', '512', /from 1KiB to 64MiB/);
    // Below one SSH packet a channel could not carry a full packet; above 16 MiB one slow client could hold that much.
    fails(() => load(['--ssh-window=16KiB']), 'ssh-window', '16KiB', /from 32KiB to 16MiB/);
    fails(() => load([], { UWSB_SSH_WINDOW: '17MiB' }), 'ssh-window', '17MiB', /from 32KiB to 16MiB/);
  });

  void it('rejects bad CIDRs, naming the bad entry', () => {
    fails(() => load(['--rate-whitelist=10.0.0.0/8,10.0.0.0/33']), 'rate-whitelist', '10.0.0.0/8,10.0.0.0/33', /"10.0.0.0\/33" has a prefix length/);
    fails(() => load([], { UWSB_TRUSTED_PROXIES: 'proxy.local' }), 'trusted-proxies', 'proxy.local', /not an IP address/);
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{"trusted-proxies": ["::1", 5]}' }), 'trusted-proxies', '::1,5');
  });

  void it('target: host required, port 1-65535', () => {
    assert.deepEqual(load(['--target', '[::1]:22']).target, { host: '::1', port: 22 });
    for (const bad of [':22', 'h:0', 'h', 'h:70000', 'a b:22']) fails(() => load([`--target=${bad}`]), 'target', bad);
  });

  void it('log-format is auto, json or pretty', () => {
    fails(() => load(['--log-format', 'text']), 'log-format', 'text', /auto, json, pretty/);
    assert.equal(load(['--log-format=json']).logFormat, 'json');
  });

  void it('host-key-policy is one of three words; target rules are validated', () => {
    fails(() => load(['--host-key-policy', 'yes']), 'host-key-policy', 'yes', /strict, tofu, accept-new-insecure/);
    assert.deepEqual(load(['--allow-targets', '192.168.1.5,::1,fe80::/10,host-1.example:2200']).allowTargets, ['192.168.1.5', '::1', 'fe80::/10', 'host-1.example:2200']);
    for (const bad of ['a b', 'h:0', 'h:22-21', 'h:70000', 'h:22-', 'h/x']) fails(() => load([`--deny-targets=${bad}`]), 'deny-targets', bad);
  });

  void it('base-path: normalized to end in "/"; bad prefixes rejected', () => {
    assert.equal(load(['--base-path', '/a/b']).basePath, '/a/b/');
    assert.equal(load(['--base-path', '/']).basePath, '/');
    for (const bad of ['ssh', '/a b', '/../x', '/a/./b', '/a?x', '//x']) {
      fails(() => load([`--base-path=${bad}`]), 'base-path', bad);
    }
  });

  void it('rejects bad origins', () => {
    for (const bad of ['https://a/', 'https://a/path', 'ftp://a', '*', 'a.com', 'https://user@a', 'https://a?x', 'https://a b']) {
      fails(() => load([`--allowed-origins=${bad}`]), 'allowed-origins', bad, /is not an origin/);
    }
  });

  void it('rejects bad paths', () => {
    for (const bad of ['health', '/a b', '/a?x', '/a#x', '', '/ws/health']) {
      fails(() => load([`--health-path=${bad}`]), 'health-path', bad, /a URL path/);
    }
    const err = fails(() => load(['--metrics-path=/health']), 'metrics-path', '/health');
    assert.match(err.message, /health-path/);
  });

  void it('rejects bad listen addresses', () => {
    for (const bad of ['a:b:9', '1.2.3.4:70000', 'host', '[::1]', '[1.2.3.4]:80', '999.1.1.1:80', 'ho st:80', ':-1', '::1:80', '-a:80']) {
      fails(() => load([`--server-address=${bad}`]), 'server-address', bad, /host:port/);
    }
  });

  void it('rejects a cert without a key and a key without a cert, naming both', () => {
    const a = fails(() => load(['--server-cert=/c.pem']), 'server-cert', '/c.pem');
    assert.match(a.message, /server-key/);
    const b = fails(() => load([], { UWSB_SERVER_KEY_FILE: '/k.pem' }), 'server-key', '/k.pem');
    assert.match(b.message, /server-cert/);
    fails(() => load(['--server-cert=']), 'server-cert', '', /non-empty file path/);
  });

  void it('rejects gateway-auth options that cannot work alone', () => {
    fails(() => load(['--client-ca=/ca.pem']), 'client-ca', '/ca.pem', /server-cert and server-key/);
    fails(() => load(['--auth-jwt-jwks=https://idp.example/jwks', '--auth-jwt-audience=a']), 'auth-jwt-issuer', '', /issuer and the audience/);
    fails(() => load(['--auth-jwt-public-key=/k.pem', '--auth-jwt-issuer=i']), 'auth-jwt-audience', '', /issuer and the audience/);
    fails(() => load(['--auth-proxy-header=X-User']), 'auth-proxy-header', 'x-user', /trusted-proxies/);
    fails(() => load(['--auth-jwt-issuer=https://idp.example']), 'auth-jwt-issuer', 'https://idp.example', /nothing verifies a JWT without a key/);
    for (const bad of ['Authorization', 'X-Forwarded-For', 'Cookie', 'X User', '']) {
      fails(() => load([`--auth-proxy-header=${bad}`, '--trusted-proxies=127.0.0.1']), 'auth-proxy-header', bad);
    }
    for (const bad of ['ftp://idp.example/jwks', 'not a url', 'https://user:pw@idp.example/jwks']) {
      fails(() => load([`--auth-jwt-jwks=${bad}`, '--auth-jwt-issuer=i', '--auth-jwt-audience=a']), 'auth-jwt-jwks', bad, /http/);
    }
    fails(() => load(['--auth-ticket-ttl=0s']), 'auth-ticket-ttl', '0s');
  });

  void it('workers: auto or 1-256', () => {
    assert.equal(load(['--workers=auto']).workers, 'auto');
    assert.equal(load(['--workers', '1']).workers, 1);
    for (const bad of ['0', '257', 'two', '-1', '1.5']) fails(() => load([`--workers=${bad}`]), 'workers', bad);
  });

  void it('recording: filter entries are user:GLOB or target:GLOB; input and filter need record-dir; size 4KiB+', () => {
    const dir = ['--record-dir=/tmp/casts'];
    assert.deepEqual(load([...dir, '--record-filter=USER:Alice,target:[FD00::1]:22']).recordFilter, ['user:Alice', 'target:[fd00::1]:22']);
    for (const bad of ['alice', 'host:x', 'user:', 'target:a b:22', 'target:x/y']) {
      fails(() => load([...dir, `--record-filter=${bad}`]), 'record-filter', bad, /user:GLOB and target:GLOB/);
    }
    fails(() => load(['--record-input']), 'record-input', 'true', /record-dir to be set/);
    fails(() => load(['--record-filter=user:a*']), 'record-filter', 'user:a*', /record-dir to be set/);
    fails(() => load([...dir, '--record-max-size=1KiB']), 'record-max-size', '1KiB', /from 4KiB/);
    fails(() => load([...dir, '--record-max-size=1GB']), 'record-max-size', '1GB');
    fails(() => load(['--record-dir=']), 'record-dir', '');
  });

  void it('rejects a missing flag value', () => {
    fails(() => load(['--rate-burst']), 'rate-burst', '', /missing value/);
    fails(() => load(['--rate-burst', '--server-debug']), 'rate-burst', '', /missing value/);
    fails(() => load(['--conn-max-total', '-5']), 'conn-max-total', '', /--conn-max-total=-5/);
    fails(() => load(['--config']), 'config', '', /missing value/);
  });

  void it('rejects positional arguments', () => {
    fails(() => load(['serve']), 'positional', 'serve');
    fails(() => load(['--rate-burst=1', '--', 'x']), 'positional', 'x');
    fails(() => load(['--server-debug', 'false']), 'positional', 'false', /--server-debug=false/);
  });

  void it('rejects bad cluster options: a URL that is not Redis, a node id with other characters, a timeout over a third of the lease', () => {
    for (const bad of ['http://redis:6379', 'redis://', 'redis:///0', 'redis://h:6379/0?x=1', 'redis://h/x', 'localhost:6379']) {
      fails(() => load([`--cluster-redis=${bad}`]), 'cluster-redis', bad, /redis:\/\//);
    }
    for (const bad of ['', 'a b', 'gw/1', 'gw.1', 'gw~1', 'x'.repeat(65), 'nœud']) fails(() => load([`--node-id=${bad}`]), 'node-id', bad, /1-64 characters/);
    for (const bad of ['100ms', '11m', '15']) fails(() => load([`--cluster-lease=${bad}`]), 'cluster-lease', bad, /300ms to 10m/);
    fails(() => load(['--cluster-redis-timeout=5ms']), 'cluster-redis-timeout', '5ms', /10ms to 1m/);
    fails(() => load(['--cluster-lease=1500ms', '--cluster-redis-timeout=501ms']), 'cluster-redis-timeout', '501ms', /a third of cluster-lease \(1500ms\)/);
    assert.equal(load(['--cluster-lease=1500ms', '--cluster-redis-timeout=500ms']).clusterRedisTimeoutMs, 500);
  });

  void it('rejects a relay between nodes without the cluster, without its TLS material, or on a wildcard address', () => {
    const pem = ['--node-relay-cert=c.pem', '--node-relay-key=k.pem', '--node-relay-ca=ca.pem'];
    for (const bad of ['0.0.0.0:7443', '[::]:7443', ':7443', 'host']) fails(() => load([`--node-relay-address=${bad}`]), 'node-relay-address', bad);
    fails(() => load(['--node-relay-address=10.0.0.5:7443', ...pem]), 'node-relay-address', '10.0.0.5:7443', /cluster-redis to be set/);
    fails(() => load(['--cluster-redis=redis://r', '--cluster-secret-file=/k', '--node-relay-address=10.0.0.5:7443', ...pem.slice(1)]), 'node-relay-address', '10.0.0.5:7443', /node-relay-cert to be set/);
    fails(() => load(['--node-relay-ca=ca.pem']), 'node-relay-ca', 'ca.pem', /node-relay-address to be set/);
    assert.deepEqual(load(['--cluster-redis=redis://r', '--cluster-secret-file=/k', '--node-relay-address=[::1]:0', ...pem]).nodeRelayAddress, { host: '::1', port: 0 });
    assert.equal(load(['--cluster-redis=redis://127.0.0.1', '--cluster-secret-file=/k']).clusterRedis, 'redis://127.0.0.1');
    // A refused URL's password never reaches the message (stderr): it is masked, or the value is not shown.
    const masked = fails(() => load(['--cluster-redis=http://gw:s3cret-pw@redis:6379']), 'cluster-redis', 'http://gw:***@redis:6379/', /redis:\/\//);
    assert.ok(!masked.message.includes('s3cret-pw'), masked.message);
    const hidden = fails(() => load(['--cluster-redis=redis://gw:s3cret@[bad']), 'cluster-redis', '(not shown: it may hold a password)');
    assert.ok(!hidden.message.includes('s3cret'), hidden.message);
  });

  void it('needs a keyring file with cluster-redis (the nodes check each other\'s signatures); alone it is fine', () => {
    const refused = fails(() => load(['--cluster-redis=redis://:s3cret-pw@127.0.0.1']), 'cluster-secret-file', '', /a keyring file when cluster-redis is set/);
    assert.ok(!refused.message.includes('s3cret-pw'), 'the Redis URL is not shown');
    fails(() => load([], { UWSB_CLUSTER_REDIS: 'redis://127.0.0.1' }), 'cluster-secret-file', '');
    assert.equal(load(['--cluster-redis=redis://127.0.0.1'], { UWSB_CLUSTER_SECRET_FILE: '/run/secrets/keyring' }).clusterSecretFile, '/run/secrets/keyring');
    assert.equal(load(['--cluster-secret-file=/k']).clusterSecretFile, '/k', 'one node may use a keyring file too');
  });

  void it('rejects a malformed, non-object or unreadable config file', () => {
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '{bad' }), 'config', '/c.json', /a JSON object/);
    fails(() => load(['--config=/c.json'], {}, { '/c.json': '[1]' }), 'config', '/c.json', /a JSON object/);
    fails(() => load([], { UWSB_CONFIG: '/missing.json' }), 'config', '/missing.json', /readable JSON file.*ENOENT/);
    fails(() => load(['--config='], {}), 'config', '');
  });
});

void describe('help text', () => {
  void it('lists every option with its flag, env var, default and unit', () => {
    const text = helpText();
    for (const name of ['config', ...SAMPLES.map((x) => x.name)]) assert.ok(text.includes(`--${name}`), name);
    for (const env of ['UWSB_CONFIG', ...SAMPLES.map((x) => x.env)]) assert.ok(text.includes(env), env);
    for (const o of OPTIONS) {
      const line = text.split('\n').find((l) => l.startsWith(`  --${o.name} `) || l.startsWith(`  --${o.name}[`));
      assert.ok(line !== undefined, o.name);
      assert.ok(line.includes(o.env) && line.includes(o.unit === 'bool' ? 'bool' : `<${o.unit}>`), line);
      assert.ok(line.includes(`default: ${o.default === null ? 'none' : o.default === '' ? 'empty' : o.default}`), line);
    }
  });
});
