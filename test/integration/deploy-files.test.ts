/**
 * The files docs/deployment.md tells an operator to install, so none can go stale:
 * - deploy/webssh-bridge.service passes `systemd-analyze verify` (Debian's systemd package; it
 *   needs no systemd running as init) and `systemd-analyze security` rates it OK, carries the
 *   hardening the guide promises, and names the same paths as the guide and the example config;
 * - docs/examples/config.json starts a real bridge through `--config` (TLS, gateway tokens, the
 *   target policy, recording, Redis, a jump route), its /etc and /var/lib paths moved into a temp
 *   dir and its Redis URL pointed at a test Redis; nothing else in it is changed.
 * Fails (never skips) under CI=true when systemd-analyze or redis-server is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newToken } from '../../src/auth/tokens.js';
import { spawnCli } from '../helpers/cli.js';
import { useKeyring } from '../helpers/keyring.js';
import { makePki } from '../helpers/pki.js';
import { useRedis } from '../helpers/redis.js';
import { executable, requireOrSkip } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { hostKey } from '../helpers/ssh-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'deploy', 'webssh-bridge.service');
const EXAMPLE = join(ROOT, 'docs', 'examples', 'config.json');
const GUIDE = join(ROOT, 'docs', 'deployment.md');
const ANALYZE = '/usr/bin/systemd-analyze';
const CONFIG_DIR = '/etc/webssh-bridge';
const STATE_DIR = '/var/lib/webssh-bridge';

/** The unit's lines as [section, key, value], comments and blank lines dropped. */
function parseUnit(text: string): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head?.[1] !== undefined) {
      section = head[1];
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not a key=value line: ${line}`);
    out.push([section, line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

function one(unit: Array<[string, string, string]>, section: string, key: string): string {
  const all = unit.filter(([s, k]) => s === section && k === key).map(([, , v]) => v);
  assert.equal(all.length, 1, `[${section}] ${key} once`);
  return all[0] ?? '';
}

function hasAnalyze(t: TestContext): boolean {
  return requireOrSkip(t, 'systemd-analyze', executable(ANALYZE), `${ANALYZE}; apt-get install systemd`);
}

void describe('deployment files: the systemd unit and the example config', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  const guide = readFileSync(GUIDE, 'utf8');

  /** A root for `systemd-analyze --root` holding the unit and an executable at each path its Exec lines name. */
  function fakeRoot(t: TestContext): { root: string; unitPath: string } {
    const root = mkdtempSync(join(tmpdir(), 'uwsb-unit-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    for (const [, key, value] of unit) {
      if (!key.startsWith('Exec')) continue;
      const bin = value.replace(/^[-@+!:]+/, '').split(/\s+/)[0] ?? '';
      assert.ok(bin.startsWith('/'), `${key} names an absolute path: ${bin}`);
      mkdirSync(join(root, dirname(bin)), { recursive: true });
      writeFileSync(join(root, bin), '#!/bin/sh\n');
      chmodSync(join(root, bin), 0o755);
    }
    const unitPath = join(root, 'etc/systemd/system/webssh-bridge.service');
    mkdirSync(dirname(unitPath), { recursive: true });
    copyFileSync(UNIT, unitPath);
    return { root, unitPath };
  }

  void it('systemd-analyze verify passes with nothing to say, and security rates the unit OK (exposure at most 2.0)', (t) => {
    if (!hasAnalyze(t)) return;
    const { root, unitPath } = fakeRoot(t);
    // --recursive-errors=no: the fake root holds this unit alone, not sysinit.target and the rest.
    const verify = spawnSync(ANALYZE, ['verify', '--man=no', '--recursive-errors=no', `--root=${root}`, unitPath], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'no warnings');
    const security = spawnSync(ANALYZE, ['security', '--offline=yes', '--no-pager', `--root=${root}`, unitPath], { encoding: 'utf8' });
    const level = /Overall exposure level for webssh-bridge\.service: ([\d.]+)/.exec(`${security.stdout}${security.stderr}`);
    assert.ok(level?.[1] !== undefined, security.stdout + security.stderr);
    assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]}`);
  });

  void it('the unit: Type=exec, its own user, the hardening docs/deployment.md promises, no capabilities, reload by SIGHUP', () => {
    const expect: Array<[string, string]> = [
      ['Type', 'exec'], ['User', 'webssh-bridge'], ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'], ['CapabilityBoundingSet', ''], ['AmbientCapabilities', ''],
      ['ExecReload', '/bin/kill -HUP $MAINPID'], ['StateDirectory', 'webssh-bridge'], ['ConfigurationDirectory', 'webssh-bridge'],
    ];
    for (const [key, value] of expect) assert.equal(one(unit, 'Service', key), value, key);
    // Two descriptors per session and a margin, for the example's session limit.
    assert.ok(Number(one(unit, 'Service', 'LimitNOFILE')) >= 2 * Number(example['conn-max-total']) + 1024, 'LimitNOFILE fits conn-max-total');
  });

  void it('the paths agree: the unit, the example config and the guide name the same files', () => {
    const start = one(unit, 'Service', 'ExecStart');
    assert.equal(start, `/usr/local/bin/webssh-bridge --config ${CONFIG_DIR}/config.json`, 'npm install -g puts the command in /usr/local/bin; the config is in ConfigurationDirectory');
    assert.equal(one(unit, 'Service', 'Environment'), `UWSB_KNOWN_HOSTS=${STATE_DIR}/known_hosts`, 'known_hosts in StateDirectory');
    // Every path of the example lies in the unit's ConfigurationDirectory (secrets, config) or StateDirectory (what the bridge writes).
    const paths = JSON.stringify(example).match(/"(\/[^"\s]*)|key=(\/[^"\s]*)/g) ?? [];
    assert.ok(paths.length >= 5, `the example names its files: ${paths.join(' ')}`);
    for (const p of paths.map((m) => m.replace(/^"|^key=/, ''))) {
      assert.ok(p.startsWith(`${CONFIG_DIR}/`) || p.startsWith(`${STATE_DIR}/`), `${p} is in ${CONFIG_DIR} or ${STATE_DIR}`);
    }
    assert.ok(String(example['record-dir']).startsWith(`${STATE_DIR}/`), 'recordings are written under StateDirectory');
    for (const named of ['deploy/webssh-bridge.service', 'docs/examples/config.json', 'docs/examples/nginx.conf', '/usr/local/bin/webssh-bridge', `${CONFIG_DIR}/config.json`, `${STATE_DIR}/known_hosts`, String(example['record-dir']), 'systemctl reload webssh-bridge']) {
      assert.ok(guide.includes(named), `docs/deployment.md names ${named}`);
    }
  });

  void it('docs/examples/config.json starts a bridge: TLS, gateway tokens, target policy, recording, Redis and a jump route', async (t) => {
    const redis = await useRedis(t);
    if (redis === null) return;
    const base = mkdtempSync(join(tmpdir(), 'uwsb-example-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const etc = join(base, 'etc');
    const state = join(base, 'state');
    mkdirSync(join(etc, 'tls'), { recursive: true });
    mkdirSync(state);
    const moved = (p: string): string => p.replace(CONFIG_DIR, etc).replace(STATE_DIR, state);
    const text = readFileSync(EXAMPLE, 'utf8').replaceAll(CONFIG_DIR, etc).replaceAll(STATE_DIR, state).replace(String(example['cluster-redis']), redis.url);
    const config = join(base, 'config.json');
    writeFileSync(config, text);

    // The files the example names, made as an operator would.
    const pki = makePki();
    t.after(() => pki.remove());
    const tls = pki.selfSigned('server');
    copyFileSync(tls.cert, moved(String(example['server-cert'])));
    copyFileSync(tls.key, moved(String(example['server-key'])));
    const { token, line } = newToken('operator', true);
    registerSecret(token);
    writeFileSync(moved(String(example['auth-tokens'])), `${line}\n`, { mode: 0o640 });
    copyFileSync(useKeyring(t).path, moved(String(example['cluster-secret-file'])));
    const routeKey = /key=(\S+)/.exec(String((example['jump-route'] as string[])[0]))?.[1] ?? '';
    writeFileSync(moved(routeKey), hostKey(), { mode: 0o600 }); // a key ssh2 reads back (the helper retries its generator's rare unreadable ones)

    // Only the address is overridden (a flag beats the file): the example's 0.0.0.0:8443 is not a loopback test's to take.
    const bridge = spawnCli(['--config', config, '--server-address', '127.0.0.1:0']);
    t.after(() => bridge.close());
    const port = await bridge.listening();
    const status = (path: string, headers: Record<string, string> = {}): Promise<number> => new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path, ca: readFileSync(tls.cert), servername: 'localhost', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(await status('/health'), 200, 'TLS with the example\'s certificate files');
    assert.equal(await status('/metrics'), 200, 'metrics-enabled');
    // The recordings list needs record-dir and an operator's gateway token.
    assert.equal(await status('/api/recordings'), 401, 'gateway authentication is on');
    assert.equal(await status('/api/recordings', { authorization: `Bearer ${token}` }), 200, 'the token file is read; recording is on');
  });
});
