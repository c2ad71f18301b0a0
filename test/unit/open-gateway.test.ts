import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { listenSafetyError, openGatewayError } from '../../src/http/server.js';

function config(args: string[]): Config {
  const r = loadConfig(args, {});
  if (r.kind !== 'config') throw new Error('unexpected help');
  return r.config;
}

void test('openGatewayError: loopback listeners never need a target list', () => {
  for (const address of ['127.0.0.1:0', '127.1.2.3:8080', '[::1]:0', 'localhost:0']) {
    assert.equal(openGatewayError(config(['--server-address', address]), false), null, address);
  }
});

void test('openGatewayError: a non-loopback listener without allow-targets is refused, with the why and the fixes', () => {
  for (const address of ['0.0.0.0:8080', ':8080', '192.0.2.1:8080', '[::]:8080', 'bridge.example:8080']) {
    const msg = openGatewayError(config(['--server-address', address, '--insecure-http']), false);
    assert.ok(msg !== null, address);
    assert.match(msg, /^refusing/, 'the CLI maps "refusing" start errors to exit 2');
    assert.match(msg, /open SSH gateway/);
    assert.match(msg, /scan and attack/);
    for (const fix of ['--allow-targets', '--target', '--allow-any-target']) assert.ok(msg.includes(fix), fix);
  }
});

void test('openGatewayError: --allow-targets, --target or --allow-any-target each lift the rule; deny lists do not', () => {
  const base = ['--server-address', '0.0.0.0:8080', '--insecure-http'];
  assert.equal(openGatewayError(config([...base, '--allow-targets', '10.0.0.0/8:22']), false), null);
  assert.equal(openGatewayError(config([...base, '--target', 'ssh.internal:22']), false), null);
  assert.equal(openGatewayError(config([...base, '--allow-any-target']), false), null);
  assert.notEqual(openGatewayError(config([...base, '--deny-targets', '10.0.0.0/8', '--deny-private-targets']), false), null);
  assert.notEqual(openGatewayError(config([...base, '--allow-any-target=false']), false), null);
});

void test('the TLS rule is independent: both can apply, TLS is reported first by App.listen', () => {
  const c = config(['--server-address', '0.0.0.0:8080']);
  assert.notEqual(listenSafetyError(c), null);
  assert.notEqual(openGatewayError(c, false), null);
});

void test('openGatewayError: gateway authentication also lifts the rule, and the message names it', () => {
  const c = config(['--server-address', '0.0.0.0:8080', '--insecure-http']);
  assert.equal(openGatewayError(c, true), null);
  assert.match(openGatewayError(c, false) ?? '', /--auth-tokens/);
});
