/**
 * The shared scripts (rate limit, login ban, tickets, host keys) against a real redis-server,
 * through RedisStore: the bucket's arithmetic and its expiry, the whitelist, the ban's count and
 * its keys' expiries, a failure set that stays bounded, a ticket stored under its digest, capped,
 * and taken exactly once, and host keys stored once per server, capped, never expiring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.js';
import { RedisStore } from '../../src/redis/store.js';
import { banKey, failuresKey, HOST_KEYS_KEY, hostKeyField, rateKey, TICKET_INDEX_KEY, ticketKey } from '../../src/redis/shared-keys.js';
import { parseCount, parseEnter, parseFailure, parseFound, parseMint, parseShare, type EnterReply, type FailureReply, type ShareReply } from '../../src/redis/shared-replies.js';
import { redisHostKeyAuthority } from '../../src/manager/redis-host-keys.js';
import { useRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

const silent = createLogger(false, { write: () => true });
const HOUR = 3_600_000;

void test('enter: a bucket of 3 per hour, the whitelist, then the ban first', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent });
  t.after(() => store.close(300));
  const ip = '192.0.2.1';
  const enter = async (rate = 1): Promise<EnterReply> => parseEnter(await store.shared('uwsbEnter', [banKey(ip), rateKey(ip)], rate, 3, HOUR));
  await until(async () => {
    try { return (await enter(0)).ok; } catch { return false; }
  }, 'Redis to answer', 5000);
  for (let i = 0; i < 3; i++) assert.deepEqual(await enter(), { ok: true }, `token ${i + 1}`);
  const limited = await enter();
  assert.ok(!limited.ok && limited.code === 'RATE_LIMITED', JSON.stringify(limited));
  assert.ok(limited.retryAfterS > 600 && limited.retryAfterS <= 1200, `a token every 20 minutes: ${limited.retryAfterS}`);
  const ttl = Number((await redis.command('PTTL', rateKey(ip))).slice(1));
  assert.ok(ttl > HOUR / 2 && ttl <= HOUR, `the empty bucket expires when it is full again: ${ttl}`);
  assert.deepEqual(await enter(0), { ok: true }, 'whitelisted: no token taken');
  await redis.command('SET', banKey(ip), '1', 'PX', '45000');
  const banned = await enter();
  assert.ok(!banned.ok && banned.code === 'AUTH_BANNED' && banned.retryAfterS > 0 && banned.retryAfterS <= 45, JSON.stringify(banned));
  const whitelisted = await enter(0);
  assert.ok(!whitelisted.ok && whitelisted.code === 'AUTH_BANNED', 'a whitelisted address is still banned');
});

void test('login failures: the count, the ban, a failure while banned, success clears; every key expires; the set stays bounded', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent });
  t.after(() => store.close(300));
  const ip = '192.0.2.9';
  let n = 0;
  const fail = async (): Promise<FailureReply> => parseFailure(await store.shared('uwsbLoginFailed', [banKey(ip), failuresKey(ip)], 3, 60_000, 120_000, `m${n++}`));
  await until(async () => {
    try { await store.shared('uwsbLoginOk', [failuresKey('none')]); return true; } catch { return false; }
  }, 'Redis to answer', 5000);
  assert.deepEqual(await fail(), { banStarted: false, attemptsLeft: 2, bannedForMs: 0 });
  await store.shared('uwsbLoginOk', [failuresKey(ip)]);
  assert.equal(await redis.command('EXISTS', failuresKey(ip)), ':0\r\n', 'a success clears the failures');
  assert.deepEqual(await fail(), { banStarted: false, attemptsLeft: 2, bannedForMs: 0 });
  assert.deepEqual(await fail(), { banStarted: false, attemptsLeft: 1, bannedForMs: 0 });
  const window = Number((await redis.command('PTTL', failuresKey(ip))).slice(1));
  assert.ok(window > 0 && window <= 60_000, `failures expire a window after the last: ${window}`);
  assert.deepEqual(await fail(), { banStarted: true, attemptsLeft: 0, bannedForMs: 120_000 });
  const ban = Number((await redis.command('PTTL', banKey(ip))).slice(1));
  assert.ok(ban > 0 && ban <= 120_000, `the ban expires: ${ban}`);
  for (let i = 0; i < 10; i++) {
    const during = await fail();
    assert.ok(during.attemptsLeft === 0 && !during.banStarted && during.bannedForMs > 0, JSON.stringify(during));
  }
  assert.equal(await redis.command('ZCARD', failuresKey(ip)), ':3\r\n', 'at most auth-ban-failures entries are kept');
  const still = Number((await redis.command('PTTL', banKey(ip))).slice(1));
  assert.ok(still <= ban, 'a failure while banned does not extend the ban');
});

void test('tickets: stored under the digest with the TTL, capped, taken exactly once, counted', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent });
  t.after(() => store.close(300));
  const mint = async (digest: string, max = 2): Promise<boolean> =>
    parseMint(await store.shared('uwsbTicketMint', [ticketKey(digest), TICKET_INDEX_KEY], digest, `record-${digest}`, 30_000, max));
  const redeem = (digest: string): Promise<unknown> => store.shared('uwsbTicketRedeem', [ticketKey(digest), TICKET_INDEX_KEY], digest);
  const count = async (): Promise<number> => parseCount(await store.shared('uwsbTicketCount', [TICKET_INDEX_KEY]));
  await until(async () => {
    try { await count(); return true; } catch { return false; }
  }, 'Redis to answer', 5000);
  assert.equal(await count(), 0);
  assert.equal(await mint('a'), true);
  assert.equal(await mint('b'), true);
  assert.equal(await mint('c'), false, 'the cluster holds the most live tickets');
  assert.equal(await count(), 2);
  const ttl = Number((await redis.command('PTTL', ticketKey('a'))).slice(1));
  assert.ok(ttl > 0 && ttl <= 30_000, `PTTL ${ttl}`);
  assert.ok(Number((await redis.command('PTTL', TICKET_INDEX_KEY)).slice(1)) > 0, 'the index expires too');
  assert.equal(await redeem('a'), 'record-a');
  assert.equal(await redeem('a'), null, 'exactly once');
  assert.equal(await count(), 1);
  assert.equal(await mint('c'), true, 'room again');
  const twice = await Promise.all([redeem('c'), redeem('c'), redeem('c')]);
  assert.deepEqual(twice.filter((r) => r !== null), ['record-c'], 'concurrent redemptions: one wins');
});

void test('host keys: one record per server, stored unless present (the winner reported), capped, never expiring; found by name and address', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const store = new RedisStore({ url: redis.url, timeoutMs: 300, logger: silent });
  t.after(() => store.close(300));
  const share = async (server: string, record: string, max = 2): Promise<ShareReply> =>
    parseShare(await store.shared('uwsbHostKeyShare', [HOST_KEYS_KEY], server, record, max));
  const find = async (...servers: string[]): Promise<(string | null)[]> => parseFound(await store.shared('uwsbHostKeyFind', [HOST_KEYS_KEY], ...servers), servers.length);
  await until(async () => {
    try { await find('[x]:22'); return true; } catch { return false; }
  }, 'Redis to answer', 5000);
  const a = hostKeyField('a.example', 22);
  assert.deepEqual(await find(a), [null]);
  assert.deepEqual(await share(a, 'ssh-ed25519 AAAA'), { kind: 'stored' });
  assert.deepEqual(await share(a, 'ssh-ed25519 AAAA'), { kind: 'present' });
  assert.deepEqual(await share(a, 'ssh-ed25519 BBBB'), { kind: 'changed', record: 'ssh-ed25519 AAAA' }, 'the stored key stays; the other is told which');
  assert.deepEqual(await share(a, 'ssh-rsa CCCC'), { kind: 'changed', record: 'ssh-ed25519 AAAA' }, 'one key per server, whatever its type');
  assert.deepEqual(await share(hostKeyField('b.example', 22), 'ssh-ed25519 BBBB'), { kind: 'stored' });
  assert.deepEqual(await share(hostKeyField('c.example', 22), 'ssh-ed25519 CCCC'), { kind: 'full' }, 'no room for a third server');
  assert.deepEqual(await share(a, 'ssh-ed25519 AAAA'), { kind: 'present' }, 'a server already there is answered when full');
  assert.deepEqual(await find(a, hostKeyField('c.example', 22), hostKeyField('b.example', 22)), ['ssh-ed25519 AAAA', null, 'ssh-ed25519 BBBB']);
  assert.equal(await redis.command('PTTL', HOST_KEYS_KEY), ':-1\r\n', 'a trust record does not expire');
  assert.equal(await redis.command('HLEN', HOST_KEYS_KEY), ':2\r\n');

  // The authority over the scripts: names and addresses, keys decoded, the winner's key on a race.
  const blob = (n: number): string => Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, n)]).toString('base64');
  const authority = redisHostKeyAuthority(store, 10);
  const k1 = { host: 'srv.example', port: 2222, keyType: 'ssh-ed25519', key: blob(1) };
  assert.deepEqual(await authority.shareHostKey(k1, undefined), { ok: true, outcome: 'stored' });
  const raced = await Promise.all([authority.shareHostKey({ ...k1, host: 'race.example', key: blob(2) }, undefined), authority.shareHostKey({ ...k1, host: 'race.example', key: blob(3) }, undefined)]);
  assert.deepEqual(raced.map((r) => r.ok).sort(), [false, true], 'of two different keys at once, exactly one is stored');
  assert.deepEqual(await authority.findHostKeys({ host: 'srv.example', port: 2222, address: '10.0.0.1' }, undefined), { ok: true, keys: [k1] });
  await authority.shareHostKey({ ...k1, host: '10.0.0.1', key: blob(4) }, undefined);
  assert.deepEqual(await authority.findHostKeys({ host: 'alias.example', port: 2222, address: '10.0.0.1' }, undefined), { ok: true, keys: [{ ...k1, host: '10.0.0.1', key: blob(4) }] });
  assert.deepEqual(await authority.shareHostKey({ ...k1, key: blob(5) }, undefined), { ok: false, code: 'HOST_KEY_CHANGED', stored: k1 });
  assert.deepEqual(await authority.shareHostKey({ ...k1, host: 'big.example', keyType: 'ssh-rsa', key: 'A'.repeat(9000) }, undefined), { ok: false, code: 'NOT_KEPT', why: 'too large' });
  await redis.command('HSET', HOST_KEYS_KEY, hostKeyField('junk.example', 22), 'not a record');
  assert.deepEqual(await authority.findHostKeys({ host: 'junk.example', port: 22, address: null }, undefined), { ok: true, keys: [] }, 'an unreadable record is not a key');
  assert.deepEqual(await authority.shareHostKey({ ...k1, host: 'junk.example', port: 22 }, undefined), { ok: false, code: 'HOST_KEY_CHANGED', stored: null }, 'but it is not replaced either');
  await redis.stop();
  assert.deepEqual(await authority.findHostKeys({ host: 'srv.example', port: 2222, address: null }, undefined), { ok: false, code: 'CLUSTER_UNAVAILABLE' });
  assert.deepEqual(await authority.shareHostKey({ ...k1, host: 'new.example' }, undefined), { ok: false, code: 'CLUSTER_UNAVAILABLE' });
});
