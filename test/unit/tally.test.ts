import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tally } from '../../src/manager/tally.js';

void test('a new tally is empty and reads zero for any key', () => {
  const t = new Tally();
  assert.equal(t.get('1.2.3.4'), 0);
  assert.deepEqual(t.snapshot(), {});
});

void test('add counts per key', () => {
  const t = new Tally();
  t.add('a');
  t.add('a');
  t.add('b');
  assert.equal(t.get('a'), 2);
  assert.equal(t.get('b'), 1);
  assert.equal(t.get('c'), 0);
  assert.deepEqual(t.snapshot(), { a: 2, b: 1 });
});

void test('remove counts down and forgets a key at zero', () => {
  const t = new Tally();
  t.add('a');
  t.add('a');
  t.add('b');
  t.remove('a');
  assert.equal(t.get('a'), 1);
  assert.deepEqual(t.snapshot(), { a: 1, b: 1 });
  t.remove('a');
  assert.equal(t.get('a'), 0);
  assert.deepEqual(t.snapshot(), { b: 1 });
  assert.equal(Object.hasOwn(t.snapshot(), 'a'), false);
  t.remove('b');
  assert.deepEqual(t.snapshot(), {});
});

void test('remove of an absent key does not go negative or create an entry', () => {
  const t = new Tally();
  t.remove('ghost');
  t.remove('ghost');
  assert.equal(t.get('ghost'), 0);
  assert.deepEqual(t.snapshot(), {});
  // and a later add starts from zero, not from -2
  t.add('ghost');
  assert.equal(t.get('ghost'), 1);
});

void test('the snapshot never holds a zero (or negative) entry through many adds and removes', () => {
  const t = new Tally();
  const keys = ['10.0.0.1', '10.0.0.2', '[::1]:22', 'h:22'];
  const model = new Map<string, number>();
  let seed = 1;
  const rand = (): number => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const key = keys[Math.floor(rand() * keys.length)] ?? 'x';
    if (rand() < 0.5) {
      t.add(key);
      model.set(key, (model.get(key) ?? 0) + 1);
    } else {
      t.remove(key);
      const next = (model.get(key) ?? 0) - 1;
      if (next <= 0) model.delete(key);
      else model.set(key, next);
    }
    const snap = t.snapshot();
    for (const v of Object.values(snap)) assert.ok(v > 0);
    assert.deepEqual(snap, Object.fromEntries(model));
  }
});

void test('the snapshot is a copy: changing it does not change the tally, and later changes do not show in it', () => {
  const t = new Tally();
  t.add('a');
  const snap = t.snapshot();
  snap.a = 99;
  snap.z = 5;
  assert.equal(t.get('a'), 1);
  assert.equal(t.get('z'), 0);
  const before = t.snapshot();
  t.add('a');
  assert.deepEqual(before, { a: 1 });
});

void test('keys that look like object prototype members are ordinary keys', () => {
  const t = new Tally();
  t.add('__proto__');
  t.add('constructor');
  t.add('toString');
  assert.equal(t.get('__proto__'), 1);
  assert.equal(t.get('hasOwnProperty'), 0);
  const snap = t.snapshot();
  assert.equal(Object.hasOwn(snap, '__proto__'), true);
  assert.equal(snap.constructor, 1);
  assert.deepEqual(Object.keys(snap).sort(), ['__proto__', 'constructor', 'toString']);
});
