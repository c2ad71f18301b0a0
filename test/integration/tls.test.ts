/**
 * HTTPS/WSS when a certificate is given: TLS >= 1.2 only; mutual TLS with --client-ca; reloading
 * the certificate, key and client CA (App.reload, SIGHUP) without dropping sessions; and the
 * HTTP handshake deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBridge } from '../helpers/bridge.js';
import { spawnCli } from '../helpers/cli.js';
import { clientOptions, fingerprint, makePki, type KeyPair } from '../helpers/pki.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { TestWs } from '../helpers/ws-client.js';

type TlsOpts = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;

/** GET over HTTPS: the status, or the error that ended the attempt (a failed handshake). */
function httpsGet(port: number, path: string, tls: TlsOpts): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000, ...tls }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (err: Error & { code?: string }) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the bridge is shown. */
function servedFingerprint(port: number, tls: TlsOpts = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...tls }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
  });
}

/** A TLS session (ticket) the bridge hands a client, for a resumption attempt later. */
function tlsSession(port: number, tls: TlsOpts): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...tls });
    s.once('session', (session: Buffer) => {
      s.destroy();
      resolve(session);
    });
    s.once('error', reject);
    // TLS 1.3 sends its tickets after the handshake, with the first application data.
    s.once('secureConnect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.resume();
  });
}

/** Try to resume `session` and do a request: whether the session was reused, or the error. */
function resume(port: number, tls: TlsOpts, session: Buffer): Promise<{ reused: boolean; status: string } | { error: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, session, ...tls }, () => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.once('end', () => resolve({ reused: s.isSessionReused(), status: text.split('\r\n')[0] ?? '' }));
    s.once('error', (err: Error & { code?: string }) => resolve({ error: err.code ?? err.message }));
  });
}

/** Open a WebSocket over TLS: the open TestWs, or the error that prevented it. */
function openWss(url: string, tls: TlsOpts): Promise<TestWs | { error: string }> {
  const ws = new WebSocket(url, { handshakeTimeout: 10_000, ...tls });
  const tws = new TestWs(ws);
  return new Promise((resolve) => {
    ws.once('open', () => resolve(tws));
    ws.once('error', (err: Error & { code?: string }) => resolve({ error: err.code ?? err.message }));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      resolve({ error: `HTTP ${res.statusCode ?? 0}` });
    });
  });
}

async function login(tws: TestWs, ssh: FakeSshHandle): Promise<void> {
  tws.sendJson({ username: ssh.username, password: ssh.password });
  await tws.waitForOutput(FAKE_PROMPT);
}

/** Type a line into the fake shell and wait for its echo and the next prompt. */
async function echoes(tws: TestWs, marker: string): Promise<void> {
  tws.sendBinary(Buffer.from(`${marker}\r`));
  await tws.waitForOutput(`${marker}\r\n${FAKE_PROMPT}`);
}

function isOpen(x: TestWs | { error: string }): x is TestWs {
  return x instanceof TestWs;
}

void test('with a certificate the bridge speaks HTTPS and WSS, and refuses TLS 1.1', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const { cert, key } = pki.selfSigned('server');
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure'], { env: { UWSB_SERVER_CERT_FILE: cert, UWSB_SERVER_KEY_FILE: key } });
  t.after(() => bridge.close());
  assert.match(bridge.url, /^https:\/\//);
  const health = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: bridge.port, ca: readFileSync(cert) }, () => s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(Object.fromEntries(text.split('\r\n\r\n')[0]?.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]) ?? [])));
    s.once('error', reject);
  });
  assert.equal(health['strict-transport-security'], 'max-age=31536000');
  assert.equal(health['x-content-type-options'], 'nosniff');

  const ws = await openWss(`${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`, { ca: readFileSync(cert) });
  assert.ok(isOpen(ws), JSON.stringify(ws));
  await login(ws, ssh);
  ws.close();

  const old = await new Promise<string>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: bridge.port, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', rejectUnauthorized: false });
    s.once('secureConnect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
  });
  assert.notEqual(old, 'connected');
});

