/**
 * Bridge sessions against the in-process ssh2 server: protocol behaviour, both modes, and the
 * seed bridge's defects each as a test that it failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { seedLogin, setupFake } from '../helpers/fake-session.js';
import { until } from '../helpers/until.js';
import { openWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';

void test('seed: 5000-byte text paste arrives whole (seed cut at 4096)', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  const paste = 'x'.repeat(2500) + 'é'.repeat(1250); // 5000 bytes, multi-byte tail
  assert.equal(Buffer.byteLength(paste), 5000);
  ws.sendText(paste);
  await ssh.waitFor(() => ssh.events.inputBytes >= 5000);
  assert.equal(ssh.events.input().toString('utf8'), paste);
  ws.close();
});

void test('seed: JSON-looking text is typed, not swallowed; only resize/ping actions are control', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  const typed = ['{"a":1}', 'null', '{"action":"other"}', '[1,2]', '{"action":"resize"'];
  for (const s of typed) ws.sendText(s);
  ws.sendText('{"action":"ping"}');
  const expected = typed.join('');
  await ssh.waitFor(() => ssh.events.input().toString('utf8') === expected);
  ws.close();
});

void test('seed: resize applies; an invalid resize is ignored and input keeps flowing', async (t) => {
  const { ssh, bridge, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  ws.sendText(JSON.stringify({ action: 'resize', cols: 1000, rows: 50 }));
  await ssh.waitFor(() => ssh.events.resizes.some((r) => r.cols === 1000 && r.rows === 50));
  for (const bad of [{ cols: 0, rows: 10 }, { cols: 10001, rows: 10 }, { cols: 1.5, rows: 10 }, { cols: '80', rows: 10 }]) {
    ws.sendText(JSON.stringify({ action: 'resize', ...bad }));
  }
  ws.sendText('size\r');
  await ws.waitForOutput('50 1000');
  assert.equal(ssh.events.resizes.length, 1);
  assert.ok(bridge.logs().some((l) => l.msg === 'control message ignored'));
  ws.close();
});

void test('seed: stderr and the pre-auth banner reach the terminal; exit status in the close reason', async (t) => {
  const { ssh, url } = await setupFake(t, [], { banner: 'Authorized use only\n' });
  const ws = await seedLogin(url, ssh);
  assert.match(ws.output(), /Authorized use only\r\n/);
  ws.sendText('stderr oops-on-stderr\r');
  await ws.waitForOutput('oops-on-stderr');
  ws.sendText('exit 7\r');
  const closed = await ws.closed;
  assert.equal(closed.code, 1000);
  assert.equal(closed.reason, 'SHELL_EXITED: shell exited: exit status 7');
});

void test('seed: a signal-killed shell closes 1000 naming the signal', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  ws.sendText('killsig\r');
  const closed = await ws.closed;
  assert.equal(closed.code, 1000);
  assert.match(closed.reason, /signal TERM$/);
});

void test('wrong password closes 4001 with a reason; both protocols', async (t) => {
  const { ssh, url } = await setupFake(t);
  const seed = await openWs(url);
  seed.sendJson({ username: ssh.username, password: 'not-the-password' });
  const c1 = await seed.closed;
  assert.equal(c1.code, 4001);
  assert.match(c1.reason, /^SSH_AUTH_FAILED/);
  const v1 = await openWs(url, { protocol: V1 });
  v1.sendJson({ type: 'auth', username: ssh.username, password: 'also-wrong' });
  const c2 = await v1.closed;
  assert.equal(c2.code, 4001);
  assert.deepEqual(v1.controls().at(-1), { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed' });
});

void test('v1: initial size from auth, banner before ready, ping/pong, resize, exit message then 1000', async (t) => {
  const { ssh, url } = await setupFake(t, [], { banner: 'hello banner' });
  const ws = await openWs(url, { protocol: V1 });
  assert.equal(ws.ws.protocol, V1);
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 132, rows: 43, term: 'xterm' });
  const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string };
  assert.match(ready.sessionId, /^[0-9a-f]{32}$/);
  const types = ws.controls().map((m) => (m as { type: string }).type);
  assert.deepEqual(types.slice(0, 2), ['banner', 'ready']);
  assert.deepEqual(ssh.events.ptys[0], { term: 'xterm', cols: 132, rows: 43 });
  ws.sendJson({ type: 'ping', payload: { t: 42 } });
  await ws.waitForControl((m) => JSON.stringify(m) === '{"type":"pong","payload":{"t":42}}');
  ws.sendJson({ type: 'resize', cols: 100, rows: 30 });
  ws.sendBinary(Buffer.from('size\r'));
  await ws.waitForOutput('30 100');
  ws.sendBinary(Buffer.from('exit 0\r'));
  const closed = await ws.closed;
  assert.equal(closed.code, 1000);
  assert.deepEqual(ws.controls().at(-1), { type: 'exit', status: 0, signal: null });
});

void test('v1: a malformed control message closes 1008 with PROTOCOL_ERROR', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
  await ws.waitForControl((m) => (m as { type?: string }).type === 'ready');
  ws.sendText('{"type":"nope"}');
  const closed = await ws.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /^PROTOCOL_ERROR/);
});

void test('input typed before the shell is ready is kept, in order', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await openWs(url);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  ws.sendText('early-1 ');
  ws.sendBinary(Buffer.from('early-2'));
  await ssh.waitFor(() => ssh.events.input().toString() === 'early-1 early-2');
  ws.close();
});

void test('a frame over ws-read-limit closes 1009', async (t) => {
  const { ssh, url } = await setupFake(t, ['--ws-read-limit', '1KiB']);
  const ws = await seedLogin(url, ssh);
  ws.sendBinary(Buffer.alloc(2048, 0x61));
  const closed = await ws.closed;
  assert.equal(closed.code, 1009);
});

void test('large output arrives complete and in order', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  ws.sendText('count 20000\r');
  await ws.waitForOutput(/\r\n20000\r\n/, 20_000);
  const lines = ws.output().split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(lines.length, 20000);
  assert.ok(lines.every((n, i) => n === i + 1));
  assert.equal(createHash('sha256').update(lines.join(',')).digest('hex').length, 64);
  ws.close();
});

void test('v1 flow control: output stops at the unacknowledged window and resumes on ack', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--conn-timeout', '30s']);
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, flowControl: true });
  await ws.waitForOutput('fake$ ');
  let received = 0;
  ws.ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (isBinary) received += d.length;
  });
  ws.sendBinary(Buffer.from('flood 8000000\r'));
  // A plateau is where flowing output stops: no output yet is not one.
  await until(() => received > 0, 'the flood\'s first output');
  const settle = async (): Promise<number> => {
    let last = -1;
    while (last !== received) {
      last = received;
      await new Promise((r) => setTimeout(r, 300));
    }
    return received;
  };
  const plateau = await settle();
  assert.ok(plateau >= 1024 * 1024 && plateau < 2 * 1024 * 1024, `stopped after ${plateau} unacknowledged bytes`);
  assert.ok(bridge.app.manager.stats().pausesSshOutput >= 1);
  ws.sendJson({ type: 'ack', bytes: plateau });
  const after = await settle();
  assert.ok(after > plateau, 'acknowledging lets output continue');
  ws.close();
});

void test('v1 flow control: a client that never acknowledges is closed after conn-timeout', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--conn-timeout', '500ms']);
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, flowControl: true });
  await ws.waitForOutput('fake$ ');
  ws.sendBinary(Buffer.from('flood 8000000\r'));
  const closed = await ws.closed;
  assert.equal(closed.code, 4004);
  assert.match(closed.reason, /^CLIENT_STALLED/);
  assert.equal(bridge.app.manager.size, 0);
});
