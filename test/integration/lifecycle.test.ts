/**
 * Deadlines, keepalive, disconnects and drain: the seed bridge's defects 1, 2, 3, 10 and 11,
 * each as a test it failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { seedLogin, setupFake } from '../helpers/fake-session.js';
import { startTarpit } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';

function endEvent(bridge: BridgeHandle): Record<string, unknown> | undefined {
  return bridge.logs().find((l) => l.event === 'session_end');
}

async function waitForEnd(bridge: BridgeHandle, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ev = endEvent(bridge);
    if (ev !== undefined) return ev;
    if (Date.now() > deadline) throw new Error(`no session_end within ${timeoutMs} ms; logs:\n${bridge.logText().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

void test('browser disconnect closes the SSH connection at once', async (t) => {
  const { ssh, bridge, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  assert.equal(ssh.events.openConnections, 1);
  ws.terminate(); // no close frame: like a tab that vanished
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
  const end = await waitForEnd(bridge);
  assert.equal(end.code, 'CLIENT_CLOSED');
  assert.equal(bridge.app.manager.size, 0);
  assert.equal(bridge.app.manager.stats().active, 0);
});

void test('idle timeout really closes: 4005 and the SSH connection is gone', async (t) => {
  const { ssh, url } = await setupFake(t, ['--session-idle-timeout', '300ms']);
  const ws = await seedLogin(url, ssh);
  const closed = await ws.closed;
  assert.equal(closed.code, 4005);
  assert.match(closed.reason, /^IDLE_TIMEOUT/);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
});

void test('idle warning (v1): idle-warning before the close, idle-cleared on presence or input; then 4005 with the idle code', async (t) => {
  const { ssh, url } = await setupFake(t, ['--session-idle-timeout', '6s', '--session-idle-warning', '3s']);
  const ws = await openWs(url, { protocol: 'webssh-bridge.v1' });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
  const isType = (type: string) => (m: unknown): boolean => (m as { type?: unknown }).type === type;
  const count = (type: string): number => ws.controls().filter(isType(type)).length;
  await ws.waitForControl(isType('ready'));
  const warning = (await ws.waitForControl(isType('idle-warning'))) as { closesInMs?: unknown };
  assert.equal(typeof warning.closesInMs, 'number');
  assert.ok(Number(warning.closesInMs) > 0 && Number(warning.closesInMs) <= 3000, `closesInMs ${String(warning.closesInMs)}`);
  // "I'm here": no keystroke reaches the shell, the close is off.
  const inputBefore = ssh.events.inputBytes;
  ws.sendJson({ type: 'presence' });
  await ws.waitForControl(isType('idle-cleared'));
  assert.equal(ssh.events.inputBytes, inputBefore, 'presence reaches no shell');
  // Warned again, and a keystroke takes it back too.
  await until(() => count('idle-warning') === 2, 'the second warning', 20_000);
  ws.sendBinary(Buffer.from(' '));
  await until(() => count('idle-cleared') === 2, 'the second idle-cleared', 20_000);
  // Nothing more: warned once, then closed with the idle code.
  const closed = await ws.closed;
  assert.equal(closed.code, 4005);
  assert.match(closed.reason, /^IDLE_TIMEOUT/);
  assert.equal(count('idle-warning'), 3, 'one warning per idle stretch');
  const error = ws.controls().find(isType('error')) as { code?: unknown } | undefined;
  assert.equal(error?.code, 'IDLE_TIMEOUT');
});

void test('session-idle-warning 0 warns nobody; a seed client is never sent one', async (t) => {
  const off = await setupFake(t, ['--session-idle-timeout', '500ms', '--session-idle-warning', '0']);
  const v1 = await openWs(off.url, { protocol: 'webssh-bridge.v1' });
  v1.sendJson({ type: 'auth', username: off.ssh.username, password: off.ssh.password });
  assert.equal((await v1.closed).code, 4005);
  assert.deepEqual(v1.controls().map((m) => (m as { type?: unknown }).type).filter((type) => type !== 'ready' && type !== 'error'), []);
  const seed = await setupFake(t, ['--session-idle-timeout', '500ms', '--session-idle-warning', '200ms']);
  const ws = await seedLogin(seed.url, seed.ssh);
  assert.equal((await ws.closed).code, 4005);
  assert.equal(ws.output().includes('idle'), false, 'nothing about idleness in a seed terminal');
});

void test('a client that never sends credentials is closed 4004 after ws-auth-timeout', async (t) => {
  const { ssh, url } = await setupFake(t, ['--ws-auth-timeout', '200ms']);
  const ws = await openWs(url);
  const closed = await ws.closed;
  assert.equal(closed.code, 4004);
  assert.match(closed.reason, /^CREDENTIALS_TIMEOUT/);
  assert.equal(ssh.events.connections, 0, 'no SSH connection is opened without credentials');
});

void test('a target that accepts TCP and never speaks ends in 4004 within the handshake timeout', async (t) => {
  const tarpit = await startTarpit();
  t.after(() => tarpit.close());
  const bridge = await startBridge(['--ssh-handshake-timeout', '400ms']);
  t.after(() => bridge.close());
  const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${tarpit.port}`);
  ws.sendJson({ username: 'u', password: 'p' });
  const closed = await ws.closed;
  assert.equal(closed.code, 4004);
  assert.match(closed.reason, /^HANDSHAKE_TIMEOUT/);
  assert.equal(tarpit.connections(), 1);
});

void test('a refused port closes 4003 with a reason', async (t) => {
  const tarpit = await startTarpit();
  const port = tarpit.port;
  await tarpit.close(); // nothing listens there now
  const bridge = await startBridge();
  t.after(() => bridge.close());
  const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${port}`);
  ws.sendJson({ username: 'u', password: 'p' });
  const closed = await ws.closed;
  assert.equal(closed.code, 4003);
  assert.match(closed.reason, /^TARGET_UNREACHABLE.*refused/);
});

void test('a peer that stops answering pings is terminated (PONG_TIMEOUT)', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--ws-ping-interval', '100ms', '--ws-pong-timeout', '300ms']);
  const raw = new WebSocket(url, { autoPong: false });
  raw.on('error', () => undefined);
  await new Promise((resolve) => raw.once('open', resolve));
  raw.send(JSON.stringify({ username: ssh.username, password: ssh.password }));
  const end = await waitForEnd(bridge);
  assert.equal(end.code, 'PONG_TIMEOUT');
  assert.equal(end.close_code, 4004);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
  raw.terminate();
});

void test('server pings keep a live client open; client ping payloads are echoed', async (t) => {
  const { ssh, url } = await setupFake(t, ['--ws-ping-interval', '50ms', '--ws-pong-timeout', '200ms']);
  const ws = await seedLogin(url, ssh);
  let pings = 0;
  ws.ws.on('ping', () => pings++);
  const pong = new Promise<Buffer>((resolve) => ws.ws.once('pong', resolve));
  ws.ws.ping(Buffer.from('payload-123'));
  assert.equal((await pong).toString(), 'payload-123');
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(pings >= 3, `expected several server pings, saw ${pings}`);
  ws.sendText('size\r');
  await ws.waitForOutput('24 80');
  ws.close();
});

void test('a client that stops reading during a flood is closed after conn-timeout, not left frozen', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--conn-timeout', '500ms']);
  const ws = await seedLogin(url, ssh);
  // Stop reading from the socket, as a frozen tab would; the kernel buffers then fill up.
  (ws.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  ws.sendText('flood 200000000\r');
  const end = await waitForEnd(bridge, 30_000);
  assert.equal(end.code, 'CLIENT_STALLED');
  assert.equal(end.close_code, 4004);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
  assert.ok(bridge.app.manager.stats().pausesSshOutput >= 1);
  ws.terminate();
});

void test('drain: every client gets 1001, /readyz turns 503, new upgrades are refused', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--server-shutdown-timeout', '5s']);
  const a = await seedLogin(url, ssh);
  const b = await seedLogin(url, ssh);
  const closing = bridge.app.close();
  const [ca, cb] = await Promise.all([a.closed, b.closed]);
  assert.equal(ca.code, 1001);
  assert.equal(cb.code, 1001);
  assert.match(ca.reason, /^SHUTDOWN/);
  await closing;
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
  assert.equal(bridge.app.manager.draining, true);
});

void test('a server that never answers authentication ends in 4004 SSH_AUTH_TIMEOUT', async (t) => {
  const { ssh, url } = await setupFake(t, ['--ssh-auth-timeout', '400ms'], { hangAuth: true });
  const ws = await openWs(url);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  const closed = await ws.closed;
  assert.equal(closed.code, 4004);
  assert.match(closed.reason, /^SSH_AUTH_TIMEOUT/);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
});

void test('a TCP connect that never completes ends in 4004 CONNECT_TIMEOUT', async (t) => {
  // A listener with a full accept queue that never accepts: the kernel drops further SYNs, so
  // the bridge's connect hangs exactly like a firewalled host.
  const py = spawn('python3', ['-c', [
    'import socket,sys,time',
    's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)',
    'port=s.getsockname()[1]',
    'fill=[socket.socket() for _ in range(4)]',
    '[(f.setblocking(False), f.connect_ex(("127.0.0.1",port))) for f in fill]',
    'print(port, flush=True); time.sleep(60)',
  ].join('\n')]);
  t.after(() => py.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    py.once('error', reject);
    setTimeout(() => reject(new Error('python listener did not start')), 10_000).unref();
  });
  const bridge = await startBridge(['--ssh-connect-timeout', '500ms']);
  t.after(() => bridge.close());
  const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${port}`);
  ws.sendJson({ username: 'u', password: 'p' });
  const closed = await ws.closed;
  assert.equal(closed.code, 4004);
  assert.match(closed.reason, /^CONNECT_TIMEOUT/);
});
