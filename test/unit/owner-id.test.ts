/** Owner ids and the one parser of owner-prefixed tokens (resume tokens, share links). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomKeyring } from '../../src/auth/keyring.js';
import { ownerNode, ownerPrefixed, ownerWorker, splitOwner, workerOwner } from '../../src/grammar/owner-id.js';
import { makeResumeToken, resumeTokenOwner } from '../../src/session/resume-token.js';
import { makeShareToken, shareTokenOwner } from '../../src/share/share-token.js';

void test('a worker owner is the worker id in decimal, and back', () => {
  assert.equal(workerOwner(0), '0');
  assert.equal(workerOwner(17), '17');
  assert.equal(ownerWorker(workerOwner(17)), 17);
  assert.equal(workerOwner(3), workerOwner(3));
});

void test('split reads the owner and the rest; prefixed is its inverse', () => {
  assert.deepEqual(splitOwner('3.abc.def'), { owner: '3', rest: 'abc.def' });
  assert.deepEqual(splitOwner('0.'), { owner: '0', rest: '' });
  assert.deepEqual(splitOwner('9999999999.x'), { owner: '9999999999', rest: 'x' });
  assert.deepEqual(splitOwner(ownerPrefixed(workerOwner(42), 'secret')), { owner: workerOwner(42), rest: 'secret' });
});

void test('a cluster node\'s owner is NODE~WORKER: node and worker read back, and the prefix splits one way', () => {
  const owner = workerOwner(2, 'gw-1');
  assert.equal(owner, 'gw-1~2');
  assert.equal(ownerNode(owner), 'gw-1');
  assert.equal(ownerWorker(owner), 2);
  assert.equal(ownerNode(workerOwner(2)), null);
  assert.deepEqual(splitOwner('gw-1~2.abc.def'), { owner: 'gw-1~2', rest: 'abc.def' });
  assert.deepEqual(splitOwner('A_b-9~0.x'), { owner: 'A_b-9~0', rest: 'x' });
  assert.deepEqual(splitOwner(ownerPrefixed(owner, 'secret')), { owner, rest: 'secret' });
  assert.equal(splitOwner('gw-1~02.x')?.owner, owner);
  // A node part needs its worker; a dot or a tilde cannot hide in it; at most 64 characters.
  for (const t of ['gw-1~.x', '~2.x', 'gw.1~2.x', 'a~b~2.x', `${'n'.repeat(65)}~0.x`, 'gw 1~2.x']) assert.equal(splitOwner(t), null, t);
  assert.equal(splitOwner(`${'n'.repeat(64)}~0.x`)?.owner, `${'n'.repeat(64)}~0`);
});

void test('leading zeros name the same owner', () => {
  assert.equal(splitOwner('003.x')?.owner, workerOwner(3));
});

void test('anything without an owner prefix has no owner', () => {
  for (const t of ['', 'junk', '.x', 'x.y', '3', '12345678901.x', '-1.x', '1e3.x', ' 3.x', '3 .x', '３.x']) {
    assert.equal(splitOwner(t), null, JSON.stringify(t));
  }
});

void test('resume tokens and share links carry their owner through the one parser', () => {
  const owner = workerOwner(5);
  const resume = makeResumeToken(owner);
  assert.match(resume, /^5\.[A-Za-z0-9_-]{43}$/);
  assert.equal(resumeTokenOwner(resume), owner);
  const link = makeShareToken(randomKeyring(), { owner, sessionId: 's', linkId: 'l', expiresAt: 1, mode: 'view' });
  assert.equal(shareTokenOwner(link), owner);
  // Each kind still checks the rest of its own shape: a prefix alone names no owner.
  assert.equal(resumeTokenOwner('5.short'), null);
  assert.equal(resumeTokenOwner(`${resume}x`), null);
  assert.equal(shareTokenOwner(resume), null);
  assert.equal(resumeTokenOwner(link), null);
});