void test('--client-ca: only clients with a certificate from that CA get through (HTTP and WebSocket)', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const server = pki.selfSigned('server');
  const ca = pki.ca('ca');
  const otherCa = pki.ca('other-ca');
  const alice = pki.client('alice', ca, '/CN=alice/O=Acme');
  const mallory = pki.client('mallory', otherCa, '/CN=alice/O=Acme');
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--server-cert', server.cert, '--server-key', server.key, '--client-ca', ca.cert]);
  t.after(() => bridge.close());
  const trust = { ca: readFileSync(server.cert) };

  assert.deepEqual(await httpsGet(bridge.port, '/health', { ...trust, ...clientOptions(alice) }), { status: 200 });
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const ws = await openWss(url, { ...trust, ...clientOptions(alice) });
  assert.ok(isOpen(ws), JSON.stringify(ws));
  await login(ws, ssh);
  await echoes(ws, 'mtls-ok');
  ws.close();

  for (const [who, opts] of [['no certificate', trust], ['a certificate from another CA', { ...trust, ...clientOptions(mallory) }]] as const) {
    const got = await httpsGet(bridge.port, '/health', opts);
    assert.ok('error' in got && got.error !== 'timeout', `${who}: expected the TLS handshake to fail, got ${JSON.stringify(got)}`);
    const refused = await openWss(url, opts);
    assert.ok(!isOpen(refused), `${who}: the WebSocket opened`);
    t.diagnostic(`${who}: https ${got.error}, ws ${refused.error}`);
  }
  // Only the one good session reached the SSH server.
  assert.equal(ssh.events.logins.length, 1);
  // Each failed handshake (2 clients x https and wss) is counted; a client with no certificate
  // can fail before or after the handshake completes (TLS 1.3 sends the alert later), so at least 2.
  const failed = bridge.app.manager.stats().rejections['TLS_HANDSHAKE_FAILED'] ?? 0;
  assert.ok(failed >= 2, `TLS_HANDSHAKE_FAILED counted ${failed} times`);
});

void test('App.reload(): a new certificate and client CA for new connections; open sessions go on; a broken file keeps the old ones', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const first = pki.selfSigned('first');
  const second = pki.selfSigned('second');
  const caA = pki.ca('ca-a');
  const caB = pki.ca('ca-b');
  const alice = pki.client('alice', caA, '/CN=alice');
  const bob = pki.client('bob', caB, '/CN=bob');
  const live: KeyPair = { cert: join(pki.dir, 'live.pem'), key: join(pki.dir, 'live.key') };
  const liveCa = join(pki.dir, 'live-ca.pem');
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  copyFileSync(caA.cert, liveCa);
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--server-cert', live.cert, '--server-key', live.key, '--client-ca', liveCa]);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;

  assert.equal(await servedFingerprint(bridge.port, clientOptions(alice)), fingerprint(first.cert));
  const ws = await openWss(url, { ca: readFileSync(first.cert), ...clientOptions(alice) });
  assert.ok(isOpen(ws), JSON.stringify(ws));
  await login(ws, ssh);
  const aliceSession = await tlsSession(bridge.port, clientOptions(alice));
  const before = await resume(bridge.port, clientOptions(alice), aliceSession);
  assert.ok('reused' in before && before.reused, `resumption works before the reload: ${JSON.stringify(before)}`);

  copyFileSync(second.cert, live.cert);
  copyFileSync(second.key, live.key);
  copyFileSync(caB.cert, liveCa);
  await bridge.app.reload();
  assert.ok(bridge.logs().some((l) => l.event === 'reloaded'));
  assert.equal(await servedFingerprint(bridge.port, clientOptions(bob)), fingerprint(second.cert));
  const trust = { ca: readFileSync(second.cert) };
  assert.deepEqual(await httpsGet(bridge.port, '/health', { ...trust, ...clientOptions(bob) }), { status: 200 });
  assert.ok('error' in (await httpsGet(bridge.port, '/health', { ...trust, ...clientOptions(alice) })), 'a client of the old CA is refused after the reload');
  // Nor can it resume a TLS session from before the reload: the new context has new ticket keys.
  const after = await resume(bridge.port, clientOptions(alice), aliceSession);
  assert.ok('error' in after || (!after.reused && after.status === ''), `a pre-reload session of the old CA's client must not resume: ${JSON.stringify(after)}`);
  await echoes(ws, 'after-reload');

  writeFileSync(live.key, 'broken\n');
  await assert.rejects(bridge.app.reload(), (err: Error) => err.message.includes(`invalid server-key file ${live.key}`));
  const failed = bridge.logs().find((l) => l.event === 'reload_failed');
  assert.equal(failed?.level, 50);
  assert.match(String(failed.error), /invalid server-key file .*live\.key/);
  assert.equal(await servedFingerprint(bridge.port, clientOptions(bob)), fingerprint(second.cert));
  assert.deepEqual(await httpsGet(bridge.port, '/health', { ...trust, ...clientOptions(bob) }), { status: 200 });
  await echoes(ws, 'after-failed-reload');
  ws.close();
});

