/** Where a request for a session goes (src/http/relay-route.ts): at most one node and one worker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { relayRoute } from '../../src/http/relay-route.js';

const ALL = { worker: true, node: true };
const to = (r: ReturnType<typeof relayRoute>): string => (r.to === 'node' ? `node ${r.node}` : r.to);

void test('one node: its own worker here, another worker over the worker relay, never a node', () => {
  const self = workerOwner(1);
  assert.equal(to(relayRoute(workerOwner(1), self, 'client', ALL)), 'here');
  assert.equal(to(relayRoute(workerOwner(2), self, 'client', ALL)), 'worker');
  assert.equal(to(relayRoute(workerOwner(2), self, 'client', { worker: false, node: false })), 'nowhere');
  assert.equal(to(relayRoute(workerOwner(2), self, 'worker', ALL)), 'nowhere', 'a worker\'s relay goes no further');
});

void test('a cluster: another node from a client only; from another node, on to a worker of this node', () => {
  const self = workerOwner(1, 'gw-1');
  assert.equal(to(relayRoute(workerOwner(1, 'gw-1'), self, 'node', ALL)), 'here');
  assert.equal(to(relayRoute(workerOwner(2, 'gw-1'), self, 'node', ALL)), 'worker', 'another node\'s relay may reach the worker holding the session');
  assert.equal(to(relayRoute(workerOwner(2, 'gw-1'), self, 'worker', ALL)), 'nowhere');
  assert.equal(to(relayRoute(workerOwner(0, 'gw-2'), self, 'client', ALL)), 'node gw-2');
  assert.equal(to(relayRoute(workerOwner(0, 'gw-2'), self, 'client', { worker: true, node: false })), 'nowhere', 'no relay to other nodes here');
  assert.equal(to(relayRoute(workerOwner(0, 'gw-2'), self, 'node', ALL)), 'nowhere', 'never a third node');
  assert.equal(to(relayRoute(workerOwner(0, 'gw-2'), self, 'worker', ALL)), 'nowhere');
  // A token of a gateway of one node reaching a cluster node (or the reverse) names no node to go to.
  assert.equal(to(relayRoute(workerOwner(0), self, 'client', ALL)), 'nowhere');
  assert.equal(to(relayRoute(workerOwner(0, 'gw-2'), workerOwner(0), 'client', ALL)), 'node gw-2');
});
