/**
 * The built CLI as an operator runs it: config errors exit 2, --help, --version, SIGTERM drains with 1001
 * and exit 0. Every child's output is scanned for test secrets (helpers/cli.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs } from '../helpers/ws-client.js';
import { runCli as run, spawnCli } from '../helpers/cli.js';
import { registerSecret } from '../helpers/secrets.js';
import { makePki } from '../helpers/pki.js';

void test('invalid values and unknown options stop the start with exit 2 and a message naming them', () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["--conn-max-total", "abc"], {}, /"abc" for option conn-max-total/],
    [['--nope'], {}, /unknown flag "--nope"/],
    [[], { UWSB_CONN_MAX_TOTL: '5' }, /UWSB_CONN_MAX_TOTL/],
    [[], { UWSB_SESSION_IDLE_TIMEOUT: '5 minutes' }, /session-idle-timeout/],
    [['--server-cert', '/tmp/x.pem'], {}, /server-key/],
  ];
  for (const [args, env, pattern] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

void test('plain HTTP on a non-loopback address is refused (exit 2) unless --insecure-http', () => {
  const r = run(['--server-address', '0.0.0.0:0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing to serve plain HTTP.*--insecure-http/);
});

void test('--help lists every option with its env var', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const name of ['server-address', 'conn-max-per-host', 'conn-max-per-target', 'ws-auth-timeout', 'trusted-proxies', 'allowed-origins', 'session-idle-timeout', 'UWSB_SERVER_CERT_FILE', 'UWSB_SESSION_IDLE_TIMEOUT']) {
    assert.ok(r.stdout.includes(name), name);
  }
});

void test('--version prints the package version and exits 0', () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-version']) {
    const r = run([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${pkg.version}\n`);
    assert.equal(r.stderr, '');
  }
});

void test('SIGTERM: clients get 1001, the process exits 0', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const cli = spawnCli([], { UWSB_SERVER_ADDRESS: '127.0.0.1:0', UWSB_HOST_KEY_POLICY: 'accept-new-insecure' });
  t.after(() => cli.close());
  const port = await cli.listening();
  const ws = await openWs(`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  cli.child.kill('SIGTERM');
  const closed = await ws.closed;
  assert.equal(closed.code, 1001);
  assert.match(closed.reason, /^SHUTDOWN/);
  assert.equal(await cli.exited, 0);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
});

void test('the secret scan of a CLI child can fail: a canary in a refused path reaches its log', async (t) => {
  const secret = registerSecret('cli-canary-Secret-77');
  const cli = spawnCli(['--server-address', '127.0.0.1:0']);
  t.after(() => cli.stop());
  const port = await cli.listening();
  // A refused upgrade logs its path: a stand-in for a leak.
  const refused = await expectHttpRejection(`ws://127.0.0.1:${port}/ws/${secret}/0`);
  assert.equal(refused.status, 400);
  await cli.waitForLog((l) => typeof l.path === 'string' && l.path.includes(secret));
  await assert.rejects(cli.close(), /secret\(s\) found in the CLI child's output: cl…/);
  // And the one-shot runner: a canary in an option value that the error message quotes.
  assert.throws(() => run(['--conn-max-total', secret]), /secret\(s\) found in the output of webssh-bridge/);
});

void test('a TLS file that cannot be read or parsed stops the start with exit 2 naming it', (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const good = pki.selfSigned('server');
  const missing = join(pki.dir, 'missing.pem');
  const garbage = join(pki.dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const other = pki.selfSigned('other');
  const cases: Array<[string[], RegExp]> = [
    [['--server-cert', missing, '--server-key', good.key], /cannot read server-cert file .*missing\.pem/],
    [['--server-cert', good.cert, '--server-key', garbage], /invalid server-key file .*garbage\.pem/],
    [['--server-cert', garbage, '--server-key', good.key], /invalid server-cert file .*garbage\.pem: no PEM certificate/],
    [['--server-cert', good.cert, '--server-key', other.key], /server-cert file .*server\.pem and server-key file .*other\.key cannot be used together/],
    [['--server-cert', good.cert, '--server-key', good.key, '--client-ca', garbage], /invalid client-ca file .*garbage\.pem/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(['--server-address', '127.0.0.1:0', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

void test('a log reader that goes away does not hang the bridge: SIGTERM still exits 0 (single process and cluster)', async (t) => {
  for (const workers of ['1', '2']) {
    const cli = spawnCli(['--workers', workers, '--server-address', '127.0.0.1:0']);
    t.after(() => cli.close());
    await cli.waitForLog((l) => l.event === 'listening' && (workers === '1' || l.workers === 2), 30_000);
    // Like `webssh-bridge | head -1`: the pipe's reader is gone, every later log write gets EPIPE.
    cli.child.stdout.destroy();
    cli.child.kill('SIGTERM');
    const code = await Promise.race([cli.exited, new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000).unref())]);
    assert.equal(code, 0, `--workers ${workers}`);
  }
});
