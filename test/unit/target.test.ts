import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DENY, denySet, resolveTarget } from '../../src/policy/target.js';
import type { LookupFn } from '../../src/policy/target.js';
import { BridgeError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';

type Answer = Array<{ address: string; family: 4 | 6 }>;

/** A lookup stub that answers from a table and counts its calls. */
function stub(table: Record<string, Answer | Error>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = (host: string): Promise<Answer> => {
    calls.push(host);
    const answer = table[host];
    if (answer === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(answer);
  };
  return Object.assign(fn, { calls });
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<BridgeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BridgeError);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const deny = denySet();

void test('DEFAULT_DENY covers the metadata and unspecified addresses', () => {
  for (const ip of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '0.0.0.0', '::']) {
    assert.ok(deny.has(ip), ip);
  }
  for (const ip of ['127.0.0.1', '10.0.0.1', '192.168.0.1', '::1', '0.0.0.1', '100.100.100.201', 'fd00:ec2::253']) {
    assert.ok(!deny.has(ip), ip);
  }
  assert.equal(deny.size, DEFAULT_DENY.length);
});

void test('denySet adds extra entries and rejects bad ones', () => {
  const set = denySet(['127.0.0.0/8', ' 10.0.0.0/8 ']);
  assert.ok(set.has('127.0.0.1'));
  assert.ok(set.has('10.1.2.3'));
  assert.ok(set.has('169.254.169.254'));
  assert.throws(() => denySet(['nonsense']), /not an IP/);
});

const deniedLiterals = ['169.254.169.254', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', 'fd00:ec2::254', 'FD00:EC2:0::254', '100.100.100.200', '0.0.0.0', '::', '::ffff:0.0.0.0', 'fe80::1'];
for (const literal of deniedLiterals) {
  void test(`IP literal ${literal} denied without a lookup`, async () => {
    const lookup = stub({});
    const err = await rejectsWith(resolveTarget(literal, 22, deny, lookup), 'TARGET_DENIED');
    assert.match(err.detail ?? '', /is in a denied range$/);
    assert.equal(lookup.calls.length, 0);
  });
}

void test('allowed IP literal: no lookup, canonical key', async () => {
  const lookup = stub({});
  assert.deepEqual(await resolveTarget('10.0.0.5', 2222, deny, lookup), {
    host: '10.0.0.5', port: 2222, address: '10.0.0.5', family: 4, key: '10.0.0.5:2222',
  });
  assert.deepEqual(await resolveTarget('2001:DB8:0:0::1', 22, deny, lookup), {
    host: '2001:DB8:0:0::1', port: 22, address: '2001:db8::1', family: 6, key: '[2001:db8::1]:22',
  });
  assert.equal(lookup.calls.length, 0);
});

void test('name resolving partly to metadata is denied', async () => {
  const lookup = stub({ 'evil.example': [{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }] });
  const err = await rejectsWith(resolveTarget('evil.example', 22, deny, lookup), 'TARGET_DENIED');
  assert.equal(err.detail, '169.254.169.254 is in a denied range');
  assert.deepEqual(lookup.calls, ['evil.example']);
});

void test('name resolving to an IPv4-mapped metadata address is denied', async () => {
  const lookup = stub({ 'sneaky.example': [{ address: '::ffff:169.254.169.254', family: 6 }] });
  await rejectsWith(resolveTarget('sneaky.example', 22, deny, lookup), 'TARGET_DENIED');
});

void test('name resolving to allowed addresses returns the first, in resolver order', async () => {
  const lookup = stub({ 'ssh.example': [{ address: '2001:db8::10', family: 6 }, { address: '192.0.2.10', family: 4 }] });
  assert.deepEqual(await resolveTarget('ssh.example', 22, deny, lookup), {
    host: 'ssh.example', port: 22, address: '2001:db8::10', family: 6, key: '[2001:db8::10]:22',
  });
});

void test('DNS failure -> DNS_FAILED with the cause kept', async () => {
  const cause = Object.assign(new Error('getaddrinfo EAI_AGAIN flaky.example'), { code: 'EAI_AGAIN' });
  const lookup = stub({ 'flaky.example': cause });
  const err = await rejectsWith(resolveTarget('flaky.example', 22, deny, lookup), 'DNS_FAILED');
  assert.equal(err.detail, 'flaky.example');
  assert.equal(err.cause, cause);
  await rejectsWith(resolveTarget('missing.example', 22, deny, lookup), 'DNS_FAILED');
});

void test('empty or non-IP answers -> DNS_FAILED', async () => {
  const lookup = stub({ 'empty.example': [], 'weird.example': [{ address: 'not-an-ip', family: 4 }] });
  await rejectsWith(resolveTarget('empty.example', 22, deny, lookup), 'DNS_FAILED');
  await rejectsWith(resolveTarget('weird.example', 22, deny, lookup), 'DNS_FAILED');
});

void test('localhost, 127.0.0.1 and IPv4-mapped forms share one key', async () => {
  const lookup = stub({ localhost: [{ address: '127.0.0.1', family: 4 }], mapped: [{ address: '::ffff:7f00:1', family: 6 }] });
  const keys = await Promise.all(
    ['localhost', '127.0.0.1', '::ffff:127.0.0.1', '::ffff:7f00:1', 'mapped'].map(async (h) => (await resolveTarget(h, 22, deny, lookup)).key),
  );
  assert.deepEqual(new Set(keys), new Set(['127.0.0.1:22']));
  const viaMapped = await resolveTarget('mapped', 22, deny, lookup);
  assert.equal(viaMapped.address, '127.0.0.1');
  assert.equal(viaMapped.family, 4);
});

void test('extra deny entries apply to resolved names', async () => {
  const lookup = stub({ localhost: [{ address: '::1', family: 6 }] });
  await rejectsWith(resolveTarget('localhost', 22, denySet(['::1']), lookup), 'TARGET_DENIED');
  assert.equal((await resolveTarget('localhost', 22, deny, lookup)).key, '[::1]:22');
});
