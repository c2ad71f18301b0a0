/** The facts one node vouches for when it relays a request to another (src/cluster/relay-facts.ts), and the owner registry's records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomKeyring, type Keyring } from '../../src/auth/keyring.js';
import { MAX_SKEW_MS, signFacts, verifyFacts } from '../../src/cluster/relay-facts.js';
import { decodeRelay, encodeRelay, relayKey, resumesKey } from '../../src/redis/owner-keys.js';
import type { RelayedFacts } from '../../src/http/relay.js';

const FACTS = { clientIp: '203.0.113.9', identity: { subject: 'alice', method: 'token', targets: ['db-*:22'], users: null, admin: false, files: 'write' } } as const satisfies RelayedFacts;
const NOW = 1_800_000_000_000;

/** A keyring whose relay keys are `ids` (the first current), each a fixed key. */
function ring(ids: readonly string[]): Keyring {
  const key = (id: string): Buffer => Buffer.alloc(32, id);
  return {
    current: () => ({ id: ids[0] ?? 'x', key: key(ids[0] ?? 'x') }),
    byId: (_purpose, id) => (ids.includes(id) ? key(id) : undefined),
  };
}

void test('facts signed for a request verify for that request, marked as relayed by a node', () => {
  const k = randomKeyring();
  const header = signFacts(k, FACTS, 'GET', '/ws/h/22?resume=x', NOW);
  assert.deepEqual(verifyFacts(k, header, 'GET', '/ws/h/22?resume=x', NOW + 1000), { ...FACTS, via: 'node' });
});

void test('refused: another request, too old or from the future, another keyring, a removed key, a changed byte, nothing', () => {
  const k = ring(['k1']);
  const header = signFacts(k, FACTS, 'GET', '/ws/h/22?resume=x', NOW);
  const why = (r: ReturnType<typeof verifyFacts>): string => ('error' in r ? r.error : 'accepted');
  assert.equal(why(verifyFacts(k, header, 'GET', '/ws/h/22?resume=y', NOW)), 'facts of another request');
  assert.equal(why(verifyFacts(k, header, 'POST', '/ws/h/22?resume=x', NOW)), 'facts of another request');
  assert.equal(why(verifyFacts(k, header, 'GET', '/ws/h/22?resume=x', NOW + MAX_SKEW_MS + 1)), 'facts too old (or the clocks differ)');
  assert.equal(why(verifyFacts(k, header, 'GET', '/ws/h/22?resume=x', NOW - MAX_SKEW_MS - 1)), 'facts too old (or the clocks differ)');
  assert.equal(why(verifyFacts(k, header, 'GET', '/ws/h/22?resume=x', NOW + MAX_SKEW_MS)), 'accepted');
  assert.equal(why(verifyFacts(randomKeyring(), header, 'GET', '/ws/h/22?resume=x', NOW)), 'unknown relay key k1');
  assert.equal(why(verifyFacts(ring(['k2']), header, 'GET', '/ws/h/22?resume=x', NOW)), 'unknown relay key k1');
  // Rotation: a key still listed verifies what it signed; new signatures use the current one.
  assert.equal(why(verifyFacts(ring(['k2', 'k1']), header, 'GET', '/ws/h/22?resume=x', NOW)), 'accepted');
  assert.match(signFacts(ring(['k2', 'k1']), FACTS, 'GET', '/', NOW), /^k2\./);
  const [id, payload, sig] = header.split('.');
  const flipped = `${id}.${payload}.${sig?.startsWith('A') ? 'B' : 'A'}${sig?.slice(1)}`;
  assert.equal(why(verifyFacts(k, flipped, 'GET', '/ws/h/22?resume=x', NOW)), 'bad signature');
  const lying = Buffer.from(JSON.stringify({ v: 1, ip: '10.0.0.1', id: FACTS.identity, at: NOW, m: 'GET', u: '/ws/h/22?resume=x' })).toString('base64url');
  assert.equal(why(verifyFacts(k, `${id}.${lying}.${sig}`, 'GET', '/ws/h/22?resume=x', NOW)), 'bad signature', 'facts cannot be changed under a signature');
  for (const bad of [undefined, '', 'junk', `${header}.x`, `k1..${sig}`]) assert.equal(why(verifyFacts(k, bad, 'GET', '/', NOW)), 'no or malformed facts', String(bad));
});

void test('the registry\'s records: a node\'s relay entry reads back; keys share the hash tag', () => {
  const rec = { incarnation: 'gw-1/0123abcd', address: '[::1]:7443' };
  assert.deepEqual(decodeRelay(encodeRelay(rec)), rec);
  for (const bad of [null, 3, '', 'one', 'a b c', ' a b']) assert.equal(decodeRelay(bad), null, String(bad));
  assert.equal(relayKey('gw-1'), '{uwsb}:relay:gw-1');
  assert.equal(resumesKey('gw-1/0123abcd'), '{uwsb}:resumes:gw-1/0123abcd');
});
