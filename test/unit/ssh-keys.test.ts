/**
 * src/ssh/keys.ts with real keys made by ssh-keygen: which private keys fail before connecting,
 * and with which code (SSH_KEY_INVALID vs SSH_KEY_PASSPHRASE). No error may quote the key or
 * the passphrase.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeError, type ErrorCode } from '../../src/errors.js';
import { parsePrivateKey } from '../../src/ssh/keys.js';

const PASS = 'uwsb-Key-pass-9';
const PEM_PASS = 'pem-pass-5';

function expectCode(fn: () => unknown, code: ErrorCode, secrets: string[]): BridgeError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof BridgeError, `expected a BridgeError ${code}`);
  assert.equal(caught.code, code);
  for (const s of [caught.message, caught.detail ?? '', caught.reasonDetail ?? '']) {
    for (const secret of secrets) assert.ok(!s.includes(secret), `secret in error text: ${s}`);
    assert.ok(!s.includes('PRIVATE KEY'), `key text in error: ${s}`);
  }
  return caught;
}

void describe('parsePrivateKey with keys from ssh-keygen', () => {
  let dir = '';
  const keys: Record<string, string> = {};
  const keygen = (name: string, args: string[]): void => {
    execFileSync('ssh-keygen', ['-q', ...args, '-C', 'uwsb-unit', '-f', join(dir, name)], { stdio: 'pipe' });
    keys[name] = readFileSync(join(dir, name), 'utf8');
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'uwsb-keys-'));
    keygen('ed25519-enc', ['-t', 'ed25519', '-N', PASS]);
    keygen('ed25519-plain', ['-t', 'ed25519', '-N', '']);
    keygen('rsa-pem-enc', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', PEM_PASS]); // PEM needs >= 5 characters
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });
  const key = (name: string): string => keys[name] ?? assert.fail(`no key ${name}`);

  void it('an unencrypted key parses without a passphrase, and ignores one', () => {
    assert.equal(parsePrivateKey(key('ed25519-plain'), undefined).type, 'ssh-ed25519');
    assert.equal(parsePrivateKey(key('ed25519-plain'), 'unused').type, 'ssh-ed25519');
    assert.equal(parsePrivateKey(key('ed25519-plain'), '').type, 'ssh-ed25519');
  });

  void it('an encrypted ed25519 key parses with the right passphrase', () => {
    const parsed = parsePrivateKey(key('ed25519-enc'), PASS);
    assert.equal(parsed.type, 'ssh-ed25519');
    assert.ok(parsed.isPrivateKey());
  });

  void it('an encrypted key without a passphrase (absent or empty) is SSH_KEY_PASSPHRASE', () => {
    const e = expectCode(() => parsePrivateKey(key('ed25519-enc'), undefined), 'SSH_KEY_PASSPHRASE', [PASS]);
    assert.match(String((e.cause as Error).message), /Encrypted private OpenSSH key detected, but no passphrase given/);
    assert.match(e.detail ?? '', /no passphrase was given/);
    expectCode(() => parsePrivateKey(key('ed25519-enc'), ''), 'SSH_KEY_PASSPHRASE', [PASS]);
  });

  void it('an encrypted key with a wrong passphrase is SSH_KEY_PASSPHRASE', () => {
    const wrong = 'Wrong-passphrase-77';
    const e = expectCode(() => parsePrivateKey(key('ed25519-enc'), wrong), 'SSH_KEY_PASSPHRASE', [PASS, wrong]);
    assert.match(String((e.cause as Error).message), /bad passphrase/);
    assert.match(e.detail ?? '', /does not decrypt/);
  });

  void it('an encrypted PEM (RSA) key: right passphrase works, wrong or missing is SSH_KEY_PASSPHRASE', () => {
    assert.equal(parsePrivateKey(key('rsa-pem-enc'), PEM_PASS).type, 'ssh-rsa');
    expectCode(() => parsePrivateKey(key('rsa-pem-enc'), undefined), 'SSH_KEY_PASSPHRASE', [PEM_PASS]);
    expectCode(() => parsePrivateKey(key('rsa-pem-enc'), 'nope-nope'), 'SSH_KEY_PASSPHRASE', [PEM_PASS]);
  });

  void it('garbage, a truncated key and a public key are SSH_KEY_INVALID', () => {
    const plain = key('ed25519-plain');
    expectCode(() => parsePrivateKey('this is not a key', undefined), 'SSH_KEY_INVALID', []);
    expectCode(() => parsePrivateKey(plain.slice(0, 120), undefined), 'SSH_KEY_INVALID', []);
    const broken = plain.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!');
    expectCode(() => parsePrivateKey(broken, undefined), 'SSH_KEY_INVALID', []);
    const pub = readFileSync(join(dir, 'ed25519-plain.pub'), 'utf8');
    expectCode(() => parsePrivateKey(pub, undefined), 'SSH_KEY_INVALID', []);
  });
});
