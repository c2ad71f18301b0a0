/** Request maps (src/util/requests.ts): a local Client asks and tells an Authority, typed by one map, naming its caller. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { local, type Authority } from '../../src/util/requests.js';

interface Counter {
  add: { args: { by: number }; result: number };
  reset: { args: Record<string, never>; result: void };
  fail: { args: Record<string, never>; result: number };
}

void test('a local client asks and waits, tells and goes on, and passes its caller to every request', async () => {
  const seen: string[] = [];
  let n = 0;
  const authority: Authority<Counter, string> = {
    add: (a, caller) => {
      seen.push(caller);
      n += a.by;
      return n;
    },
    reset: (_a, caller) => {
      seen.push(caller);
      n = 0;
    },
    fail: () => Promise.reject(new Error('no')),
  };
  const client = local(authority, 'w1');
  assert.equal(await client.ask('add', { by: 2 }), 2);
  assert.equal(await client.ask('add', { by: 3 }), 5);
  client.tell('reset', {});
  assert.equal(n, 0, 'told at once, in order');
  await assert.rejects(client.ask('fail', {}), /no/);
  assert.deepEqual(seen, ['w1', 'w1', 'w1']);
});
