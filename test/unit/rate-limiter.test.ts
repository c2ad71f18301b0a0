import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/manager/rate-limiter.js';
import type { RateLimiterOptions } from '../../src/manager/rate-limiter.js';
import { CidrSet } from '../../src/grammar/cidr.js';

function limiter(opts: Partial<RateLimiterOptions> = {}): { rl: RateLimiter; clock: { t: number } } {
  const clock = { t: 1_000 };
  const rl = new RateLimiter({
    burst: 3,
    intervalMs: 300,
    perIp: true,
    whitelist: CidrSet.parse([]),
    now: () => clock.t,
    ...opts,
  });
  return { rl, clock };
}

void test('burst then refuse, with limited_total counted', () => {
  const { rl } = limiter();
  assert.deepEqual([1, 2, 3, 4, 5].map(() => rl.take('1.2.3.4')), [true, true, true, false, false]);
  assert.equal(rl.snapshot().limited_total, 2);
  assert.equal(rl.retryAfterMs('1.2.3.4'), 100);
});

void test('refills continuously over (fake) time', () => {
  const { rl, clock } = limiter();
  for (let i = 0; i < 3; i++) assert.ok(rl.take('1.2.3.4'));
  assert.equal(rl.take('1.2.3.4'), false);
  clock.t += 99;
  assert.equal(rl.retryAfterMs('1.2.3.4'), 1);
  assert.equal(rl.take('1.2.3.4'), false);
  clock.t += 1;
  assert.equal(rl.retryAfterMs('1.2.3.4'), 0);
  assert.equal(rl.take('1.2.3.4'), true);
  assert.equal(rl.take('1.2.3.4'), false);
  clock.t += 10_000;
  assert.deepEqual([1, 2, 3, 4].map(() => rl.take('1.2.3.4')), [true, true, true, false]);
  assert.equal(rl.snapshot().limited_total, 4);
});

void test('per-IP buckets are independent; IPv4-mapped form is the same client', () => {
  const { rl } = limiter({ burst: 1 });
  assert.ok(rl.take('1.2.3.4'));
  assert.equal(rl.take('::ffff:1.2.3.4'), false);
  assert.ok(rl.take('5.6.7.8'));
  assert.equal(rl.retryAfterMs('9.9.9.9'), 0);
});

void test('whitelisted CIDR always passes and is not tracked', () => {
  const { rl } = limiter({ burst: 1, whitelist: CidrSet.parse(['10.0.0.0/8', '2001:db8::/32']) });
  for (let i = 0; i < 10; i++) {
    assert.ok(rl.take('10.1.2.3'));
    assert.ok(rl.take('::ffff:10.9.9.9'));
    assert.ok(rl.take('2001:db8::1'));
  }
  assert.equal(rl.retryAfterMs('10.1.2.3'), 0);
  const snap = rl.snapshot();
  assert.equal(snap.tracked, 0);
  assert.equal(snap.limited_total, 0);
  assert.equal(snap.whitelist, 2);
});

void test('one global bucket when perIp is false', () => {
  const { rl, clock } = limiter({ perIp: false, burst: 2, whitelist: CidrSet.parse(['127.0.0.1']) });
  assert.ok(rl.take('1.1.1.1'));
  assert.ok(rl.take('2.2.2.2'));
  assert.equal(rl.take('3.3.3.3'), false);
  assert.ok(rl.take('127.0.0.1'));
  assert.equal(rl.retryAfterMs('4.4.4.4'), 150);
  assert.equal(rl.snapshot().tracked, 1);
  clock.t += 150;
  assert.ok(rl.take('4.4.4.4'));
});

void test('full buckets are swept lazily, at most once per interval', () => {
  const { rl, clock } = limiter();
  rl.take('1.1.1.1');
  rl.take('2.2.2.2');
  assert.equal(rl.snapshot().tracked, 2);
  clock.t += 299; // not yet a whole interval since construction: no sweep
  rl.take('3.3.3.3');
  assert.equal(rl.snapshot().tracked, 3);
  clock.t += 1; // 1.1.1.1 and 2.2.2.2 are full again; 3.3.3.3 is not
  rl.take('4.4.4.4');
  assert.equal(rl.snapshot().tracked, 2);
  clock.t += 50; // within the interval since the last sweep
  rl.take('5.5.5.5');
  assert.equal(rl.snapshot().tracked, 3);
});

void test('maxTracked bounds the map; newcomers share an overflow bucket', () => {
  const { rl, clock } = limiter({ burst: 2, maxTracked: 3 });
  for (const ip of ['1.0.0.1', '1.0.0.2', '1.0.0.3']) assert.ok(rl.take(ip));
  assert.equal(rl.snapshot().tracked, 3);
  // Map full of refilling buckets: new addresses share one bucket of `burst` tokens.
  assert.ok(rl.take('2.0.0.1'));
  assert.ok(rl.take('2.0.0.2'));
  assert.equal(rl.take('2.0.0.3'), false);
  assert.equal(rl.retryAfterMs('2.0.0.4'), 150);
  assert.equal(rl.snapshot().tracked, 3);
  // Tracked addresses keep their own buckets.
  assert.ok(rl.take('1.0.0.1'));
  assert.equal(rl.take('1.0.0.1'), false);
  // Once stale buckets have refilled they are evicted and newcomers get their own again.
  clock.t += 150; // 1.0.0.2 and 1.0.0.3 full (1 + 1 token), 1.0.0.1 not
  assert.ok(rl.take('3.0.0.1'));
  assert.ok(rl.take('3.0.0.1'));
  assert.equal(rl.take('3.0.0.1'), false);
  assert.ok(rl.snapshot().tracked <= 3);
  assert.equal(rl.snapshot().limited_total, 3);
});

void test('flood of distinct addresses keeps tracked <= maxTracked', () => {
  const { rl, clock } = limiter({ burst: 5, maxTracked: 50 });
  for (let i = 0; i < 1000; i++) {
    rl.take(`10.${i >> 8}.${i & 0xff}.1`);
    clock.t += 1;
    assert.ok(rl.snapshot().tracked <= 50);
  }
});

void test('snapshot reports configuration', () => {
  const { rl } = limiter({ whitelist: CidrSet.parse(['10.0.0.0/8']) });
  assert.deepEqual(rl.snapshot(), {
    rate_interval_ms: 300, rate_burst: 3, per_ip: true, whitelist: 1, tracked: 0, limited_total: 0,
  });
});

void test('rejects nonsensical options', () => {
  assert.throws(() => limiter({ burst: 0 }), RangeError);
  assert.throws(() => limiter({ intervalMs: 0 }), RangeError);
  assert.throws(() => limiter({ maxTracked: 0 }), RangeError);
});

void test('default clock works without injection', () => {
  const rl = new RateLimiter({ burst: 1, intervalMs: 60_000, perIp: true, whitelist: CidrSet.parse([]) });
  assert.ok(rl.take('1.2.3.4'));
  assert.equal(rl.take('1.2.3.4'), false);
  assert.ok(rl.retryAfterMs('1.2.3.4') > 59_000);
});
