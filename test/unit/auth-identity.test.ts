import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANONYMOUS, filesFromClaims, mayWriteFiles, readOnlyWhy, restrictionsFromClaims, targetAllowed, userAllowed, type Identity } from '../../src/auth/identity.js';

function restricted(claims: Record<string, unknown>): Identity {
  return { method: 'jwt', subject: 's', ...restrictionsFromClaims(claims), admin: false, files: 'write' };
}

void test('no claims: any user, any target (the operator policy still applies elsewhere)', () => {
  const id = restricted({ sub: 'x' });
  assert.equal(userAllowed(id, 'root'), true);
  assert.equal(targetAllowed(id, 'anything.example', 22, '192.0.2.9'), true);
  assert.equal(userAllowed(ANONYMOUS, 'root'), true);
});

void test('webssh_users: exact names and * ? globs, nothing else is special', () => {
  const id = restricted({ webssh_users: ['alice', 'ops-*', 'dev?'] });
  for (const u of ['alice', 'ops-1', 'ops-', 'dev1']) assert.equal(userAllowed(id, u), true, u);
  for (const u of ['root', 'alice2', 'xops-1', 'dev12', 'dev']) assert.equal(userAllowed(id, u), false, u);
  const dotted = restricted({ webssh_users: 'a.b' });
  assert.equal(userAllowed(dotted, 'a.b'), true);
  assert.equal(userAllowed(dotted, 'axb'), false, 'a dot is literal');
});

void test('webssh_targets: name rules match names, IP rules match the dialed address, ports respected', () => {
  const id = restricted({ webssh_targets: ['*.lab.example:22', '10.0.0.0/8:2222'] });
  assert.equal(targetAllowed(id, 'a.lab.example', 22, '192.0.2.1'), true);
  assert.equal(targetAllowed(id, 'a.lab.example', 23, '192.0.2.1'), false);
  assert.equal(targetAllowed(id, 'other.example', 2222, '10.1.2.3'), true, 'address covered by an IP rule');
  assert.equal(targetAllowed(id, '10.1.2.3', 22, '10.1.2.3'), false);
  assert.equal(targetAllowed(id, '10.1.2.3', 2222, '10.1.2.3'), true);
});

void test('claims of the wrong shape are refused, naming the claim', () => {
  assert.throws(() => restrictionsFromClaims({ webssh_users: [1] }), /webssh_users/);
  assert.throws(() => restrictionsFromClaims({ webssh_users: [''] }), /webssh_users/);
  assert.throws(() => restrictionsFromClaims({ webssh_targets: {} }), /webssh_targets/);
  assert.throws(() => restrictionsFromClaims({ webssh_targets: ['not a rule!'] }), /webssh_targets/);
});

void test('webssh_files: absent or "write" is write, "read" is read, anything else names the claim', () => {
  assert.equal(filesFromClaims({}), 'write');
  assert.equal(filesFromClaims({ webssh_files: 'write' }), 'write');
  assert.equal(filesFromClaims({ webssh_files: 'read' }), 'read');
  for (const bad of ['none', 'READ', true, 1, null, ['read']]) assert.throws(() => filesFromClaims({ webssh_files: bad }), /webssh_files/);
});

void test('mayWriteFiles: the identity\'s own word, then files-upload-subjects when it lists any', () => {
  const who = (subject: string, files: 'read' | 'write' = 'write') => ({ subject, files });
  assert.equal(mayWriteFiles(who('anyone'), []), true, 'no list: everyone');
  assert.equal(mayWriteFiles(who('anyone', 'read'), []), false, 'the claim narrows');
  assert.equal(mayWriteFiles(who('ci-build'), ['ci-*', 'alice@idp']), true);
  assert.equal(mayWriteFiles(who('alice@idp'), ['ci-*', 'alice@idp']), true);
  assert.equal(mayWriteFiles(who('alice@idp', 'read'), ['ci-*', 'alice@idp']), false, 'the claim cannot be widened by the list');
  assert.equal(mayWriteFiles(who('Alice@idp'), ['alice@idp']), false, 'case-sensitive');
  assert.equal(mayWriteFiles(who('viewer'), ['ci-*']), false);
});

void test('readOnlyWhy names where the read-only word came from: the JWT claim, the token flag, or the operator\'s list', () => {
  assert.equal(readOnlyWhy({ method: 'jwt', files: 'read' }), 'webssh_files is "read"');
  assert.equal(readOnlyWhy({ method: 'token', files: 'read' }), 'the token is files=read');
  assert.equal(readOnlyWhy({ method: 'jwt', files: 'write' }), 'not in files-upload-subjects');
  assert.equal(readOnlyWhy({ method: 'proxy', files: 'write' }), 'not in files-upload-subjects');
});
