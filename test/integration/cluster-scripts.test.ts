/**
 * The Lua scripts of cluster admission against a real redis-server, through RedisStore: what
 * the grant refuses and why, what a sync keeps, that a grant of an older epoch is refused, and
 * that a reap takes only an expired incarnation's grants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.js';
import { RedisStore } from '../../src/redis/store.js';
import { parseCounts, parseGrant, parseHeartbeat, parseLeases, parseReap } from '../../src/redis/replies.js';
import { useRedis } from '../helpers/redis.js';
import { registerSecret } from '../helpers/secrets.js';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';
import { keyringFlags } from '../helpers/keyring.js';

const silent = createLogger(false, { write: () => true });

void test('grant, release, sync, heartbeat and reap do what the lease model needs', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const observed: string[] = [];
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent, observe: (c, _s, ok) => observed.push(`${c}:${ok}`) });
  t.after(() => store.close(300));
  const A = 'a/1';
  const B = 'b/2';
  const grant = async (inc: string, epoch: string, field: string, ip = '10.0.0.1', target = 'h:22', limits: [number, number, number] = [10, 10, 10]): Promise<string> =>
    parseGrant(await store.script('uwsbGrant', inc, inc, epoch, field, field.split('.')[0] ?? '0', ip, target, ...limits));
  const counts = async (): Promise<unknown> => parseCounts(await store.script('uwsbCounts', A));

  await until(async () => {
    try { return (await grant(A, '1', '0.x')) === 'unknown'; } catch { return false; }
  }, 'Redis to answer', 5000);
  assert.equal(await grant(A, '1', '0.x'), 'unknown', 'no lease: the node must register first');
  await store.script('uwsbSync', A, A, '1', 60_000, '0');
  assert.equal(await grant(A, '1', '0.a'), 'ok');
  assert.equal(await grant(A, '1', '0.a'), 'duplicate');
  assert.equal(await grant(A, '0', '0.b'), 'stale', 'a grant of an older epoch is refused');
  assert.equal(await grant(A, '1', '0.b', '10.0.0.1', 'h:22', [1, 10, 10]), 'LIMIT_TOTAL');
  assert.equal(await grant(A, '1', '0.b', '10.0.0.1', 'h:22', [10, 1, 10]), 'LIMIT_PER_IP');
  assert.equal(await grant(A, '1', '0.b', '10.0.0.2', 'h:22', [10, 10, 1]), 'LIMIT_PER_TARGET');
  assert.equal(await grant(A, '1', '0.b', '10.0.0.2', 'h:23'), 'ok');
  assert.deepEqual(await counts(), { open: 2, perClient: { '10.0.0.1': 1, '10.0.0.2': 1 }, perTarget: { 'h:22': 1, 'h:23': 1 } });
  assert.equal(await store.script('uwsbRelease', A, '0.b'), 1);
  assert.equal(await store.script('uwsbRelease', A, '0.b'), 0, 'release is idempotent');

  // Sync: held 0.a stays, 0.c is added, 0.p (in flight) is kept as Redis has it, anything else goes.
  assert.equal(await grant(A, '1', '0.p', '10.0.0.3'), 'ok');
  assert.equal(await grant(A, '1', '0.gone', '10.0.0.4'), 'ok');
  await store.script('uwsbSync', A, A, '2', 60_000, '2', '0.a', '0 10.0.0.1 h:22', '0.c', '0 10.0.0.5 h:24', '0.p');
  assert.deepEqual(await counts(), { open: 3, perClient: { '10.0.0.1': 1, '10.0.0.3': 1, '10.0.0.5': 1 }, perTarget: { 'h:22': 2, 'h:24': 1 } });
  assert.equal(await grant(A, '1', '0.late'), 'stale', 'a grant sent before the sync and run after it is refused');
  const hb = parseHeartbeat(await store.script('uwsbHeartbeat', A, A, 60_000, 8));
  assert.ok(hb.kind === 'renewed' && hb.grants === 3 && hb.epoch === '2' && hb.expired.length === 0, JSON.stringify(hb));

  // B registers with a short lease and two grants; it is reaped only once that lease has expired.
  await store.script('uwsbSync', B, B, '1', 300, '2', '0.1', '0 10.0.0.9 h:22', '0.2', '0 10.0.0.9 h:22');
  assert.deepEqual(parseReap(await store.script('uwsbReap', B, B, 1)), { released: 0, done: true }, 'a live lease is never reaped');
  let expired: readonly string[] = [];
  await until(async () => {
    const r = parseHeartbeat(await store.script('uwsbHeartbeat', A, A, 60_000, 8));
    expired = r.kind === 'renewed' ? r.expired : [];
    return expired.includes(B);
  }, 'B\'s lease to expire', 5000);
  await until(async () => parseReap(await store.script('uwsbReap', B, B, 1)).done, 'B to be reaped whole');
  assert.deepEqual(await counts(), { open: 3, perClient: { '10.0.0.1': 1, '10.0.0.3': 1, '10.0.0.5': 1 }, perTarget: { 'h:22': 2, 'h:24': 1 } });
  assert.equal(parseHeartbeat(await store.script('uwsbHeartbeat', B, B, 300, 8)).kind, 'unknown', 'a reaped incarnation is unknown');

  assert.equal(await store.script('uwsbUnregister', A, A), 3);
  assert.deepEqual(await counts(), { open: 0, perClient: {}, perTarget: {} });
  assert.equal(await redis.command('DBSIZE'), ':0\r\n', 'nothing left in Redis');
  assert.ok(observed.includes('uwsbGrant:true') && observed.includes('uwsbReap:true'), 'every command is observed');
});

void test('the leases script names every lease with its expiry, newest first and bounded, with the total; grantCounts reads each one\'s grants', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const observed: string[] = [];
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent, observe: (c, _s, ok) => observed.push(`${c}:${ok}`) });
  t.after(() => store.close(300));
  const leases = async (max: number): Promise<ReturnType<typeof parseLeases>> => parseLeases(await store.script('uwsbLeases', 'x/0', max));
  await until(async () => {
    try { return (await leases(8)).held === 0; } catch { return false; }
  }, 'Redis to answer', 5000);
  assert.deepEqual((await leases(8)).leases, [], 'no node yet');
  await store.script('uwsbSync', 'a/1', 'a/1', '1', 60_000, '2', '0.1', '0 10.0.0.1 h:22', '0.2', '0 10.0.0.2 h:22');
  await store.script('uwsbSync', 'b/2', 'b/2', '1', 120_000, '1', '0.1', '0 10.0.0.3 h:22');
  await store.script('uwsbSync', 'c/3', 'c/3', '1', 30_000, '0');
  const all = await leases(8);
  assert.equal(all.open, 3);
  assert.equal(all.held, 3);
  assert.deepEqual(all.leases.map(([inc]) => inc), ['b/2', 'a/1', 'c/3'], 'the latest expiry first');
  for (const [inc, expiresAt] of all.leases) {
    const ttl = inc === 'b/2' ? 120_000 : inc === 'a/1' ? 60_000 : 30_000;
    assert.ok(expiresAt - all.now > ttl - 5000 && expiresAt - all.now <= ttl, `${inc}: expires in ${expiresAt - all.now} ms, Redis time`);
  }
  const two = await leases(2);
  assert.deepEqual(two.leases.map(([inc]) => inc), ['b/2', 'a/1'], 'bounded');
  assert.equal(two.held, 3, 'and says how many there are');
  assert.deepEqual(await store.grantCounts(['a/1', 'b/2', 'c/3', 'gone/9']), [2, 1, 0, 0]);
  assert.ok(observed.includes('uwsbLeases:true') && observed.includes('hlen:true'), 'both reads are observed');
});

void test('a Redis password in --cluster-redis works and never reaches the logs, right or wrong', async (t) => {
  const password = registerSecret('redis-Secret-pw-4');
  const redis = await useRedis(t, { password });
  if (redis === null) return;
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const flags = ['--host-key-policy', 'accept-new-insecure', '--cluster-lease', '1500ms'];
  const good = await startBridge(['--cluster-redis', redis.url, ...keyringFlags(t), ...flags]);
  t.after(() => good.close()); // close() fails when a registered secret is in the logs
  await until(() => good.app.manager.stats().cluster?.valid === true, 'the node to register with the password');
  const ws = await openWs(`${good.wsBase}/ws/127.0.0.1/${ssh.port}`);
  ws.close();
  await ws.closed;
  const wrong = registerSecret('wrong-Redis-pw-7');
  const bad = await startBridge(['--cluster-redis', `redis://:${wrong}@127.0.0.1:${redis.port}`, ...keyringFlags(t), ...flags]);
  t.after(() => bad.close());
  await until(() => bad.logs().some((l) => l.event === 'cluster_unavailable'), 'the refused password to be logged as unavailable');
  const refused = await expectHttpRejection(`${bad.wsBase}/ws/127.0.0.1/${ssh.port}`);
  assert.deepEqual([refused.status, (refused.body as { code: string }).code], [503, 'CLUSTER_UNAVAILABLE']);
  await redis.stop(); // errors of a lost connection are logged too
  await until(() => (good.app.manager.stats().cluster?.renewals.failed ?? 0) > 0, 'a failed renewal');
  assert.ok(!good.logText().includes(password) && !bad.logText().includes(wrong));
});
