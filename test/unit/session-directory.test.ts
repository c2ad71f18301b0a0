/** The session directory: find by id, single-use resume tokens, one live token per session. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomKeyring } from '../../src/auth/keyring.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { SessionDirectory } from '../../src/session/directory.js';
import { resumeTokenOwner } from '../../src/session/resume-token.js';

const session = (id: string): { readonly id: string } => ({ id });

/** A directory holding sessions `a` and `b`. */
function two() {
  const d = new SessionDirectory(workerOwner(0));
  const a = session('a');
  const b = session('b');
  d.add(a);
  d.add(b);
  return { d, a, b };
}

void test('sessions are found by id until they are removed', () => {
  const { d, a, b } = two();
  assert.equal(d.size, 2);
  assert.equal(d.find('a'), a);
  assert.deepEqual([...d.sessions()], [a, b]);
  d.remove(a);
  assert.equal(d.find('a'), undefined);
  assert.equal(d.size, 1);
});

void test('a token names this owner and is taken once', () => {
  const d = new SessionDirectory(workerOwner(4));
  const a = session('a');
  d.add(a);
  const token = d.issue(a);
  assert.equal(resumeTokenOwner(token), workerOwner(4));
  assert.equal(d.take(token), a);
  assert.equal(d.take(token), undefined, 'burnt by the first take');
  assert.equal(d.find('a'), a, 'taking a token does not remove the session');
});

void test('a new token retires the one before; tokens of other sessions are untouched', () => {
  const { d, a, b } = two();
  const first = d.issue(a);
  const other = d.issue(b);
  const second = d.issue(a);
  assert.notEqual(first, second);
  assert.equal(d.take(first), undefined);
  assert.equal(d.take(second), a);
  assert.equal(d.take(other), b);
});

void test('a removed session\'s token stops working; unknown tokens find nothing', () => {
  const d = new SessionDirectory(workerOwner(0));
  const a = session('a');
  d.add(a);
  const token = d.issue(a);
  d.remove(a);
  assert.equal(d.take(token), undefined);
  assert.equal(d.take('0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), undefined);
  assert.equal(d.take('junk'), undefined);
});

void test('the keyring is the one given, or fresh random keys', () => {
  const keyring = randomKeyring();
  assert.equal(new SessionDirectory(workerOwner(0), keyring).keyring, keyring);
  const a = new SessionDirectory(workerOwner(0)).keyring.current('share');
  const b = new SessionDirectory(workerOwner(0)).keyring.current('share');
  assert.equal(a.key.length, 32);
  assert.notDeepEqual(a.key, b.key);
});
