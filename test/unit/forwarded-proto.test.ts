import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestSecure } from '../../src/policy/forwarded-proto.js';
import { CidrSet } from '../../src/grammar/cidr.js';

const trusted = CidrSet.parse(['127.0.0.1', '10.0.0.0/8']);

void test('X-Forwarded-Proto from a trusted proxy decides the scheme; its right-most entry counts', () => {
  assert.equal(requestSecure('127.0.0.1', 'https', trusted, false), true);
  assert.equal(requestSecure('::ffff:127.0.0.1', 'HTTPS', trusted, false), true, 'a mapped IPv4 peer and any case');
  assert.equal(requestSecure('10.1.2.3', 'http', trusted, true), false, 'a TLS socket from a proxy that says the browser used http');
  assert.equal(requestSecure('127.0.0.1', 'http, https', trusted, false), true);
  assert.equal(requestSecure('127.0.0.1', ['https', 'http'], trusted, true), false, 'repeated headers: the last is the nearest proxy\'s');
});

void test('from an untrusted peer, or without a usable value, the socket decides', () => {
  assert.equal(requestSecure('192.0.2.7', 'https', trusted, false), false, 'a client cannot claim TLS');
  assert.equal(requestSecure('192.0.2.7', 'http', trusted, true), true);
  assert.equal(requestSecure('127.0.0.1', undefined, trusted, false), false);
  assert.equal(requestSecure('127.0.0.1', 'wss', trusted, false), false);
  assert.equal(requestSecure('127.0.0.1', ' , ', trusted, true), true);
  assert.equal(requestSecure(undefined, 'https', trusted, false), false, 'no peer (a destroyed socket)');
});
