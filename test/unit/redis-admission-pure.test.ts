/**
 * The pure parts of cluster admission: key names (one hash tag), the grant record, the script
 * replies' parsers, and the node's grant book (what a sync sends).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, FIXED_KEYS, grantField, grantsKey, incarnationId, incarnationNode, recordable, scriptKeys } from '../../src/redis/keys.js';
import { countRecords, parseCounts, parseGrant, parseHeartbeat, parseReap, parseSync, ReplyError } from '../../src/redis/replies.js';
import { GrantBook } from '../../src/manager/grant-book.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { defaultNodeId } from '../../src/config/cluster-kinds.js';

void test('every key shares the one hash tag (one Redis Cluster slot); a script takes six keys, the incarnation\'s grants last', () => {
  const keys = scriptKeys('gw-1/abcd');
  assert.equal(keys.length, 6);
  for (const k of keys) assert.ok(k.startsWith('{uwsb}:'), k);
  assert.deepEqual(keys.slice(0, 5), [...FIXED_KEYS]);
  assert.equal(keys[5], grantsKey('gw-1/abcd'));
  assert.equal(grantsKey('gw-1/abcd'), '{uwsb}:grants:gw-1/abcd');
});

void test('a grant record round-trips; fields with a space or nothing are not recordable', () => {
  const r = { holder: '3', clientIp: '2001:db8::1', targetKey: '[2001:db8::2]:22' };
  assert.equal(encodeRecord(r), '3 2001:db8::1 [2001:db8::2]:22');
  assert.deepEqual(decodeRecord(encodeRecord(r)), r);
  for (const bad of ['', 'a b', 'a b c d', ' a b', 'a  b']) assert.equal(decodeRecord(bad), null, bad);
  assert.equal(recordable('10.0.0.1:22'), true);
  assert.equal(recordable('a b'), false);
  assert.equal(recordable(''), false);
  assert.equal(grantField('0', '1z'), '0.1z');
});

void test('incarnation ids name their node; the default node id is the host name made safe', () => {
  assert.equal(incarnationId('gw-1', 'ff00'), 'gw-1/ff00');
  assert.equal(incarnationNode('gw-1/ff00'), 'gw-1');
  assert.equal(defaultNodeId('web01.example.com'), 'web01-example-com');
  assert.equal(defaultNodeId('my host/é'), 'my-host--');
  assert.equal(defaultNodeId(''), 'node');
  assert.equal(defaultNodeId('x'.repeat(80)).length, 64);
});

void test('grant replies: the known words only', () => {
  for (const w of ['ok', 'LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'unknown', 'expired', 'stale', 'duplicate']) assert.equal(parseGrant(w), w);
  assert.equal(parseGrant(Buffer.from('ok')), 'ok');
  for (const bad of ['OK', '', 1, null, ['ok']]) assert.throws(() => parseGrant(bad), ReplyError);
});

void test('heartbeat replies: renewed (expiry, grants, epoch, expired incarnations) or unknown/expired', () => {
  assert.deepEqual(parseHeartbeat(['unknown']), { kind: 'unknown' });
  assert.deepEqual(parseHeartbeat(['expired']), { kind: 'expired' });
  assert.deepEqual(parseHeartbeat(['ok', '1700000001500', 3, '7', ['a/1', 'b/2']]), { kind: 'renewed', expiresAt: 1700000001500, grants: 3, epoch: '7', expired: ['a/1', 'b/2'] });
  for (const bad of [[], ['ok'], ['ok', 'x', 1, '1', []], ['ok', '1', 1, '1', 'a'], ['renewed', '1', 1, '1', []], 'ok', ['unknown', 1]]) {
    assert.throws(() => parseHeartbeat(bad), ReplyError, JSON.stringify(bad));
  }
});

void test('sync, reap and counts replies', () => {
  assert.equal(parseSync('1700000001500'), 1700000001500);
  assert.throws(() => parseSync('soon'), ReplyError);
  assert.deepEqual(parseReap([128, 0]), { released: 128, done: false });
  assert.deepEqual(parseReap([0, 1]), { released: 0, done: true });
  assert.throws(() => parseReap([1]), ReplyError);
  assert.deepEqual(parseCounts([3, ['10.0.0.1', '2', '10.0.0.2', '1', '10.0.0.3', '0'], ['h:22', '3']]), { open: 3, perClient: { '10.0.0.1': 2, '10.0.0.2': 1 }, perTarget: { 'h:22': 3 } });
  assert.throws(() => parseCounts([3, ['odd'], []]), ReplyError);
  assert.throws(() => parseCounts([3, [], []].slice(0, 2)), ReplyError);
});

void test('countRecords: one holder\'s slots among an incarnation\'s records; broken records are skipped', () => {
  const records = ['1 10.0.0.1 h:22', '1 10.0.0.1 h:23', '2 10.0.0.2 h:22', 'garbage'];
  assert.deepEqual(countRecords(records, '1'), { open: 2, perClient: { '10.0.0.1': 2 }, perTarget: { 'h:22': 1, 'h:23': 1 } });
  assert.deepEqual(countRecords(records, '3'), { open: 0, perClient: {}, perTarget: {} });
});

void test('the grant book: ids unique per holder, pending until granted, a lost holder dropped whole; a sync sends held pairs then pending fields', () => {
  const book = new GrantBook();
  const one = workerOwner(1);
  const two = workerOwner(2);
  const a = book.ask(one, 'a', '10.0.0.1', 'h:22');
  assert.equal(a, '1.a');
  assert.equal(book.ask(one, 'a', '10.0.0.1', 'h:22'), null, 'an id its holder already uses');
  const b = book.ask(two, 'a', '10.0.0.2', 'h:22');
  const c = book.ask(two, 'c', '10.0.0.2', 'h:23');
  assert.ok(a !== null && b !== null && c !== null);
  assert.equal(book.granted(a), true);
  assert.equal(book.granted(b), true);
  assert.deepEqual([book.held, book.pending], [2, 1]);
  assert.deepEqual(book.syncArgs(), ['2', '1.a', '1 10.0.0.1 h:22', '2.a', '2 10.0.0.2 h:22', '2.c']);
  assert.deepEqual(book.counts(two), { open: 1, perClient: { '10.0.0.2': 1 }, perTarget: { 'h:22': 1 } });
  const lost = book.dropHolder(two);
  assert.deepEqual(lost.map(([f]) => f), ['2.a', '2.c']);
  assert.equal(book.granted(c), false, 'an answer for a dropped grant finds nothing: the admission gives it back');
  assert.equal(book.drop(a)?.clientIp, '10.0.0.1');
  assert.equal(book.drop(a), undefined, 'dropping twice is harmless');
  assert.deepEqual(book.syncArgs(), ['0']);
});
