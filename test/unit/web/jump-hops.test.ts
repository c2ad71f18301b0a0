/**
 * The jump host section's hops as values (issue 17; web/src/jump-hops.ts): reading up to three
 * hops in order into the route's logins, the problem (hop, field, sentence) with a wrong one,
 * what Remove leaves, and when Add may add. Plain values in and out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_HOP, MAX_JUMP_HOPS, mayAddHop, readHops, withoutHop, type HopFields } from '../../../web/src/jump-hops.js';
import { MAX_JUMP_HOPS as BRIDGE_MAX } from '../../../src/protocol/v1.js';

const hop = (over: Partial<HopFields>): HopFields => ({ ...EMPTY_HOP, ...over });

void test('three hops are read in order, each with its own login', () => {
  const read = readHops([
    hop({ host: 'bastion.example', username: 'alice', password: 'pw-1' }),
    hop({ host: 'ops@[2001:db8::4]:2222', method: 'publickey', privateKey: '  KEY  \n', passphrase: 'phrase' }),
    hop({ host: '10.0.5.9', port: '2200', username: 'carol', method: 'keyboard-interactive', password: 'ignored' }),
  ]);
  assert.deepEqual(read, { hops: [
    { host: 'bastion.example', port: 22, login: { username: 'alice', method: 'password', password: 'pw-1' } },
    { host: '2001:db8::4', port: 2222, login: { username: 'ops', method: 'publickey', privateKey: 'KEY\n', passphrase: 'phrase' } },
    { host: '10.0.5.9', port: 2200, login: { username: 'carol', method: 'keyboard-interactive' } },
  ] });
});

void test('one hop with an empty Jump host is a direct login; with several, an empty one is a problem', () => {
  assert.deepEqual(readHops([EMPTY_HOP]), { hops: [] });
  assert.deepEqual(readHops([hop({ host: '  ', username: 'x', password: 'y' })]), { hops: [] });
  assert.deepEqual(readHops([hop({ host: 'a', username: 'u', password: 'p' }), EMPTY_HOP]),
    { problem: { index: 1, field: 'host', message: 'Enter jump host 2, or remove it.' } });
  assert.deepEqual(readHops([EMPTY_HOP, hop({ host: 'b', username: 'u', password: 'p' })]),
    { problem: { index: 0, field: 'host', message: 'Enter jump host 1, or remove it.' } });
});

void test('a wrong field names its hop: "the jump host" alone, "jump host N" among several', () => {
  const ok = hop({ host: 'a', username: 'u', password: 'p' });
  assert.deepEqual(readHops([hop({ host: 'a', username: 'u' })]),
    { problem: { index: 0, field: 'password', message: 'Enter your password on the jump host.' } });
  assert.deepEqual(readHops([hop({ host: 'a', port: '0', username: 'u', password: 'p' })]),
    { problem: { index: 0, field: 'port', message: 'The jump host port must be a number from 1 to 65535.' } });
  assert.deepEqual(readHops([ok, hop({ host: 'b', password: 'p' })]),
    { problem: { index: 1, field: 'username', message: 'Enter your username on jump host 2.' } });
  assert.deepEqual(readHops([ok, ok, hop({ host: 'c', username: 'u' })]),
    { problem: { index: 2, field: 'password', message: 'Enter your password on jump host 3.' } });
  assert.deepEqual(readHops([ok, hop({ host: 'b', port: '70000', username: 'u', password: 'p' })]),
    { problem: { index: 1, field: 'port', message: 'The port of jump host 2 must be a number from 1 to 65535.' } });
  assert.deepEqual(readHops([ok, hop({ host: 'b', port: '2x', username: 'u', password: 'p' })]),
    { problem: { index: 1, field: 'port', message: 'The port of jump host 2 must be a number from 1 to 65535.' } });
  assert.deepEqual(readHops([ok, ok, hop({ host: 'c', username: 'u', method: 'publickey', privateKey: ' ' })]),
    { problem: { index: 2, field: 'privateKey', message: 'Paste your private key for jump host 3.' } });
  assert.deepEqual(readHops([ok, hop({ host: 'b', username: 'u', method: 'publickey', privateKey: 'k'.repeat(16 * 1024 + 1) })]),
    { problem: { index: 1, field: 'privateKey', message: 'The private key for jump host 2 is too large (the limit is 16 KiB).' } });
  // The first wrong hop wins, in dialing order.
  assert.equal((readHops([ok, hop({ host: 'b' }), hop({ host: 'c' })]) as { problem: { index: number } }).problem.index, 1);
});

void test('Remove takes a hop out and moves the later ones up; the only hop left is emptied', () => {
  const [a, b, c] = [hop({ host: 'a' }), hop({ host: 'b', method: 'publickey', privateKey: 'K' }), hop({ host: 'c' })];
  assert.deepEqual(withoutHop([a, b, c], 1), [a, c]);
  assert.deepEqual(withoutHop([a, b, c], 0), [b, c]);
  assert.deepEqual(withoutHop([a, b, c], 2), [a, b]);
  assert.deepEqual(withoutHop([a], 0), [EMPTY_HOP]);
  assert.deepEqual(withoutHop([a, b], 5), [a, b], 'no such hop: unchanged');
});

void test('Add may add up to the bridge\'s limit of hops', () => {
  assert.equal(MAX_JUMP_HOPS, BRIDGE_MAX, 'the page and the bridge agree');
  assert.equal(mayAddHop(1), true);
  assert.equal(mayAddHop(2), true);
  assert.equal(mayAddHop(3), false);
});
