import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPTS_WARNING, attemptsNotice } from '../../src/policy/login-attempts.js';

void test('a failed login says nothing while more than two attempts are left, or with the ban off', () => {
  assert.equal(ATTEMPTS_WARNING, 2);
  assert.deepEqual(attemptsNotice(null), {});
  assert.deepEqual(attemptsNotice({ attemptsLeft: 3, banSeconds: 300 }), {});
  assert.deepEqual(attemptsNotice({ attemptsLeft: 40, banSeconds: 300 }), {});
});

void test('two or one attempts left: how many, and how long the ban will last', () => {
  assert.deepEqual(attemptsNotice({ attemptsLeft: 2, banSeconds: 300 }), { attemptsLeft: 2, banSeconds: 300 });
  assert.deepEqual(attemptsNotice({ attemptsLeft: 1, banSeconds: 45 }), { attemptsLeft: 1, banSeconds: 45 });
});

void test('none left: the ban is on, and retryAfter says for how long, as a ban refusal would', () => {
  assert.deepEqual(attemptsNotice({ attemptsLeft: 0, banSeconds: 240 }), { attemptsLeft: 0, retryAfter: 240 });
});
