import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { JwtVerifier, looksLikeJwt } from '../../src/auth/jwt.js';
import { AuthSetupError } from '../../src/auth/tokens.js';
import { BridgeError } from '../../src/errors.js';

const ISS = 'https://idp.example';
const AUD = 'webssh-bridge';
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function sign(claims: Record<string, unknown>, opts: { exp?: string | number | null; iss?: string; aud?: string; key?: typeof privateKey } = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setIssuer(opts.iss ?? ISS).setAudience(opts.aud ?? AUD);
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? '5m');
  return jwt.sign(opts.key ?? privateKey);
}

function verifier(t: { after(fn: () => void): void }): JwtVerifier {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pub.pem');
  writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
  return new JwtVerifier({ jwksUrl: null, publicKeyFile: file, issuer: ISS, audience: AUD });
}

async function rejects(v: JwtVerifier, token: string, detail: RegExp): Promise<void> {
  await assert.rejects(v.verify(token), (err: unknown) => {
    assert.ok(err instanceof BridgeError);
    assert.equal(err.code, 'BRIDGE_AUTH_INVALID');
    assert.match(err.detail ?? '', detail);
    assert.ok(!err.message.includes(token), 'the token is never in the error');
    return true;
  });
}

void test('a valid token yields its subject and claim restrictions', async (t) => {
  const v = verifier(t);
  const id = await v.verify(await sign({ sub: 'alice@example', webssh_users: ['alice'], webssh_targets: ['*.lab.example:22'] }));
  assert.equal(id.method, 'jwt');
  assert.equal(id.subject, 'alice@example');
  assert.deepEqual(id.users, ['alice']);
  assert.equal(id.targets?.length, 1);
});

void test('expired, wrong audience, wrong issuer, no exp, wrong key: each refused with its reason', async (t) => {
  const v = verifier(t);
  await rejects(v, await sign({ sub: 'a' }, { exp: Math.floor(Date.now() / 1000) - 120 }), /expired/);
  await rejects(v, await sign({ sub: 'a' }, { aud: 'someone-else' }), /claim aud not accepted/);
  await rejects(v, await sign({ sub: 'a' }, { iss: 'https://evil.example' }), /claim iss not accepted/);
  await rejects(v, await sign({ sub: 'a' }, { exp: null }), /claim exp missing/);
  await rejects(v, await sign({ sub: 'a' }, { key: other.privateKey }), /bad signature/);
  await rejects(v, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.', /malformed|not accepted/);
  await rejects(v, await sign({ sub: 'a', webssh_users: 7 }), /webssh_users/);
});

void test('an HMAC token signed with the public key as secret is refused (algorithm confusion)', async (t) => {
  const v = verifier(t);
  const secret = new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const forged = await new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(secret);
  await rejects(v, forged, /algorithm|not accepted/);
});

void test('an unreadable public key is a setup error naming the option', () => {
  assert.throws(() => new JwtVerifier({ jwksUrl: null, publicKeyFile: '/nonexistent/pub.pem', issuer: ISS, audience: AUD }), (err: Error) => {
    assert.ok(err instanceof AuthSetupError);
    assert.match(err.message, /auth-jwt-public-key \/nonexistent\/pub\.pem/);
    return true;
  });
});

void test('looksLikeJwt tells three-segment tokens from opaque ones', () => {
  assert.equal(looksLikeJwt('a.b.c'), true);
  assert.equal(looksLikeJwt('a.b.'), true);
  assert.equal(looksLikeJwt('abc'), false);
  assert.equal(looksLikeJwt('a.b'), false);
});

void test('with a public key and a JWKS, a token whose algorithm only the JWKS key fits is still accepted', async (t) => {
  const { createServer } = await import('node:http');
  const { exportJWK } = await import('jose');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256' };
  const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const v = new JwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks`, publicKeyFile: join(dir, 'pub.pem'), issuer: ISS, audience: AUD });
  const token = await new SignJWT({ sub: 'svc' }).setProtectedHeader({ alg: 'RS256', kid: 'r1' }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(rsa.privateKey);
  assert.equal((await v.verify(token)).subject, 'svc');
  assert.equal((await v.verify(await sign({ sub: 'static' }))).subject, 'static', 'the ES256 static key still works');
});
