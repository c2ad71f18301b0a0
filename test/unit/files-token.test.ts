/** File tokens (src/session/files-token.ts): pure functions of (key, clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { makeShareToken, verifyShareToken } from '../../src/share/share-token.js';
import { filesKey, filesTokenOwner, makeFilesToken, verifyFilesToken } from '../../src/session/files-token.js';

const shareKey = randomBytes(32);
const key = filesKey(shareKey);
const NOW = 1_800_000_000_000;
const files = { owner: workerOwner(3), kind: 'files' as const, sessionId: 'abc123', expiresAt: NOW + 1000 };

void test('a files token round-trips and names its owner', () => {
  const token = makeFilesToken(key, files);
  assert.match(token, /^3\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(filesTokenOwner(token), workerOwner(3));
  assert.deepEqual(verifyFilesToken(key, token, 'files', NOW), { ...files, nonce: undefined, path: undefined });
});

void test('a download token carries its nonce and path, Unicode included', () => {
  const token = makeFilesToken(key, { ...files, kind: 'download', nonce: 'n1', path: 'dir/héllo ✓.txt' });
  const claims = verifyFilesToken(key, token, 'download', NOW);
  assert.ok(!('error' in claims));
  assert.equal(claims.path, 'dir/héllo ✓.txt');
  assert.equal(claims.nonce, 'n1');
});

void test('refusals: expiry, another key, a changed byte, the wrong kind, garbage', () => {
  const token = makeFilesToken(key, files);
  assert.deepEqual(verifyFilesToken(key, token, 'files', NOW + 1000), { error: 'expired' });
  assert.deepEqual(verifyFilesToken(filesKey(randomBytes(32)), token, 'files', NOW), { error: 'bad signature' });
  const flipped = token.replace(/\.([A-Za-z0-9_-])/, (_m, c: string) => `.${c === 'e' ? 'f' : 'e'}`);
  assert.deepEqual(verifyFilesToken(key, flipped, 'files', NOW), { error: 'bad signature' });
  assert.deepEqual(verifyFilesToken(key, token.replace(/^3\./, '4.'), 'files', NOW), { error: 'bad signature' }, 'the owner prefix is signed');
  assert.deepEqual(verifyFilesToken(key, token, 'download', NOW), { error: 'not a download token' });
  for (const bad of ['', 'x', '3.', '3.a.b', `3.${'a'.repeat(10)}`]) assert.deepEqual(verifyFilesToken(key, bad, 'files', NOW), { error: 'malformed token' }, bad);
  assert.equal(filesTokenOwner('nope'), null);
});

void test('a share link never verifies as a file token, nor the reverse (separate keys)', () => {
  const share = makeShareToken(shareKey, { owner: workerOwner(0), sessionId: 's', linkId: 'l', expiresAt: NOW + 1000, mode: 'view' });
  assert.deepEqual(verifyFilesToken(key, share, 'files', NOW), { error: 'bad signature' });
  const token = makeFilesToken(key, files);
  assert.deepEqual(verifyShareToken(shareKey, token, NOW), { error: 'bad signature' });
});
