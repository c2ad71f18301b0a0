/**
 * The page's resumable session (web/src/resumable.ts): grants rotated by `ready` and `resumed`,
 * the outage of a drop or a stored record, and what a reload keeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResumableSession } from '../../../web/src/resumable.js';

const target = { host: 'example.com', port: 22 };

void test('`ready` with a grant: resumable, no outage; the state a reload keeps', () => {
  const r = new ResumableSession();
  assert.equal(r.state(target, 'alice'), null);
  r.began('s1', { token: 't1', graceMs: 60_000 });
  assert.equal(r.token, 't1');
  assert.equal(r.graceMs, 60_000);
  assert.equal(r.sessionId, 's1');
  assert.equal(r.outage, null);
  assert.deepEqual(r.state(target, 'alice'), { token: 't1', sessionId: 's1', graceMs: 60_000, target, username: 'alice', droppedAt: null });
});

void test('`ready` without a grant (resume off on the bridge): a session id, nothing to resume', () => {
  const r = new ResumableSession();
  r.began('s1', null);
  assert.equal(r.sessionId, 's1');
  assert.equal(r.token, null);
  assert.equal(r.graceMs, null);
  assert.equal(r.state(target, 'alice'), null);
  assert.equal(r.end(), false, 'nothing to forget');
});

void test('a drop, then `resumed`: the outage shows in the state until the session is back, the token rotates', () => {
  const r = new ResumableSession();
  r.began('s1', { token: 't1', graceMs: 60_000 });
  r.dropped(1000, 61_000);
  assert.deepEqual(r.outage, { droppedAt: 1000, deadline: 61_000, attempts: 0 });
  assert.equal(r.state(target, 'alice')?.droppedAt, 1000);
  r.resumed('', { token: 't2', graceMs: 30_000 });
  assert.equal(r.sessionId, 's1', 'an empty sessionId means the same session');
  assert.equal(r.token, 't2');
  assert.equal(r.outage, null);
  assert.equal(r.resumes, 1);
  r.resumed('s1b', null);
  assert.equal(r.sessionId, 's1b');
  assert.equal(r.token, null);
  assert.equal(r.resumes, 2);
});

void test('a stored record: its grant, an outage from its last sign of life; end() forgets both', () => {
  const r = new ResumableSession();
  r.restore({ token: 't9', sessionId: 's9', graceMs: 10_000, target, username: 'bob', position: 512, since: 5000 });
  assert.equal(r.token, 't9');
  assert.equal(r.sessionId, 's9');
  assert.deepEqual(r.outage, { droppedAt: 5000, deadline: 15_000, attempts: 0 });
  assert.equal(r.end(), true);
  assert.equal(r.token, null);
  assert.equal(r.outage, null);
  assert.equal(r.sessionId, 's9', 'the last session id stays (the hooks show it)');
});
