/** File tokens (src/session/files-token.ts): pure functions of (keyring, clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { randomKeyring } from '../../src/auth/keyring.js';
import { keyringOf } from '../../src/auth/keyring-file.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { makeShareToken, verifyShareToken } from '../../src/share/share-token.js';
import { filesTokenOwner, makeFilesToken, verifyFilesToken } from '../../src/session/files-token.js';

const keyring = randomKeyring();
const NOW = 1_800_000_000_000;
const files = { owner: workerOwner(3), kind: 'files' as const, sessionId: 'abc123', expiresAt: NOW + 1000 };
const payloadOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

void test('a files token round-trips and names its owner and key', () => {
  const token = makeFilesToken(keyring, files);
  assert.match(token, /^3\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(filesTokenOwner(token), workerOwner(3));
  assert.equal(payloadOf(token)['kid'], keyring.current('share').id);
  assert.deepEqual(verifyFilesToken(keyring, token, 'files', NOW), { ...files, nonce: undefined, path: undefined });
});

void test('a download token carries its nonce and path, Unicode included', () => {
  const token = makeFilesToken(keyring, { ...files, kind: 'download', nonce: 'n1', path: 'dir/héllo ✓.txt' });
  const claims = verifyFilesToken(keyring, token, 'download', NOW);
  assert.ok(!('error' in claims));
  assert.equal(claims.path, 'dir/héllo ✓.txt');
  assert.equal(claims.nonce, 'n1');
});

void test('refusals: expiry, another key, a changed payload or signature, the wrong kind, garbage', () => {
  const token = makeFilesToken(keyring, files);
  assert.deepEqual(verifyFilesToken(keyring, token, 'files', NOW + 1000), { error: 'expired' });
  assert.deepEqual(verifyFilesToken(randomKeyring(), token, 'files', NOW), { error: 'bad signature' });
  const [owner, , sig] = token.split('.') as [string, string, string];
  const changed = Buffer.from(JSON.stringify({ ...payloadOf(token), s: 'other' })).toString('base64url');
  assert.deepEqual(verifyFilesToken(keyring, `${owner}.${changed}.${sig}`, 'files', NOW), { error: 'bad signature' });
  const flipped = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  assert.deepEqual(verifyFilesToken(keyring, flipped, 'files', NOW), { error: 'bad signature' });
  assert.deepEqual(verifyFilesToken(keyring, token.replace(/^3\./, '4.'), 'files', NOW), { error: 'bad signature' }, 'the owner prefix is signed');
  assert.deepEqual(verifyFilesToken(keyring, token, 'download', NOW), { error: 'not a download token' });
  for (const bad of ['', 'x', '3.', '3.a.b', `3.${'a'.repeat(10)}`]) assert.deepEqual(verifyFilesToken(keyring, bad, 'files', NOW), { error: 'malformed token' }, bad);
  const noKid = Buffer.from(JSON.stringify({ v: 1, k: 'files', s: 'abc123', e: NOW + 1000 })).toString('base64url');
  assert.deepEqual(verifyFilesToken(keyring, `3.${noKid}.${sig}`, 'files', NOW), { error: 'malformed payload' });
  assert.equal(filesTokenOwner('nope'), null);
});

void test('a share link never verifies as a file token, nor the reverse (separate keys)', () => {
  const share = makeShareToken(keyring, { owner: workerOwner(0), sessionId: 's', linkId: 'l', expiresAt: NOW + 1000, mode: 'view' });
  assert.deepEqual(verifyFilesToken(keyring, share, 'files', NOW), { error: 'bad signature' });
  const token = makeFilesToken(keyring, files);
  assert.deepEqual(verifyShareToken(keyring, token, NOW), { error: 'bad signature' });
});

void test('rotation: a token verifies while its key is listed, and is refused once it is removed', () => {
  const A = { id: 'a', secret: randomBytes(32) };
  const B = { id: 'b', secret: randomBytes(32) };
  const old = makeFilesToken(keyringOf([A]), files);
  const rotated = keyringOf([B, A]);
  assert.deepEqual(verifyFilesToken(rotated, old, 'files', NOW), { ...files, nonce: undefined, path: undefined });
  const fresh = makeFilesToken(rotated, files);
  assert.equal(payloadOf(fresh)['kid'], 'b');
  assert.deepEqual(verifyFilesToken(keyringOf([B]), old, 'files', NOW), { error: 'unknown key' });
  assert.deepEqual(verifyFilesToken(keyringOf([B]), fresh, 'files', NOW), { ...files, nonce: undefined, path: undefined });
});
