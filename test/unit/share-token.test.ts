/** Share link tokens: signed, expiring, view-only; routing by owner before any check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { makeShareToken, newShareKey, shareTokenFromProtocols, shareTokenOwner, verifyShareToken } from '../../src/share/share-token.js';

const claims = { owner: workerOwner(3), sessionId: 'abc', linkId: 'L1', expiresAt: 2_000_000, mode: 'view' as const };

void test('a token made with a key verifies with it, before its expiry, with the same claims', () => {
  const key = newShareKey();
  const token = makeShareToken(key, claims);
  assert.equal(shareTokenOwner(token), workerOwner(3));
  assert.deepEqual(verifyShareToken(key, token, 1_999_999), claims);
  assert.deepEqual(verifyShareToken(key, token, 2_000_000), { error: 'expired' });
});

void test('another key, a changed payload, a changed owner or a cut signature are refused', () => {
  const key = newShareKey();
  const token = makeShareToken(key, claims);
  assert.deepEqual(verifyShareToken(newShareKey(), token, 0), { error: 'bad signature' });
  const [owner, payload, sig] = token.split('.') as [string, string, string];
  const other = Buffer.from(JSON.stringify({ v: 1, s: 'other', l: 'L1', e: 2_000_000, m: 'view' })).toString('base64url');
  assert.deepEqual(verifyShareToken(key, `${owner}.${other}.${sig}`, 0), { error: 'bad signature' });
  assert.deepEqual(verifyShareToken(key, `4.${payload}.${sig}`, 0), { error: 'bad signature' });
  assert.deepEqual(verifyShareToken(key, `${owner}.${payload}.${sig.slice(1)}`, 0), { error: 'malformed token' });
  assert.deepEqual(verifyShareToken(key, 'junk', 0), { error: 'malformed token' });
  assert.equal(shareTokenOwner('junk'), null);
});

void test('a correctly signed payload that is not a view link of this shape is refused', () => {
  const key = newShareKey();
  // Sign an arbitrary payload as the format says (HMAC-SHA256 of OWNER.PAYLOAD), to check the payload rules alone.
  const signed = (p: unknown): string => {
    const head = `3.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
    return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
  };
  assert.deepEqual(verifyShareToken(key, signed({ v: 1, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }), 0), claims);
  for (const bad of [{ v: 1, s: 'abc', l: 'L1', e: 2_000_000, m: 'write' }, { v: 2, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }, { v: 1, s: 1, l: 'L1', e: 2_000_000, m: 'view' }, { v: 1, s: 'abc', l: 'L1', e: '2000000', m: 'view' }, [1, 2]]) {
    assert.deepEqual(verifyShareToken(key, signed(bad), 0), { error: 'malformed payload' }, JSON.stringify(bad));
  }
});

void test('the token can ride as a subprotocol entry; other entries are ignored', () => {
  assert.equal(shareTokenFromProtocols(undefined), null);
  assert.equal(shareTokenFromProtocols('webssh-bridge.v1'), null);
  assert.equal(shareTokenFromProtocols('webssh-bridge.v1, webssh-bridge.share.0.abc.def'), '0.abc.def');
  assert.equal(shareTokenFromProtocols(`webssh-bridge.share.1.x.y,webssh-bridge.v1`), '1.x.y');
});
