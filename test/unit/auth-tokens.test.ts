import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthSetupError, hashToken, matchToken, newToken, parseTokenFile, tokenLine } from '../../src/auth/tokens.js';
import { runTokenCommand } from '../../src/auth/token-command.js';

void test('a token file maps SHA-256 hashes to names; comments and blank lines are skipped', () => {
  const a = newToken('alice-laptop');
  const b = newToken();
  const file = `# gateway tokens\n\n${a.line}\n  ${b.line.toUpperCase().replace('SHA256:', 'sha256:')}  \r\n`;
  const tokens = parseTokenFile(file);
  assert.equal(tokens.size, 2);
  assert.equal(matchToken(tokens, a.token)?.name, 'alice-laptop');
  assert.equal(matchToken(tokens, b.token)?.name, 'line-4', 'unnamed: its line number');
  assert.equal(matchToken(tokens, `${a.token}x`), undefined);
  assert.equal(matchToken(tokens, ''), undefined);
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
  assert.notEqual(a.token, b.token);
});

void test('a bad token file line is refused by number, without echoing the line (it may hold a raw token)', () => {
  const raw = 'raw-secret-token-pasted-by-mistake';
  assert.throws(() => parseTokenFile(`${newToken().line}\n${raw}\n`, 'tokens.txt'), (err: Error) => {
    assert.ok(err instanceof AuthSetupError);
    assert.match(err.message, /tokens\.txt line 2: expected "sha256:<64 hex digits> \[name \[admin\] \[files=read\]\]"/);
    assert.ok(!err.message.includes(raw));
    return true;
  });
  assert.throws(() => parseTokenFile('sha256:abc'), AuthSetupError);
  assert.throws(() => parseTokenFile(`sha256:${'a'.repeat(64)} two words`), AuthSetupError);
});

void test('new-token prints a token and its file line; hash-token hashes stdin; bad use exits 2', () => {
  const made = runTokenCommand(['new-token', 'ci'], () => assert.fail('new-token must not read stdin'));
  assert.equal(made.code, 0);
  const [token, line] = made.stdout.trim().split('\n');
  assert.equal(line, `sha256:${hashToken(token ?? '')} ci`);
  const hashed = runTokenCommand(['hash-token'], () => `${token ?? ''}\n`);
  assert.deepEqual(hashed, { stdout: `sha256:${hashToken(token ?? '')}\n`, stderr: '', code: 0 });
  assert.equal(runTokenCommand(['hash-token'], () => 'short\n').code, 2);
  assert.equal(runTokenCommand(['hash-token'], () => 'sixteen chars with spaces\n').code, 2, 'no client can send a space after Bearer');
  assert.equal(runTokenCommand(['new-token', 'a b'], () => '').code, 2);
  assert.equal(runTokenCommand(['new-token', 'a', 'b'], () => '').code, 2);
});

void test('flags after the name: admin and files=read, in either order, each at most once', () => {
  const hash = 'ab'.repeat(32);
  const entry = (line: string) => parseTokenFile(line).get(hash);
  assert.deepEqual(entry(`sha256:${hash} dev`), { name: 'dev', admin: false, files: 'write' });
  assert.deepEqual(entry(`sha256:${hash}`), { name: 'line-1', admin: false, files: 'write' });
  assert.deepEqual(entry(`sha256:${hash} auditor files=read`), { name: 'auditor', admin: false, files: 'read' });
  assert.deepEqual(entry(`sha256:${hash} ops admin files=read`), { name: 'ops', admin: true, files: 'read' });
  assert.deepEqual(entry(`sha256:${hash} ops\tfiles=read  admin`), { name: 'ops', admin: true, files: 'read' });
  assert.deepEqual(entry(`sha256:${hash} files=read`), { name: 'files=read', admin: false, files: 'write' }, 'the first word is always the name');
  for (const bad of [`${hash} ops files=read files=read`, `${hash} ops admin admin`, `${hash} ops files=write`, `${hash} ops files=READ`, `${hash} ops read`]) {
    assert.throws(() => parseTokenFile(`sha256:${bad}`), AuthSetupError, bad);
  }
});

void test('tokenLine writes the flags the parser reads back; a flag needs a name', () => {
  const hash = 'cd'.repeat(32);
  assert.equal(tokenLine(hash, 'auditor', false, 'read'), `sha256:${hash} auditor files=read`);
  assert.equal(tokenLine(hash, 'ops', true, 'read'), `sha256:${hash} ops admin files=read`);
  assert.equal(tokenLine(hash, 'dev'), `sha256:${hash} dev`);
  for (const [admin, files] of [[false, 'read'], [true, 'write'], [true, 'read']] as const) {
    const name = 'n';
    assert.deepEqual(parseTokenFile(tokenLine(hash, name, admin, files)).get(hash), { name, admin, files });
  }
  assert.throws(() => tokenLine(hash, undefined, false, 'read'), /files=read token line needs a name/);
  const made = newToken('reader', false, 'read');
  assert.equal(matchToken(parseTokenFile(made.line), made.token)?.files, 'read');
});

void test('new-token and hash-token take --files-read (with --admin, anywhere); it needs a NAME', () => {
  const made = runTokenCommand(['new-token', '--files-read', 'auditor'], () => assert.fail('new-token must not read stdin'));
  assert.equal(made.code, 0, made.stderr);
  const [token, line] = made.stdout.trim().split('\n');
  assert.equal(line, `sha256:${hashToken(token ?? '')} auditor files=read`);
  assert.equal(matchToken(parseTokenFile(line ?? ''), token ?? '')?.files, 'read');
  const both = runTokenCommand(['hash-token', 'ops', '--files-read', '--admin'], () => `${token ?? ''}\n`);
  assert.deepEqual(both, { stdout: `sha256:${hashToken(token ?? '')} ops admin files=read\n`, stderr: '', code: 0 });
  const plain = runTokenCommand(['hash-token', 'ops'], () => `${token ?? ''}\n`);
  assert.equal(plain.stdout, `sha256:${hashToken(token ?? '')} ops\n`);
  const noName = runTokenCommand(['new-token', '--files-read'], () => '');
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /usage: webssh-bridge new-token \[--admin\] \[--files-read\] \[NAME\]/);
  assert.equal(runTokenCommand(['new-token', '--files-read', '--files-read', 'x'], () => '').code, 2, 'a flag twice');
  assert.equal(runTokenCommand(['new-token', '--files-write', 'x'], () => '').code, 2, 'an unknown flag is an extra argument');
});
