/**
 * The keyring file (src/auth/keyring-file.ts, src/auth/cluster-secret.ts): the format, the keys
 * each secret gives per purpose, the permission rule, reload keeping the keyring in force on a bad
 * file, and the `new-secret` command. No error ever shows a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterSecretFile } from '../../src/auth/cluster-secret.js';
import { deriveKey, KeyringFileError, keyringOf, newSecretLine, parseKeyringFile, permissionProblem } from '../../src/auth/keyring-file.js';
import { runSecretCommand } from '../../src/auth/secret-command.js';

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const b64url = (bytes: Buffer): string => bytes.toString('base64url');

/** Asserts a KeyringFileError whose message matches `pattern` and holds none of `secrets`. */
function refused(fn: () => unknown, pattern: RegExp, secrets: readonly string[] = []): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KeyringFileError, `expected a KeyringFileError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  for (const s of secrets) assert.ok(!caught.message.includes(s), `the message shows a secret: ${caught.message}`);
}

void test('lines are ID SECRET, the first key line is current; comments, blank lines and either base64 alphabet are fine', () => {
  const a = randomBytes(32);
  const b = randomBytes(48);
  const c = randomBytes(33);
  const text = `# keyring\n\n  2026-06 ${b64url(a)}  \n\t# older\r\nold_1\t${b64(b)}\nk3 ${b64url(c)}\n`;
  const keys = parseKeyringFile(text);
  assert.deepEqual(keys.map((k) => k.id), ['2026-06', 'old_1', 'k3']);
  assert.deepEqual(keys.map((k) => k.secret), [a, b, c]);
  // openssl rand -base64 32: padded standard base64.
  const padded = randomBytes(32);
  assert.match(b64(padded), /=$/);
  assert.deepEqual(parseKeyringFile(`x ${b64(padded)}`)[0]?.secret, padded);
  assert.deepEqual(parseKeyringFile(`x ${b64(padded).replace(/=+$/, '')}`)[0]?.secret, padded, 'padding optional');
});