void test('App.reload() without TLS has nothing to reload and succeeds', async (t) => {
  const bridge = await startBridge();
  t.after(() => bridge.close());
  await bridge.app.reload();
  const line = bridge.logs().find((l) => l.event === 'reloaded');
  assert.deepEqual(line?.['reloaded'], []);
});

void test('CLI: SIGHUP serves a new certificate to new connections without dropping sessions; a broken file keeps the old one', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const first = pki.selfSigned('first');
  const second = pki.selfSigned('second');
  const live: KeyPair = { cert: join(pki.dir, 'live.pem'), key: join(pki.dir, 'live.key') };
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const cli = spawnCli(['--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure', '--server-cert', live.cert, '--server-key', live.key]);
  t.after(() => cli.close());
  const port = await cli.listening();
  // Under --workers (auto: one per core) each worker reloads, and says so, on its own.
  const workers = Number(cli.logs().find((l) => l.event === 'listening')?.['workers'] ?? 1);
  assert.equal(await servedFingerprint(port), fingerprint(first.cert));
  const ws = await openWss(`wss://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`, { ca: readFileSync(first.cert) });
  assert.ok(isOpen(ws), JSON.stringify(ws));
  await login(ws, ssh);

  copyFileSync(second.cert, live.cert);
  copyFileSync(second.key, live.key);
  cli.child.kill('SIGHUP');
  await cli.waitForLog(() => cli.logs().filter((l) => l.event === 'reloaded').length >= workers);
  assert.equal(await servedFingerprint(port), fingerprint(second.cert));
  assert.deepEqual(await httpsGet(port, '/health', { ca: readFileSync(second.cert) }), { status: 200 });
  await echoes(ws, 'after-sighup');

  writeFileSync(live.cert, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
  cli.child.kill('SIGHUP');
  const failed = await cli.waitForLog((l) => l.event === 'reload_failed');
  assert.equal(failed.level, 50);
  assert.match(String(failed.error), /invalid server-cert file .*live\.pem/);
  assert.equal(cli.child.exitCode, null, 'the bridge is still running');
  assert.equal(await servedFingerprint(port), fingerprint(second.cert));
  await echoes(ws, 'after-failed-sighup');
  assert.equal(ssh.events.connections, 1, 'the one session survived both reloads');
  ws.close();
  await ws.closed;
});

void test('a client that never finishes its request head is cut after ws-handshake-timeout', async (t) => {
  const bridge = await startBridge(['--ws-handshake-timeout', '300ms']);
  t.after(() => bridge.close());
  const started = Date.now();
  const response = await new Promise<string>((resolve, reject) => {
    const s = netConnect(bridge.port, '127.0.0.1', () => s.write('GET /ws/127.0.0.1/22 HTTP/1.1\r\nHost: x\r\n'));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.once('close', () => resolve(text));
    s.once('error', reject);
    setTimeout(() => reject(new Error('connection not closed within 10 s')), 10_000).unref();
  });
  assert.match(response, /^HTTP\/1\.1 408/);
  t.diagnostic(`cut after ${Date.now() - started} ms`);
});

void test('oversized request headers get 431 with a JSON code', async (t) => {
  const bridge = await startBridge();
  t.after(() => bridge.close());
  const res = await new Promise<string>((resolve, reject) => {
    const s = netConnect(bridge.port, '127.0.0.1', () => s.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.once('close', () => resolve(text));
    s.once('error', reject);
  });
  assert.match(res, /^HTTP\/1\.1 431/);
  assert.match(res, /"code":"HEADERS_TOO_LARGE"/);
});
