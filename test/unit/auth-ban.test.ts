import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthBan } from '../../src/manager/auth-ban.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

void test('N failures within the window ban the IP for the ban period', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 3, windowMs: 60_000, banMs: 30_000, now: c.now });
  assert.equal(ban.recordFailure('10.0.0.1').banStarted, false);
  assert.equal(ban.recordFailure('10.0.0.1').banStarted, false);
  assert.equal(ban.bannedForMs('10.0.0.1'), 0);
  assert.equal(ban.recordFailure('10.0.0.1').banStarted, true);
  assert.equal(ban.bannedForMs('10.0.0.1'), 30_000);
  assert.equal(ban.bannedForMs('10.0.0.2'), 0, 'other addresses are not affected');
  c.advance(29_999);
  assert.equal(ban.bannedForMs('10.0.0.1'), 1);
  c.advance(1);
  assert.equal(ban.bannedForMs('10.0.0.1'), 0);
  assert.deepEqual(ban.snapshot(), { banned: 0, tracked: 1, bans_total: 1 });
});

void test('each failure says how many attempts are left before the ban; the one that bans says 0', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 4, windowMs: 60_000, banMs: 30_000, now: c.now });
  const left = [1, 2, 3, 4].map(() => ban.recordFailure('10.0.0.1'));
  assert.deepEqual(left, [
    { banStarted: false, attemptsLeft: 3, bannedForMs: 0 },
    { banStarted: false, attemptsLeft: 2, bannedForMs: 0 },
    { banStarted: false, attemptsLeft: 1, bannedForMs: 0 },
    { banStarted: true, attemptsLeft: 0, bannedForMs: 30_000 },
  ]);
  assert.equal(ban.recordFailure('10.0.0.2').attemptsLeft, 3, 'another address has its own count');
  c.advance(30_000);
  assert.equal(ban.recordFailure('10.0.0.1').attemptsLeft, 3, 'after the ban the count starts again');
});

void test('failures older than the window do not count', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 3, windowMs: 10_000, banMs: 30_000, now: c.now });
  ban.recordFailure('a');
  ban.recordFailure('a');
  c.advance(10_000);
  assert.deepEqual(ban.recordFailure('a'), { banStarted: false, attemptsLeft: 2, bannedForMs: 0 }, 'only this failure counts');
  assert.equal(ban.bannedForMs('a'), 0);
});

void test('a success clears failures but not an active ban', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 2, windowMs: 10_000, banMs: 5_000, now: c.now });
  ban.recordFailure('a');
  ban.recordSuccess('a');
  assert.equal(ban.recordFailure('a').attemptsLeft, 1, 'count restarted after a success');
  assert.equal(ban.recordFailure('a').banStarted, true);
  ban.recordSuccess('a');
  assert.ok(ban.bannedForMs('a') > 0);
});

void test('failures during a ban do not extend it', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 1, windowMs: 10_000, banMs: 5_000, now: c.now });
  assert.equal(ban.recordFailure('a').banStarted, true);
  c.advance(4_000);
  assert.deepEqual(ban.recordFailure('a'), { banStarted: false, attemptsLeft: 0, bannedForMs: 1_000 }, 'banned: nothing left, the ban as it was');
  assert.equal(ban.bannedForMs('a'), 1_000);
});

void test('the map is bounded: old entries make room, active bans are dropped last', () => {
  const c = clock();
  const ban = new AuthBan({ failures: 1, windowMs: 1_000, banMs: 60_000, now: c.now, maxTracked: 3 });
  ban.recordFailure('banned');
  c.advance(2_000);
  for (const ip of ['x1', 'x2', 'x3', 'x4', 'x5']) ban.recordFailure(ip);
  assert.ok(ban.snapshot().tracked <= 3);
  assert.throws(() => new AuthBan({ failures: 0, windowMs: 1, banMs: 1 }), RangeError);
});
