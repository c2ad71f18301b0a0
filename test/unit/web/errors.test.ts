/**
 * The page's sentences for a failed login near the ban (web/src/errors.ts, issue 13 item 3), fed
 * the v1 `error` message as web/src/messages.ts parses it: the attempts left, then the ban.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeClose, type CloseInfo } from '../../../web/src/errors.js';
import { parseServerMessage } from '../../../web/src/messages.js';

/** The close of a login refused with `frame` (the v1 `error` text) just before it. */
function refused(frame: object, method: CloseInfo['method'] = 'password'): CloseInfo {
  const m = parseServerMessage(JSON.stringify(frame));
  assert.ok(m !== null && m.type === 'error');
  return {
    code: 4001, reason: 'SSH_AUTH_FAILED: ssh authentication failed', target: 'box:22', wasReady: false, method,
    error: { code: m.code, message: m.message, attemptsLeft: m.attemptsLeft, banSeconds: m.banSeconds },
    ...(m.retryAfter === null ? {} : { retryAfter: m.retryAfter }),
  };
}

const FAILED = { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed' };

void test('a failed login with more attempts left says only that it failed', () => {
  assert.equal(describeClose(refused(FAILED)), 'Authentication failed: wrong username or password.');
});

void test('two and one attempts left are counted, with how long the ban will last', () => {
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: 2, banSeconds: 300 })),
    'Authentication failed: wrong username or password. 2 attempts left before your address is blocked for 5 minutes.');
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: 1, banSeconds: 300 }, 'publickey')),
    'Authentication failed: the key was not accepted (wrong key, passphrase or username). 1 attempt left before your address is blocked for 5 minutes.');
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: 1, banSeconds: 90 })),
    'Authentication failed: wrong username or password. 1 attempt left before your address is blocked for 90 s.');
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: 2 })),
    'Authentication failed: wrong username or password. 2 attempts left before your address is blocked.', 'no length: none is guessed');
});

void test('the failure that starts the ban says so in the ban\'s own words, with when to try again', () => {
  const banning = describeClose(refused({ ...FAILED, attemptsLeft: 0, retryAfter: 240 }));
  assert.equal(banning, 'Authentication failed: wrong username or password. Too many failed logins from your address. Try again in 4 minutes.');
  const ban = describeClose({ code: 1013, reason: 'AUTH_BANNED: too many failed logins', target: 'box:22', wasReady: false, method: 'password',
    error: { code: 'AUTH_BANNED', message: 'too many failed logins' }, retryAfter: 240 });
  assert.ok(banning.endsWith(ban), `the ban refusal reads "${ban}"`);
});

void test('malformed counts are ignored, not shown', () => {
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: -1, banSeconds: 300 })), 'Authentication failed: wrong username or password.');
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: '2', banSeconds: 300 })), 'Authentication failed: wrong username or password.');
  assert.equal(describeClose(refused({ ...FAILED, attemptsLeft: 1.5 })), 'Authentication failed: wrong username or password.');
});
