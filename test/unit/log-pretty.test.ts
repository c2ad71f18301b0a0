/**
 * The pretty log format: the text form of a record (src/log-pretty.ts), which format `auto`
 * picks, and that a pretty logger redacts exactly as the JSON one does (redaction happens in
 * pino before the record is formatted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.js';
import { prettyLine, resolveLogFormat } from '../../src/log-pretty.js';
import { listeningLine } from '../../src/roles/listening-line.js';
import { VERSION } from '../../src/version.js';

void test('a record is TIME LEVEL message, then its fields as key=value', () => {
  const line = prettyLine({ level: 30, time: '2026-12-07T13:03:58.236Z', service: 'webssh-bridge', event: 'listening', port: 8080, tls: false, msg: 'listening' });
  assert.equal(line, '2026-12-07 13:03:58.236Z INFO  listening  event=listening port=8080 tls=false\n');
});

void test('levels by name; unknown levels and missing fields do not throw', () => {
  assert.match(prettyLine({ level: 40, msg: 'w' }), /^- WARN {2}w\n$/);
  assert.match(prettyLine({ level: 50, msg: 'e' }), / ERROR e\n$/);
  assert.match(prettyLine({ level: 20, msg: 'd' }), / DEBUG d\n$/);
  assert.match(prettyLine({ level: 35 }), / L35 {3}\n$/);
});

void test('no control character reaches the terminal: escaped in a field, a space in the message', () => {
  assert.equal(prettyLine({ level: 30, time: 't', msg: 'm\u001b[2Jx', name: 'a\u001bb' }), 't INFO  m [2Jx  name="a\\u001bb"\n');
});

void test('values with spaces, quotes or = are quoted; nested objects flatten to dotted keys, with no braces', () => {
  const line = prettyLine({
    level: 30, time: 't', msg: 'host key refused', reason: 'not in known hosts', path: 'a=b', null_field: null,
    stored: [{ fingerprint: 'SHA256:abc', line: 3 }], about: { target: '10.0.0.1:22' }, empty: {}, none: [],
  });
  assert.equal(line, 't INFO  host key refused  reason="not in known hosts" path="a=b" null_field=null stored.0.fingerprint=SHA256:abc stored.0.line=3 about.target=10.0.0.1:22 empty=- none=[]\n');
  assert.doesNotMatch(line, /[{}]/);
});

void test('a message on several lines stays one line; an error\'s stack follows, indented', () => {
  const err = new Error('boom');
  const text = prettyLine({ level: 50, time: 't', msg: 'upgrade\nfailed', err: { type: 'Error', message: err.message, stack: err.stack } });
  const lines = text.split('\n');
  assert.equal(lines[0], 't ERROR upgrade failed  err.type=Error err.message=boom');
  assert.ok(lines.length > 2, 'stack lines follow');
  for (const l of lines.slice(1, -1)) assert.match(l, /^ {4}at /);
  assert.equal(lines.at(-1), '');
});

void test('auto is pretty on a terminal and JSON otherwise; json and pretty are as said', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
});

void test('the listening line: JSON fields as before plus the version; the message gives the page\'s URL', () => {
  const [fields, msg] = listeningLine({ address: '127.0.0.1', port: 8080, url: 'http://127.0.0.1:8080', tls: false }, '/ssh/', { workers: 2 });
  assert.deepEqual(fields, { event: 'listening', address: '127.0.0.1', port: 8080, url: 'http://127.0.0.1:8080', tls: false, workers: 2, version: VERSION });
  assert.equal(msg, `webssh-bridge ${VERSION} listening: open http://127.0.0.1:8080/ssh/`);
});

void test('a pretty logger redacts like the JSON one: no password, passphrase or token reaches the text', () => {
  const secret = 'pretty-secret-Zq81';
  for (const format of ['json', 'pretty'] as const) {
    let out = '';
    const logger = createLogger(false, { write: (s: string) => { out += s; } }, format);
    logger.info({ password: secret, creds: { passphrase: secret, token: secret }, user: 'alice' }, 'login');
    logger.child({ worker: 1 }).warn({ auth: secret }, 'from a worker');
    assert.ok(!out.includes(secret), `${format}: the secret leaked: ${out}`);
    assert.equal(out.split('[redacted]').length - 1, 4, `${format}: four redacted fields: ${out}`);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    if (format === 'json') {
      for (const l of lines) assert.equal(typeof JSON.parse(l), 'object');
    } else {
      assert.match(lines[0] ?? '', /^\S+ \S+ INFO {2}login {2}password=\[redacted\] creds\.passphrase=\[redacted\] creds\.token=\[redacted\] user=alice$/);
      assert.match(lines[1] ?? '', / WARN {2}from a worker {2}worker=1 auth=\[redacted\]$/);
    }
  }
});
