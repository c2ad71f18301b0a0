/** The slot ledger without sockets: limits checked and taken in one step, grants by holder, a holder's slots given back at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { SlotLedger } from '../../src/manager/ledger.js';

const W0 = workerOwner(0);
const W1 = workerOwner(1);
const W2 = workerOwner(2);
const W3 = workerOwner(3);

const limits = (total: number, perHost: number, perTarget: number): SlotLedger =>
  new SlotLedger({ connMaxTotal: total, connMaxPerHost: perHost, connMaxPerTarget: perTarget });

void test('limits are checked and taken in one step; release is idempotent', () => {
  const l = limits(3, 2, 2);
  assert.deepEqual(l.grant(W0, 'g1', '192.0.2.1', 't1'), { ok: true });
  assert.deepEqual(l.grant(W0, 'g2', '192.0.2.1', 't2'), { ok: true });
  assert.deepEqual(l.grant(W0, 'g3', '192.0.2.1', 't3'), { ok: false, code: 'LIMIT_PER_IP' });
  assert.deepEqual(l.grant(W0, 'g4', '192.0.2.2', 't1'), { ok: true });
  assert.deepEqual(l.grant(W0, 'g5', '192.0.2.3', 't9'), { ok: false, code: 'LIMIT_TOTAL' });
  assert.deepEqual(l.release(W0, 'g1'), { holder: W0, clientIp: '192.0.2.1', targetKey: 't1' });
  assert.equal(l.release(W0, 'g1'), undefined);
  assert.equal(l.counts().open, 2);
  assert.deepEqual(l.grant(W0, 'g6', '192.0.2.3', 't1'), { ok: true });
  assert.deepEqual(l.grant(W0, 'g7', '192.0.2.4', 't1'), { ok: false, code: 'LIMIT_TOTAL' });
  l.release(W0, 'g2');
  assert.deepEqual(l.grant(W0, 'g8', '192.0.2.4', 't1'), { ok: false, code: 'LIMIT_PER_TARGET' });
});

void test('ids are their holder\'s: the same id under two holders is two grants, a duplicate under one is refused, a release names its holder', () => {
  const l = limits(10, 10, 10);
  assert.deepEqual(l.grant(W1, 'a', '192.0.2.1', 't'), { ok: true });
  assert.deepEqual(l.grant(W2, 'a', '192.0.2.2', 't'), { ok: true });
  assert.deepEqual(l.grant(W1, 'a', '192.0.2.3', 't'), { ok: false, code: 'INTERNAL' }, 'an id in use');
  assert.equal(l.counts().open, 2, 'a refused duplicate takes nothing');
  assert.equal(l.release(W3, 'a'), undefined, 'another holder cannot give it back');
  assert.equal(l.release(W2, 'a')?.clientIp, '192.0.2.2');
  assert.deepEqual(l.counts(), { open: 1, perClient: { '192.0.2.1': 1 }, perTarget: { t: 1 } });
});

void test('a limit refusal records nothing: no holder, client or target is left behind', () => {
  const l = limits(1, 1, 1);
  l.grant(W1, 'a', '192.0.2.1', 't');
  for (let i = 0; i < 100; i++) assert.deepEqual(l.grant(W2, `r${i}`, '192.0.2.2', 't'), { ok: false, code: 'LIMIT_TOTAL' });
  assert.deepEqual(l.counts(W2), { open: 0, perClient: {}, perTarget: {} });
  l.release(W1, 'a');
  assert.deepEqual(l.counts(), { open: 0, perClient: {}, perTarget: {} });
});

void test('counts by holder are each holder\'s share; the shares add up to the gateway\'s', () => {
  const l = limits(10, 10, 10);
  l.grant(W1, 'a', '192.0.2.1', 't1');
  l.grant(W1, 'b', '192.0.2.1', 't2');
  l.grant(W2, 'a', '192.0.2.1', 't1');
  l.grant(W2, 'b', '192.0.2.9', 't1');
  assert.deepEqual(l.counts(W1), { open: 2, perClient: { '192.0.2.1': 2 }, perTarget: { t1: 1, t2: 1 } });
  assert.deepEqual(l.counts(W2), { open: 2, perClient: { '192.0.2.1': 1, '192.0.2.9': 1 }, perTarget: { t1: 2 } });
  assert.deepEqual(l.counts(W3), { open: 0, perClient: {}, perTarget: {} });
  assert.deepEqual(l.counts(), { open: 4, perClient: { '192.0.2.1': 3, '192.0.2.9': 1 }, perTarget: { t1: 3, t2: 1 } });
});

void test('a holder that dies gives back everything it held, once, and nobody else\'s', () => {
  const l = limits(3, 3, 3);
  l.grant(W1, 'a', '192.0.2.1', 't1');
  l.grant(W1, 'b', '192.0.2.2', 't2');
  l.grant(W2, 'a', '192.0.2.1', 't1');
  assert.deepEqual(l.grant(W2, 'b', '192.0.2.3', 't3'), { ok: false, code: 'LIMIT_TOTAL' });
  const lost = l.releaseHolder(W1);
  assert.deepEqual(lost, [{ holder: W1, clientIp: '192.0.2.1', targetKey: 't1' }, { holder: W1, clientIp: '192.0.2.2', targetKey: 't2' }]);
  assert.deepEqual(l.releaseHolder(W1), []);
  assert.equal(l.release(W1, 'a'), undefined);
  assert.deepEqual(l.counts(), { open: 1, perClient: { '192.0.2.1': 1 }, perTarget: { t1: 1 } });
  assert.deepEqual(l.grant(W2, 'b', '192.0.2.3', 't3'), { ok: true }, 'the slots are free again');
});
