import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthSetupError, hashToken, matchToken, newToken, parseTokenFile } from '../../src/auth/tokens.js';
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
    assert.match(err.message, /tokens\.txt line 2: expected "sha256:<64 hex digits> \[name \[admin\]\]"/);
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
