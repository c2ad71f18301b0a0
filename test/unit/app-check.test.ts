import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App } from '../../src/app.js';
import { AuthSetupError } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { TlsMaterialError } from '../../src/http/tls.js';
import { TargetRuleError } from '../../src/grammar/target-rule.js';

function config(flags: string[]): Config {
  const r = loadConfig(flags, {});
  if (r.kind !== 'config') throw new Error('help');
  return r.config;
}

void test('App.check: what the constructor and listen() would refuse, without building an App', () => {
  assert.equal(App.check(config(['--system-known-hosts', '/nonexistent'])), null);
  assert.match(App.check(config(['--server-address', '0.0.0.0:8080', '--insecure-http'])) ?? '', /open SSH gateway/);
  assert.match(App.check(config(['--server-address', '0.0.0.0:8080'])) ?? '', /plain HTTP/);
  // A hand-built Config (the in-process API) can hold a rule the option table would refuse.
  assert.throws(() => App.check({ ...config([]), allowTargets: ['10.*'] }), TargetRuleError);
  assert.throws(() => App.check(config(['--server-cert', '/nonexistent/c.pem', '--server-key', '/nonexistent/k.pem'])), TlsMaterialError);
  assert.throws(() => App.check(config(['--auth-tokens', '/nonexistent/tokens'])), AuthSetupError);
});