void test('bad lines are named by number, never shown', () => {
  const good = b64url(randomBytes(32));
  const short = b64url(randomBytes(31));
  refused(() => parseKeyringFile(`a ${good}\nb ${short}\n`, 'cluster-secret-file /k'), /^cluster-secret-file \/k line 2: the secret is 31 bytes; at least 32/, [short]);
  refused(() => parseKeyringFile(`${good}\n`), /line 1: expected "ID SECRET"/, [good]);
  refused(() => parseKeyringFile(`a ${good} trailing\n`), /line 1: expected "ID SECRET"/, [good]);
  refused(() => parseKeyringFile(`${good} a\n`), /line 1: the key id is not 1-32 characters/, [good]);
  refused(() => parseKeyringFile(`${'x'.repeat(33)} ${good}\n`), /line 1: the key id/);
  refused(() => parseKeyringFile(`a.b ${good}\n`), /line 1: the key id/);
  refused(() => parseKeyringFile(`a ${good}!\n`), /line 1: the secret is not base64/, [good]);
  refused(() => parseKeyringFile(`a ${b64(randomBytes(32)).slice(0, -1)}==\n`), /line 1: the secret is not base64 or base64url \(bad length or padding\)/);
  refused(() => parseKeyringFile(`a ${'A'.repeat(45)}\n`), /line 1: the secret is not base64 or base64url \(bad length/);
  refused(() => parseKeyringFile(`a +/${'A'.repeat(40)}-_\n`), /line 1: the secret mixes the base64 and base64url alphabets/);
  refused(() => parseKeyringFile(`a ${b64url(randomBytes(1025))}\n`), /line 1: the secret is longer than 1024 bytes/);
  refused(() => parseKeyringFile('# only comments\n\n'), /no key; expected at least one line/);
  refused(() => parseKeyringFile(''), /no key/);
});

void test('an id or a secret listed twice is refused', () => {
  const s1 = randomBytes(32);
  refused(() => parseKeyringFile(`a ${b64url(s1)}\nb ${b64url(randomBytes(32))}\na ${b64url(randomBytes(32))}\n`), /line 3: key id "a" is already on line 1/);
  refused(() => parseKeyringFile(`a ${b64url(s1)}\nb ${b64(s1)}\n`), /line 2: the same secret as line 1/, [b64url(s1), b64(s1)]);
});

void test('each purpose gets its own key from a secret (HKDF-SHA256), never the secret itself', () => {
  const secret = randomBytes(32);
  const share = deriveKey(secret, 'share');
  const relay = deriveKey(secret, 'relay');
  assert.equal(share.length, 32);
  assert.notDeepEqual(share, relay);
  assert.notDeepEqual(share, secret);
  assert.deepEqual(share, Buffer.from(hkdfSync('sha256', secret, 'webssh-bridge keyring v1', 'share', 32)), 'as docs/scaling.md#keyring says');
  // A signature made for one purpose does not check for another.
  const sig = createHmac('sha256', share).update('text').digest();
  assert.notDeepEqual(createHmac('sha256', relay).update('text').digest(), sig);
});

void test('the keyring of a file: the first key is current for every purpose, every key is found by id', () => {
  const a = { id: 'a', secret: randomBytes(32) };
  const b = { id: 'b', secret: randomBytes(32) };
  const ring = keyringOf([b, a]);
  assert.deepEqual(ring.current('share'), { id: 'b', key: deriveKey(b.secret, 'share') });
  assert.deepEqual(ring.current('relay'), { id: 'b', key: deriveKey(b.secret, 'relay') });
  assert.deepEqual(ring.byId('share', 'a'), deriveKey(a.secret, 'share'));
  assert.deepEqual(ring.byId('relay', 'a'), deriveKey(a.secret, 'relay'));
  assert.equal(ring.byId('share', 'c'), undefined);
  assert.equal(ring.byId('share', '__proto__'), undefined);
  // Two nodes reading the same lines hold the same keys.
  assert.deepEqual(keyringOf([b, a]).byId('share', 'a'), ring.byId('share', 'a'));
});

void test('permissions: OpenSSH\'s rule for private keys', () => {
  const me = 1000;
  assert.equal(permissionProblem({ mode: 0o100600, uid: me }, me), null);
  assert.equal(permissionProblem({ mode: 0o100400, uid: me }, me), null);
  assert.match(permissionProblem({ mode: 0o100644, uid: me }, me) ?? '', /permissions 0644 are too open.*chmod 600/);
  assert.match(permissionProblem({ mode: 0o100640, uid: me }, me) ?? '', /0640/);
  assert.match(permissionProblem({ mode: 0o100602, uid: me }, me) ?? '', /0602/);
  assert.equal(permissionProblem({ mode: 0o100640, uid: 0 }, me), null, 'owned by another user (root, group-readable for the service): the operator\'s choice');
  assert.equal(permissionProblem({ mode: 0o100644, uid: me }, undefined), null, 'no uids on this platform');
});

void test('ClusterSecretFile: reads the file, refuses a missing or too open one, reload keeps the keyring in force on failure', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-keyring-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'keyring');
  const a = randomBytes(32);
  const b = randomBytes(32);
  writeFileSync(path, `a ${b64url(a)}\n`, { mode: 0o600 });
  const file = ClusterSecretFile.load(path);
  assert.deepEqual(file.ids, ['a']);
  assert.deepEqual(file.current('share'), { id: 'a', key: deriveKey(a, 'share') });

  writeFileSync(path, `b ${b64url(b)}\na ${b64url(a)}\n`);
  file.reload();
  assert.deepEqual(file.ids, ['b', 'a']);
  assert.equal(file.current('share').id, 'b');
  assert.deepEqual(file.byId('share', 'a'), deriveKey(a, 'share'));

  writeFileSync(path, `b ${b64url(b)}\nbroken\n`);
  refused(() => file.reload(), new RegExp(`^cluster-secret-file ${path} line 2: expected`));
  assert.deepEqual(file.ids, ['b', 'a'], 'a bad file keeps the keyring in force');
  assert.deepEqual(file.byId('share', 'a'), deriveKey(a, 'share'));

  if (process.getuid !== undefined) {
    writeFileSync(path, `b ${b64url(b)}\n`);
    chmodSync(path, 0o644);
    refused(() => file.reload(), /permissions 0644 are too open/);
    refused(() => ClusterSecretFile.load(path), /permissions 0644 are too open/);
    chmodSync(path, 0o600);
    file.reload();
    assert.deepEqual(file.ids, ['b']);
    assert.equal(file.byId('share', 'a'), undefined, 'a removed key is gone');
  }
  refused(() => ClusterSecretFile.load(join(dir, 'missing')), /cluster-secret-file .*missing: cannot read \(ENOENT\)/);
  refused(() => ClusterSecretFile.load(dir), /not a regular file/);
});

void test('new-secret prints a key line the parser takes; a bad id is a usage error', () => {
  const out = runSecretCommand(['new-secret', 'k2026']);
  assert.equal(out.code, 0);
  const [key] = parseKeyringFile(out.stdout);
  assert.equal(key?.id, 'k2026');
  assert.equal(key?.secret.length, 32);
  const named = runSecretCommand(['new-secret']);
  assert.match(named.stdout, /^\d{8}-[0-9a-f]{4} [A-Za-z0-9_-]{43}\n$/);
  assert.notEqual(parseKeyringFile(named.stdout)[0]?.secret.toString('hex'), key?.secret.toString('hex'));
  for (const bad of [['new-secret', 'a b'], ['new-secret', 'x'.repeat(33)], ['new-secret', 'a', 'b']]) {
    const r = runSecretCommand(bad);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^usage: webssh-bridge new-secret \[ID\]/);
  }
  assert.throws(() => newSecretLine('bad id'), KeyringFileError);
});
