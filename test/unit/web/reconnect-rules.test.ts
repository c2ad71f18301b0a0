/**
 * What a closed socket of the page's terminal connection leads to (web/src/reconnect-rules.ts):
 * the end, a new login after backoff, a resume at once, or another resume attempt later. Fed
 * plain values: no socket, no browser, no clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloseInfo } from '../../../web/src/errors.js';
import {
  decideClose, isDrop, MAX_RETRY_AFTER_S, NEW_SESSION_NOTE, resumeDelaySeconds, resumeRetryable, retryDelaySeconds,
  type CloseFacts, type CloseStep,
} from '../../../web/src/reconnect-rules.js';

const NOW = 1_700_000_000_000;
const GRACE = 60_000;

function close(code: number, opts: { reason?: string; error?: string; wasReady?: boolean; retryAfter?: number } = {}): CloseInfo {
  return {
    code,
    reason: opts.reason ?? '',
    error: opts.error === undefined ? null : { code: opts.error, message: opts.error.toLowerCase() },
    target: 'host:22',
    wasReady: opts.wasReady ?? false,
    method: 'password',
    ...(opts.retryAfter === undefined ? {} : { retryAfter: opts.retryAfter }),
  };
}

/** A connected session of a login with credentials, whose socket just closed as `info`. */
function facts(info: CloseInfo, over: Partial<CloseFacts> = {}): CloseFacts {
  return { info, exit: null, resuming: false, graceMs: null, cycle: null, hadSession: true, canLogIn: true, attempts: 0, now: NOW, ...over };
}

/** A resume attempt of an outage that began `sinceMs` ago, which just failed as `info`. */
function resumeFacts(info: CloseInfo, over: Partial<CloseFacts> & { sinceMs?: number; failed?: number } = {}): CloseFacts {
  const since = over.sinceMs ?? 0;
  return facts(info, { resuming: true, graceMs: GRACE, cycle: { deadline: NOW - since + GRACE, attempts: over.failed ?? 0 }, ...over });
}

function expectKind<K extends CloseStep['kind']>(step: CloseStep, kind: K): Extract<CloseStep, { kind: K }> {
  assert.equal(step.kind, kind, JSON.stringify(step));
  return step as Extract<CloseStep, { kind: K }>;
}

void test('the shell ended: over, with the exit sentence as the status', () => {
  const step = expectKind(decideClose(facts(close(1000, { wasReady: true }), { exit: { status: 3, signal: null }, graceMs: GRACE })), 'end');
  assert.deepEqual(step.end, { kind: 'exit', message: 'Session ended (exit status 3).', hadSession: true, wasReady: true, code: null });
  assert.equal(step.status, 'Session ended (exit status 3).');
  const closed = expectKind(decideClose(facts(close(1000, { reason: 'CLIENT_CLOSED: client closed', wasReady: true }))), 'end');
  assert.equal(closed.status, 'closed');
});

void test('taken over by another tab (4008) or the gateway restarting (1012): over even when resumable or resuming', () => {
  for (const info of [close(4008, { reason: 'SESSION_TAKEN_OVER: resumed elsewhere', wasReady: true }), close(1012, { wasReady: true })]) {
    const end = expectKind(decideClose(facts(info, { graceMs: GRACE })), 'end').end;
    assert.equal(end.kind, 'error', `${info.code}`);
    expectKind(decideClose(resumeFacts({ ...info, wasReady: false })), 'end');
  }
  const taken = expectKind(decideClose(facts(close(4008, { reason: 'SESSION_TAKEN_OVER: x', wasReady: true }), { graceMs: GRACE })), 'end');
  assert.equal(taken.end.code, 'SESSION_TAKEN_OVER');
  assert.match(taken.end.message, /another tab or window/);
});

void test('a resumable session\'s socket drops: resume at once, the grace period counted from now', () => {
  for (const info of [close(1006, { wasReady: true }), close(1001, { wasReady: true }), close(1005, { wasReady: true }), close(4004, { wasReady: true }),
    close(4004, { reason: 'PONG_TIMEOUT: no pong', wasReady: true }), close(1006, { error: 'CLIENT_STALLED', wasReady: true })]) {
    assert.equal(isDrop(info), true, JSON.stringify(info));
    const step = expectKind(decideClose(facts(info, { graceMs: GRACE })), 'resume');
    assert.equal(step.droppedAt, NOW);
    assert.equal(step.deadline, NOW + GRACE);
    assert.equal(step.end.kind, 'retrying');
    assert.equal(step.end.resuming, true);
    assert.equal(step.end.wasReady, true);
  }
});

void test('no resume without a grant, before `ready`, or for a close that is not a drop', () => {
  expectKind(decideClose(facts(close(1006, { wasReady: true }))), 'retry');
  expectKind(decideClose(facts(close(1006, { wasReady: false }), { graceMs: GRACE })), 'retry');
  const lost = close(4003, { reason: 'SSH_CONNECTION_LOST: gone', wasReady: true });
  assert.equal(isDrop(lost), false);
  expectKind(decideClose(facts(lost, { graceMs: GRACE })), 'retry');
  expectKind(decideClose(facts(close(4005, { wasReady: true }), { graceMs: GRACE })), 'end');
});

