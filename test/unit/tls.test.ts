/** src/http/tls.ts: reading and checking TLS files, reloading, and naming a verified client certificate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { loadTlsMaterial, loadTlsMaterialAsync, peerCertificateSubject, reloadTls, TlsMaterialError, tlsServerOptions } from '../../src/http/tls.js';
import { clientOptions, makePki, type KeyPair } from '../helpers/pki.js';

function config(flags: string[]): Config {
  const r = loadConfig(['--server-address', '127.0.0.1:0', ...flags], {});
  if (r.kind !== 'config') throw new Error('unexpected help');
  return r.config;
}

/** What peerCertificateSubject says about the server side of one connection from a client with `client`. */
async function subjectSeen(server: KeyPair, serverOpts: TlsOptions, client: KeyPair | null): Promise<string | null> {
  const srv = createTlsServer({ ...clientOptions(server), ...serverOpts });
  const seen = new Promise<string | null>((resolve) => srv.once('secureConnection', (s) => {
    resolve(peerCertificateSubject(s));
    s.end();
  }));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  assert.ok(addr !== null && typeof addr === 'object');
  const c = tlsConnect({ host: '127.0.0.1', port: addr.port, rejectUnauthorized: false, ...(client === null ? {} : clientOptions(client)) });
  c.on('error', () => undefined);
  c.resume();
  try {
    return await seen;
  } finally {
    c.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

void test('peerCertificateSubject: the CN of a verified client certificate, else the subject, else null', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const server = pki.selfSigned('server');
  const ca = pki.ca('ca');
  const otherCa = pki.ca('other');
  const alice = pki.client('alice', ca, '/O=Acme/OU=ops/CN=alice');
  const noCn = pki.client('nocn', ca, '/O=Acme/OU=ops');
  const stranger = pki.client('stranger', otherCa, '/CN=alice');
  const mutual: TlsOptions = { requestCert: true, rejectUnauthorized: true, ca: clientOptions(ca).cert };

  assert.equal(await subjectSeen(server, mutual, alice), 'alice');
  assert.equal(await subjectSeen(server, mutual, noCn), 'O=Acme, OU=ops');
  // Asked for but not verified (this server lets the handshake through): not an identity.
  assert.equal(await subjectSeen(server, { ...mutual, rejectUnauthorized: false }, stranger), null);
  assert.equal(await subjectSeen(server, { ...mutual, rejectUnauthorized: false }, null), null);
  // Not asked for.
  assert.equal(await subjectSeen(server, {}, alice), null);
  // Not a TLS socket at all.
  for (const x of [undefined, null, {}, { authorized: true, getPeerCertificate: () => ({ subject: { CN: 'forged' } }) }, new Socket()]) {
    assert.equal(peerCertificateSubject(x), null);
  }
});

void test('TLS files: each problem is an error naming the option and the file', async (t) => {
  const pki = makePki();
  t.after(() => pki.remove());
  const good = pki.selfSigned('good');
  const other = pki.selfSigned('other');
  const ca = pki.ca('ca');
  const missing = join(pki.dir, 'missing.pem');
  const garbage = join(pki.dir, 'garbage.pem');
  writeFileSync(garbage, 'garbage\n');
  const badPem = join(pki.dir, 'bad-block.pem');
  writeFileSync(badPem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');

  const cases: Array<[string[], RegExp]> = [
    [['--server-cert', missing, '--server-key', good.key], /^cannot read server-cert file .*missing\.pem: ENOENT/],
    [['--server-cert', good.cert, '--server-key', missing], /^cannot read server-key file .*missing\.pem/],
    [['--server-cert', good.cert, '--server-key', good.key, '--client-ca', missing], /^cannot read client-ca file .*missing\.pem/],
    [['--server-cert', garbage, '--server-key', good.key], /^invalid server-cert file .*garbage\.pem: no PEM certificate/],
    [['--server-cert', badPem, '--server-key', good.key], /^invalid server-cert file .*bad-block\.pem: certificate 1 does not parse/],
    [['--server-cert', good.cert, '--server-key', garbage], /^invalid server-key file .*garbage\.pem/],
    [['--server-cert', good.cert, '--server-key', good.key, '--client-ca', badPem], /^invalid client-ca file .*bad-block\.pem/],
    [['--server-cert', good.cert, '--server-key', other.key], /^server-cert file .*good\.pem and server-key file .*other\.key cannot be used together/],
  ];
  for (const [flags, pattern] of cases) {
    const c = config(flags);
    assert.throws(() => loadTlsMaterial(c), (err: Error) => err instanceof TlsMaterialError && pattern.test(err.message), flags.join(' '));
    await assert.rejects(loadTlsMaterialAsync(c), (err: Error) => err instanceof TlsMaterialError && pattern.test(err.message), flags.join(' '));
  }

  const plain = tlsServerOptions(config(['--server-cert', good.cert, '--server-key', good.key]));
  assert.equal(plain.requestCert, false);
  assert.equal(plain.minVersion, 'TLSv1.2');
  assert.equal(plain.ca, undefined);
  const mutual = tlsServerOptions(config(['--server-cert', good.cert, '--server-key', good.key, '--client-ca', ca.cert]));
  assert.equal(mutual.requestCert, true);
  assert.equal(mutual.rejectUnauthorized, true);
  assert.ok(Buffer.isBuffer(mutual.ca));
});

void test('reloadTls refuses a server without TLS', async () => {
  const server = createHttpServer();
  await assert.rejects(reloadTls(server, config([])), /does not speak TLS/);
});
