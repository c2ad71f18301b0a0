/** Plain HTTP routes: /health (seed shape), /healthz, /readyz, /stats (seed JSON), /metrics (Prometheus). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs } from '../helpers/ws-client.js';
import { VERSION } from '../../src/version.js';

void test('health, liveness and readiness', async (t) => {
  const bridge = await startBridge();
  t.after(() => bridge.close());
  const health = await fetch(`${bridge.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
  const body = (await health.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['active_sessions', 'status', 'timestamp', 'total_sessions', 'version']);
  assert.equal(body.version, VERSION);
  assert.match(VERSION, /^\d+\.\d+\.\d+/, 'read from package.json');
  assert.equal(body.status, 'healthy');
  assert.equal(typeof body.timestamp, 'number');
  assert.deepEqual(await (await fetch(`${bridge.url}/healthz`)).json(), { status: 'ok' });
  assert.deepEqual(await (await fetch(`${bridge.url}/readyz`)).json(), { status: 'ready' });
  assert.equal((await fetch(`${bridge.url}/metrics`)).status, 404, 'metrics are off by default');
  assert.equal((await fetch(`${bridge.url}/health`, { method: 'POST' })).status, 405);
  const missing = await fetch(`${bridge.url}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { code: 'NOT_FOUND', message: 'not found' });
});

void test('custom health path, health can be disabled', async (t) => {
  const custom = await startBridge(['--health-path', '/up']);
  t.after(() => custom.close());
  assert.equal((await fetch(`${custom.url}/up`)).status, 200);
  assert.equal((await fetch(`${custom.url}/health`)).status, 404);
  const off = await startBridge(['--health-enabled=false']);
  t.after(() => off.close());
  assert.equal((await fetch(`${off.url}/health`)).status, 404);
  assert.equal((await fetch(`${off.url}/healthz`)).status, 200);
});

void test('/stats keeps the seed JSON shape and adds rejections; /metrics is Prometheus text', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--metrics-enabled', '--conn-max-total', '1', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const ws = await openWs(url);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendText('hello\r');
  await ws.waitForOutput('hello');
  await expectHttpRejection(url); // LIMIT_TOTAL
  await expectHttpRejection(`${bridge.wsBase}/ws/169.254.169.254/22`); // TARGET_DENIED

  const stats = (await (await fetch(`${bridge.url}/stats`)).json()) as {
    connections: Record<string, unknown>; limiter: Record<string, unknown>; rejections: Record<string, number>; timestamp: number;
  };
  for (const key of ['active_sessions', 'total_sessions', 'successful_sessions', 'failed_sessions', 'host_connections', 'max_connections', 'max_per_host']) {
    assert.ok(key in stats.connections, key);
  }
  assert.equal(stats.connections.active_sessions, 1);
  assert.equal(stats.connections.successful_sessions, 1);
  assert.deepEqual(stats.connections.host_connections, { '127.0.0.1': 1 });
  assert.equal(stats.connections.max_connections, 1);
  assert.equal(stats.rejections.LIMIT_TOTAL, 1);
  assert.equal(stats.rejections.TARGET_DENIED, 1);
  assert.equal(typeof stats.limiter, 'object');
  assert.equal(typeof stats.timestamp, 'number');

  ws.sendText('exit 0\r');
  await ws.closed;
  const res = await fetch(`${bridge.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  for (const line of [
    'webssh_bridge_active_sessions 0',
    'webssh_bridge_sessions_total{outcome="SHELL_EXITED"} 1',
    'webssh_bridge_rejections_total{reason="LIMIT_TOTAL"} 1',
    'webssh_bridge_rejections_total{reason="TARGET_DENIED"} 1',
    'webssh_bridge_state_transitions_total{from="CONNECTING",to="ACTIVE"} 1',
    'webssh_bridge_ssh_handshake_seconds_count 1',
    'webssh_bridge_session_duration_seconds_count 1',
  ]) assert.ok(text.includes(line), `missing ${line}`);
  assert.match(text, /webssh_bridge_bytes_total\{direction="to_ssh"\} [1-9]/);
  assert.match(text, /webssh_bridge_bytes_total\{direction="to_client"\} [1-9]/);
  assert.match(text, /webssh_bridge_state_duration_seconds_count\{state="ACTIVE"\} 1/);
  assert.match(text, /webssh_bridge_backpressure_pauses_total\{direction="ssh_output"\} 0/);
  assert.match(text, /webssh_bridge_process_resident_memory_bytes \d+/);
  assert.ok(!text.includes(ssh.password), 'no secret in metrics');
});
