import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leakedSecrets, registerSecret } from '../helpers/secrets.js';
import { startBridge } from '../helpers/bridge.js';
import { expectHttpRejection } from '../helpers/ws-client.js';

void test('the log secret scan finds a registered secret (it can fail)', () => {
  const secret = registerSecret('scan-canary-Secret-42');
  assert.deepEqual(leakedSecrets(`{"msg":"x","detail":"${secret}"}`), [secret]);
  assert.deepEqual(leakedSecrets('{"msg":"clean"}'), []);
});

void test('a bridge whose logs hold a secret fails on close', async () => {
  const secret = registerSecret('scan-canary-Secret-43');
  const bridge = await startBridge();
  // A refused upgrade logs its path: a stand-in for a leak.
  const refused = await expectHttpRejection(`${bridge.wsBase}/ws/${secret}/0`);
  assert.equal(refused.status, 400);
  await assert.rejects(bridge.close(), /secret\(s\) found/);
});
