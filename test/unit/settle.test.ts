import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledWithin } from '../../src/util/settle.js';

void test('settledWithin: false when everything settles in time (rejections count as settled)', async () => {
  assert.equal(await settledWithin([Promise.resolve(1), Promise.reject(new Error('x')), new Promise((r) => setTimeout(r, 10))], 1000), false);
  assert.equal(await settledWithin([], 10), false);
});

void test('settledWithin: true when the deadline comes first, and no timer is left behind', async () => {
  const never = new Promise(() => undefined);
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(await settledWithin([never], 20), true);
  assert.equal(await settledWithin([Promise.resolve()], 60_000), false);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before, 'the 60 s timer was cleared');
});
