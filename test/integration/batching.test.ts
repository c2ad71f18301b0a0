/**
 * Output coalescing through the real bridge and the in-process fake SSH server: under load (the
 * client stops reading until the bridge has paused the SSH channel) a large output arrives
 * byte-exact and in fewer WebSocket frames than the SSH chunks it was written in. Behaviour only:
 * waits have timeouts, nothing asserts on durations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedLogin, setupFake } from '../helpers/fake-session.js';
import { FAKE_PROMPT } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { until } from '../helpers/until.js';

const V1 = 'webssh-bridge.v1';
/** The fake shell's `flood` writes this much per channel write: each write is at least one SSH packet. */
const FLOOD_WRITE = 16 * 1024;
const PATTERN = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');

/** What `flood n` prints: [0-9a-zA-Z] cycling. */
function floodBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = PATTERN[i % PATTERN.length] ?? 0x30;
  return out;
}

/** Everything the client receives from now on, in arrival order: 'data' for a binary frame, else the text. */
function record(ws: TestWs, onBinary?: (n: number) => void): { frames: Buffer[]; order: string[] } {
  const frames: Buffer[] = [];
  const order: string[] = [];
  ws.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      frames.push(data);
      order.push('data');
      onBinary?.(data.length);
    } else {
      order.push(data.toString('utf8'));
    }
  });
  return { frames, order };
}

/** Keep the client from reading until the bridge has paused SSH output, so output piles up in the bridge. */
async function loadThenRead(ws: TestWs, bridge: BridgeHandle): Promise<void> {
  await until(() => bridge.app.manager.stats().pausesSshOutput >= 1, 'the bridge to pause SSH output', 30_000);
  ws.ws.resume();
}

void test('under load a large output arrives byte-exact, in order, in fewer frames than SSH chunks', async (t) => {
  const { ssh, bridge, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  const { frames } = record(ws);
  let received = 0;
  ws.ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (isBinary) received += d.length;
  });
  const n = 16 * 1024 * 1024;
  const expected = Buffer.concat([Buffer.from(`flood ${n}\r\n`), floodBytes(n), Buffer.from(`\r\n${FAKE_PROMPT}`)]);
  ws.ws.pause();
  ws.sendText(`flood ${n}\r`);
  await loadThenRead(ws, bridge);
  await until(() => received >= expected.length, `${expected.length} bytes (have ${received})`, 30_000);
  const got = Buffer.concat(frames);
  assert.equal(got.length, expected.length);
  assert.ok(got.equals(expected), 'output is byte-exact and in order');
  const sshChunks = Math.ceil(n / FLOOD_WRITE);
  assert.ok(frames.length < sshChunks, `${frames.length} frames for at least ${sshChunks} SSH chunks`);
  for (const f of frames) assert.ok(f.length <= 64 * 1024, `a frame of ${f.length} bytes`);
  t.diagnostic(`${frames.length} frames for >= ${sshChunks} SSH chunks (${(n / frames.length / 1024).toFixed(1)} KiB per frame on average)`);
  ws.close();
});

void test('v1 flow control: acknowledging bytes (not frames) carries a coalesced flood through; exit follows the last byte', async (t) => {
  const { ssh, bridge, url } = await setupFake(t, ['--conn-timeout', '30s']);
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, flowControl: true });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendJson({ type: 'ack', bytes: FAKE_PROMPT.length });
  // A page that renders each frame at once and acknowledges what it rendered, in bytes.
  const { frames, order } = record(ws, (bytes) => ws.sendJson({ type: 'ack', bytes }));
  const n = 6 * 1024 * 1024;
  const expected = Buffer.concat([Buffer.from(`flood ${n}\r\nexit 3\r\n`), floodBytes(n), Buffer.from(`\r\n${FAKE_PROMPT}`)]);
  ws.ws.pause();
  ws.sendBinary(Buffer.from(`flood ${n}\rexit 3\r`));
  await loadThenRead(ws, bridge);
  const closed = await ws.closed;
  assert.equal(closed.code, 1000, closed.reason);
  const got = Buffer.concat(frames);
  assert.equal(got.length, expected.length);
  assert.ok(got.equals(expected), 'output is byte-exact and in order');
  assert.ok(frames.length < Math.ceil(n / FLOOD_WRITE), `${frames.length} frames`);
  const exitAt = order.findIndex((m) => m.includes('"exit"'));
  assert.ok(exitAt >= 0, 'an exit message arrived');
  assert.deepEqual(JSON.parse(order[exitAt] ?? ''), { type: 'exit', status: 3, signal: null });
  assert.equal(order.lastIndexOf('data'), exitAt - 1, 'the exit message comes right after the last output');
});

void test('interactive: a keystroke echo comes back as its own frame, exactly once', async (t) => {
  const { ssh, url } = await setupFake(t);
  const ws = await seedLogin(url, ssh);
  const { frames } = record(ws);
  for (const key of ['a', 'b', 'c']) {
    const before = frames.length;
    ws.sendText(key);
    await until(() => frames.length > before, `the echo of ${key}`, 10_000);
    assert.equal(frames.at(-1)?.toString('latin1'), key);
  }
  assert.equal(Buffer.concat(frames).toString('latin1'), 'abc');
  ws.close();
});