void test('a lost session: new logins after 1, 2, 4, 8, 16 s, then it gives up', () => {
  const delays: number[] = [];
  for (let attempts = 0; attempts < 5; attempts++) {
    const step = expectKind(decideClose(facts(close(1006, { wasReady: attempts === 0 }), { attempts })), 'retry');
    assert.equal(step.attempt, attempts + 1);
    assert.equal(step.note, null);
    assert.deepEqual(step.end, {
      kind: 'retrying', message: step.end.message, hadSession: true, wasReady: attempts === 0, retryInSeconds: step.delay, attempt: attempts + 1, code: null,
    });
    delays.push(step.delay);
  }
  assert.deepEqual(delays, [1, 2, 4, 8, 16]);
  const end = expectKind(decideClose(facts(close(1006), { attempts: 5 })), 'end');
  assert.match(end.end.message, /Gave up after 5 attempts\.$/);
  assert.equal(end.status, 'closed');
});

void test('no automatic new login without a session that worked, or without credentials (after a reload)', () => {
  expectKind(decideClose(facts(close(1006), { hadSession: false })), 'end');
  const reload = expectKind(decideClose(facts(close(1006, { wasReady: true }), { canLogIn: false })), 'end');
  assert.equal(reload.end.hadSession, true, 'the terminal still holds the session');
  expectKind(decideClose(facts(close(4001, { reason: 'SSH_AUTH_FAILED: no' }))), 'end');
});

void test('a Retry-After longer than the backoff is waited for, up to 60 s', () => {
  const info = (s: number): CloseInfo => close(1013, { error: 'TICKETS_FULL', retryAfter: s });
  assert.equal(expectKind(decideClose(facts(info(7))), 'retry').delay, 7);
  assert.equal(expectKind(decideClose(facts(info(600))), 'retry').delay, MAX_RETRY_AFTER_S);
  assert.equal(retryDelaySeconds(6, 0), 30, 'the backoff itself stops at 30 s');
  assert.equal(retryDelaySeconds(1, 45), 45);
});

void test('a failed resume attempt is tried again within the grace period, never much past its end', () => {
  const failed = resumeFacts(close(1006), { sinceMs: 1000, failed: 2 });
  const step = expectKind(decideClose(failed), 'resume-later');
  assert.equal(step.attempt, 3);
  assert.equal(step.delay, 4);
  // 2.5 s of grace left: the wait is cut to 3 s; a Retry-After counts too, within the same bound.
  const late = expectKind(decideClose(resumeFacts(close(1006), { sinceMs: GRACE - 2500, failed: 4 })), 'resume-later');
  assert.equal(late.delay, 3);
  const limited = expectKind(decideClose(resumeFacts(close(1013, { error: 'RATE_LIMITED', retryAfter: 20 }), { sinceMs: 1000 })), 'resume-later');
  assert.equal(limited.delay, 20);
  assert.equal(resumeDelaySeconds(1, 0, 10), 1, 'at least a second');
  for (const code of ['TICKET_INVALID', 'TICKETS_FULL', 'BRIDGE_AUTH_UNAVAILABLE', 'RATE_LIMITED', 'LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'PONG_TIMEOUT', 'CLIENT_STALLED']) {
    assert.equal(resumeRetryable(close(1013, { error: code })), true, code);
  }
  for (const code of [1006, 1005, 1013]) assert.equal(resumeRetryable(close(code)), true, `${code}`);
  assert.equal(resumeRetryable(close(1008)), false);
});

void test('a refused or expired resume falls back to a new login, with the note for the fresh terminal', () => {
  const refused = expectKind(decideClose(resumeFacts(close(4007, { reason: 'RESUME_INVALID: unknown token' }))), 'retry');
  assert.equal(refused.note, NEW_SESSION_NOTE);
  assert.equal(refused.attempt, 1);
  assert.equal(refused.delay, 1);
  assert.equal(refused.end.message, 'The session could not be resumed (it ended, or it was kept too long without a connection). Logging in again for a new session.');
  assert.equal(refused.end.code, 'RESUME_INVALID');
  const expired = expectKind(decideClose(resumeFacts(close(1006), { sinceMs: GRACE })), 'retry');
  assert.equal(expired.end.code, 'RESUME_EXPIRED');
  assert.match(expired.end.message, /^The session could not be resumed in time/);
  const other = expectKind(decideClose(resumeFacts(close(1008, { reason: 'TARGET_DENIED: no' }))), 'retry');
  assert.match(other.end.message, /^The session could not be resumed\. This gateway does not allow/);
});

void test('after a reload (no credentials) a refused resume ends and asks for a login', () => {
  const step = expectKind(decideClose(resumeFacts(close(4007, { reason: 'RESUME_INVALID: x' }), { canLogIn: false, hadSession: false })), 'end');
  assert.deepEqual(step.end, {
    kind: 'error', message: 'The session could not be resumed (it ended, or it was kept too long without a connection). Log in to start a new session.',
    hadSession: false, wasReady: false, code: 'RESUME_INVALID',
  });
  assert.equal(step.status, 'closed');
});

void test('a gateway credential problem during a resume brings the form back, nothing is retried', () => {
  for (const code of ['BRIDGE_AUTH_REQUIRED', 'BRIDGE_AUTH_INVALID']) {
    const step = expectKind(decideClose(resumeFacts(close(4006, { error: code }))), 'end');
    assert.equal(step.end.kind, 'error');
    assert.equal(step.end.code, code);
    assert.equal(step.end.wasReady, false);
  }
});

void test('a resume socket without an outage is judged like any other close', () => {
  const step = decideClose(facts(close(1006), { resuming: true, graceMs: GRACE, cycle: null }));
  assert.deepEqual(step, decideClose(facts(close(1006), { graceMs: GRACE })));
});
