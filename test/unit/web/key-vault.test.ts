/**
 * A private key sealed under a storage passphrase (web/src/key-vault.ts), with Node 20's WebCrypto
 * (globalThis.crypto.subtle, the browser's API): the round trip, and a wrong passphrase or a
 * changed record fails cleanly (null, never a throw).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KDF_ITERATIONS, openKey, parseSealedKey, sealKey, vaultAvailable, type SealedKey } from '../../../web/src/key-vault.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA…ünïcödé\n-----END OPENSSH PRIVATE KEY-----\n';
const PASS = 'correct horse battery';

/** `text` with one base64 character changed (still base64, same length). */
const flip = (text: string, at: number): string => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;

void test('WebCrypto is there in Node 20', () => {
  assert.ok(vaultAvailable());
});

void test('a sealed key opens with its passphrase: PBKDF2-SHA256 600,000, 16-byte salt, 12-byte IV, fresh each time', async () => {
  const sealed = await sealKey(KEY, PASS);
  assert.equal(sealed.v, 1);
  assert.equal(sealed.iterations, KDF_ITERATIONS);
  assert.ok(KDF_ITERATIONS >= 600_000);
  assert.equal(Buffer.from(sealed.salt, 'base64').length, 16);
  assert.equal(Buffer.from(sealed.iv, 'base64').length, 12);
  assert.ok(!sealed.data.includes('PRIVATE'), 'the text is not in the record');
  assert.deepEqual(parseSealedKey(JSON.parse(JSON.stringify(sealed))), sealed, 'it survives storage as JSON');
  assert.equal(await openKey(sealed, PASS), KEY);
  const again = await sealKey(KEY, PASS);
  assert.notEqual(again.salt, sealed.salt);
  assert.notEqual(again.iv, sealed.iv);
  assert.notEqual(again.data, sealed.data);
});

void test('a wrong passphrase, or a changed record, gives null (no throw)', async () => {
  const sealed = await sealKey(KEY, PASS);
  assert.equal(await openKey(sealed, 'correct horse battery!'), null);
  assert.equal(await openKey(sealed, ''), null);
  const tampered: SealedKey = { ...sealed, data: flip(sealed.data, 10) };
  assert.equal(await openKey(tampered, PASS), null);
  assert.equal(await openKey({ ...sealed, iv: flip(sealed.iv, 3) }, PASS), null);
  assert.equal(await openKey({ ...sealed, salt: flip(sealed.salt, 3) }, PASS), null);
  // Not a record it accepts: refused before any key derivation.
  assert.equal(await openKey({ ...sealed, iterations: 1000 }, PASS), null);
  assert.equal(await openKey({ ...sealed, data: '%%%' }, PASS), null);
});

void test('parseSealedKey checks the shape, the sizes and the iteration count', () => {
  const b64 = (n: number): string => Buffer.alloc(n, 1).toString('base64');
  const ok = { v: 1, iterations: 600_000, salt: b64(16), iv: b64(12), data: b64(40) };
  assert.deepEqual(parseSealedKey(ok), ok);
  assert.deepEqual(parseSealedKey({ ...ok, extra: 'x' }), ok, 'only its own fields');
  for (const bad of [null, 'x', { ...ok, v: 2 }, { ...ok, iterations: 599_999 }, { ...ok, iterations: 6_000_000 }, { ...ok, iterations: 600_000.5 },
    { ...ok, salt: b64(15) }, { ...ok, iv: b64(16) }, { ...ok, data: b64(16) }, { ...ok, data: b64(30_000) }, { ...ok, data: 'abc' }]) {
    assert.equal(parseSealedKey(bad), null, JSON.stringify(bad).slice(0, 80));
  }
});
