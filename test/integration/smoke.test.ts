import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

void test('smoke: seed protocol login, command, exit', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendText('size\r');
  await ws.waitForOutput(/24 80/);
  ws.sendText('exit 3\r');
  const closed = await ws.closed;
  assert.equal(closed.code, 1000);
  assert.match(closed.reason, /exit status 3/);
});
