/** Share link tokens: signed, expiring, view-only; routing by owner before any check; the key named by its id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { randomKeyring } from '../../src/auth/keyring.js';
import { keyringOf, type KeyringSecret } from '../../src/auth/keyring-file.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { makeShareToken, shareTokenFromProtocols, shareTokenOwner, verifyShareToken } from '../../src/share/share-token.js';

const claims = { owner: workerOwner(3), sessionId: 'abc', linkId: 'L1', expiresAt: 2_000_000, mode: 'view' as const };
const payloadOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

void test('a token made with a keyring verifies with it, before its expiry, with the same claims', () => {
  const keyring = randomKeyring();
  const token = makeShareToken(keyring, claims);
  assert.match(token, /^3\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'OWNER.PAYLOAD.SIG, as before');
  assert.equal(shareTokenOwner(token), workerOwner(3));
  assert.equal(payloadOf(token)['kid'], keyring.current('share').id, 'the payload names the key');
  assert.deepEqual(verifyShareToken(keyring, token, 1_999_999), claims);
  assert.deepEqual(verifyShareToken(keyring, token, 2_000_000), { error: 'expired' });
});

void test('another keyring, a changed payload, a changed owner or a cut signature are refused', () => {
  const keyring = randomKeyring();
  const token = makeShareToken(keyring, claims);
  assert.deepEqual(verifyShareToken(randomKeyring(), token, 0), { error: 'bad signature' }, 'same id, another key');
  const [owner, payload, sig] = token.split('.') as [string, string, string];
  const other = Buffer.from(JSON.stringify({ ...payloadOf(token), s: 'other' })).toString('base64url');
  assert.deepEqual(verifyShareToken(keyring, `${owner}.${other}.${sig}`, 0), { error: 'bad signature' });
  assert.deepEqual(verifyShareToken(keyring, `4.${payload}.${sig}`, 0), { error: 'bad signature' });
  assert.deepEqual(verifyShareToken(keyring, `${owner}.${payload}.${sig.slice(1)}`, 0), { error: 'malformed token' });
  assert.deepEqual(verifyShareToken(keyring, 'junk', 0), { error: 'malformed token' });
  assert.equal(shareTokenOwner('junk'), null);
});

void test('a correctly signed payload that is not a view link of this shape is refused', () => {
  const keyring = randomKeyring();
  const { id, key } = keyring.current('share');
  // Sign an arbitrary payload as the format says (HMAC-SHA256 of OWNER.PAYLOAD), to check the payload rules alone.
  const signed = (p: unknown): string => {
    const head = `3.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
    return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
  };
  assert.deepEqual(verifyShareToken(keyring, signed({ v: 1, kid: id, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }), 0), claims);
  for (const bad of [{ v: 1, kid: id, s: 'abc', l: 'L1', e: 2_000_000, m: 'write' }, { v: 2, kid: id, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }, { v: 1, kid: id, s: 1, l: 'L1', e: 2_000_000, m: 'view' }, { v: 1, kid: id, s: 'abc', l: 'L1', e: '2000000', m: 'view' }, { v: 1, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }, { v: 1, kid: 7, s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }, [1, 2], 'text', null]) {
    assert.deepEqual(verifyShareToken(keyring, signed(bad), 0), { error: 'malformed payload' }, JSON.stringify(bad));
  }
  assert.deepEqual(verifyShareToken(keyring, signed({ v: 1, kid: 'nope', s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }), 0), { error: 'unknown key' });
  assert.deepEqual(verifyShareToken(keyring, signed({ v: 1, kid: 'not a key id!', s: 'abc', l: 'L1', e: 2_000_000, m: 'view' }), 0), { error: 'unknown key' });
});

void test('rotation: a link verifies while its key is listed, new links use the new first key, a removed key is refused', () => {
  const A: KeyringSecret = { id: 'key-a', secret: randomBytes(32) };
  const B: KeyringSecret = { id: 'key-b', secret: randomBytes(32) };
  const before = keyringOf([A]);
  const old = makeShareToken(before, claims);
  assert.equal(payloadOf(old)['kid'], 'key-a');
  // Step 1: B is added after A (every node learns it; A still signs).
  const added = keyringOf([A, B]);
  assert.deepEqual(verifyShareToken(added, old, 0), claims);
  assert.equal(payloadOf(makeShareToken(added, claims))['kid'], 'key-a', 'the first key still signs');
  // Step 2: B first: new links are B's, A's links still verify.
  const rotated = keyringOf([B, A]);
  const fresh = makeShareToken(rotated, claims);
  assert.equal(payloadOf(fresh)['kid'], 'key-b');
  assert.deepEqual(verifyShareToken(rotated, old, 0), claims);
  assert.deepEqual(verifyShareToken(rotated, fresh, 0), claims);
  assert.deepEqual(verifyShareToken(added, fresh, 0), claims, 'a node one step behind checks the new links');
  // Step 3: A removed: its links stop, B's go on.
  const after = keyringOf([B]);
  assert.deepEqual(verifyShareToken(after, old, 0), { error: 'unknown key' });
  assert.deepEqual(verifyShareToken(after, fresh, 0), claims);
  // The same id with another secret is another key.
  assert.deepEqual(verifyShareToken(keyringOf([{ id: 'key-a', secret: randomBytes(32) }]), old, 0), { error: 'bad signature' });
});

void test('the token can ride as a subprotocol entry; other entries are ignored', () => {
  assert.equal(shareTokenFromProtocols(undefined), null);
  assert.equal(shareTokenFromProtocols('webssh-bridge.v1'), null);
  assert.equal(shareTokenFromProtocols('webssh-bridge.v1, webssh-bridge.share.0.abc.def'), '0.abc.def');
  assert.equal(shareTokenFromProtocols(`webssh-bridge.share.1.x.y,webssh-bridge.v1`), '1.x.y');
});
