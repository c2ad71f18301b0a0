import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeError, ERRORS, closeReason, httpBody, isBridgeError, type ErrorCode } from '../../src/errors.js';

const CODES = Object.keys(ERRORS) as ErrorCode[];
const ALLOWED_CLOSE = new Set([1000, 1001, 1008, 1009, 1011, 1012, 1013, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4010]);
const MAX_REASON_BYTES = 123;

/** True when `s` survives a UTF-8 round trip unchanged: no lone surrogate, no split character. */
function wholeUtf8(s: string): boolean {
  return Buffer.from(s, 'utf8').toString('utf8') === s;
}

void test('the catalogue is not empty and every code names itself in upper snake case', () => {
  assert.ok(CODES.length >= 20);
  for (const code of CODES) assert.match(code, /^[A-Z][A-Z0-9_]*$/, code);
});

void test('every close code is one the protocol documents', () => {
  for (const code of CODES) {
    assert.ok(ALLOWED_CLOSE.has(ERRORS[code].close), `${code}: close ${ERRORS[code].close}`);
  }
});

void test('1006 (and the other codes an endpoint must never send) never appears', () => {
  for (const code of CODES) {
    for (const reserved of [1004, 1005, 1006, 1015]) assert.notEqual(ERRORS[code].close, reserved, code);
  }
});

void test('every HTTP status is 200-599', () => {
  for (const code of CODES) {
    const { http } = ERRORS[code];
    assert.ok(Number.isInteger(http) && http >= 200 && http <= 599, `${code}: http ${http}`);
  }
});

void test('no message is empty, and every message fits a close frame with its code', () => {
  for (const code of CODES) {
    const { message } = ERRORS[code];
    assert.equal(typeof message, 'string');
    assert.ok(message.trim().length > 0, `${code}: empty message`);
    assert.ok(Buffer.byteLength(`${code}: ${message}`) <= MAX_REASON_BYTES, `${code}: message too long`);
  }
});

void test('close codes the protocol promises', () => {
  const promised: Array<[number, ErrorCode[]]> = [
    [4001, ['SSH_AUTH_FAILED', 'SSH_KEY_INVALID', 'SSH_KEY_PASSPHRASE', 'SSH_NO_AUTH_METHOD']],
    [4002, ['HOST_KEY_REJECTED']],
    [4003, ['TARGET_UNREACHABLE', 'DNS_FAILED', 'SSH_CONNECTION_LOST']],
    [4004, ['CREDENTIALS_TIMEOUT', 'CONNECT_TIMEOUT', 'HANDSHAKE_TIMEOUT', 'SSH_AUTH_TIMEOUT', 'CLIENT_STALLED', 'PONG_TIMEOUT']],
    [4005, ['IDLE_TIMEOUT']],
    [1013, ['RATE_LIMITED']],
    [1001, ['SHUTDOWN', 'DRAINING']],
    [1009, ['FRAME_TOO_BIG']],
    [1008, ['ORIGIN_FORBIDDEN', 'TARGET_DENIED']],
  ];
  for (const [close, codes] of promised) {
    for (const code of codes) assert.equal(ERRORS[code].close, close, code);
  }
});

void test('every LIMIT_* code closes with 1013 and answers HTTP 503', () => {
  const limits = CODES.filter((c) => c.startsWith('LIMIT_'));
  assert.deepEqual([...limits].sort(), ['LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'LIMIT_TOTAL']);
  for (const code of limits) {
    assert.equal(ERRORS[code].close, 1013, code);
    assert.equal(ERRORS[code].http, 503, code);
  }
});

void test('only the documented codes use the private 4001-4010 range', () => {
  const privateRange = CODES.filter((c) => ERRORS[c].close >= 4000).sort();
  assert.deepEqual(privateRange, [
    'BRIDGE_AUTH_INVALID', 'BRIDGE_AUTH_REQUIRED',
    'CLIENT_STALLED', 'CONNECT_TIMEOUT', 'CREDENTIALS_TIMEOUT', 'DNS_FAILED', 'HANDSHAKE_TIMEOUT', 'HOST_KEY_CHANGED', 'HOST_KEY_REJECTED', 'HOST_KEY_UNKNOWN',
    'IDLE_TIMEOUT', 'PONG_TIMEOUT', 'RESUME_EXPIRED', 'RESUME_INVALID', 'SESSION_TAKEN_OVER', 'SHARE_INVALID', 'SHARE_REVOKED', 'SSH_AUTH_FAILED', 'SSH_AUTH_TIMEOUT', 'SSH_CONNECTION_LOST', 'SSH_KEY_INVALID', 'SSH_KEY_PASSPHRASE', 'SSH_NO_AUTH_METHOD', 'TARGET_UNREACHABLE',
    'TICKET_INVALID', 'VIEWER_TOO_SLOW',
  ]);
  for (const code of ['BRIDGE_AUTH_INVALID', 'BRIDGE_AUTH_REQUIRED', 'TICKET_INVALID'] as const) assert.equal(ERRORS[code].close, 4006, code);
});

void test('HTTP statuses the protocol promises', () => {
  const promised: Array<[number, ErrorCode[]]> = [
    [429, ['RATE_LIMITED', 'AUTH_BANNED']],
    [403, ['ORIGIN_FORBIDDEN', 'TARGET_DENIED']],
    [400, ['BAD_PATH', 'BAD_PORT']],
    [404, ['NOT_FOUND']],
    [405, ['METHOD_NOT_ALLOWED']],
    [426, ['UPGRADE_REQUIRED']],
    [503, ['DRAINING']],
  ];
  for (const [http, codes] of promised) {
    for (const code of codes) assert.equal(ERRORS[code].http, http, code);
  }
});

void test('closeReason without detail is `CODE: message`', () => {
  for (const code of CODES) assert.equal(closeReason(code), `${code}: ${ERRORS[code].message}`);
});

void test('closeReason with a short detail is `CODE: message: detail`', () => {
  assert.equal(closeReason('SHELL_EXITED', 'exit status 0'), 'SHELL_EXITED: shell exited: exit status 0');
  assert.equal(closeReason('SHELL_EXITED', 'signal KILL'), 'SHELL_EXITED: shell exited: signal KILL');
  assert.equal(closeReason('TARGET_UNREACHABLE', 'connection refused'), 'TARGET_UNREACHABLE: target unreachable: connection refused');
});

void test('closeReason of exactly 123 bytes is kept whole; one more byte is cut', () => {
  const prefix = 'INTERNAL: internal error: ';
  const fits = 'x'.repeat(MAX_REASON_BYTES - Buffer.byteLength(prefix));
  assert.equal(closeReason('INTERNAL', fits), prefix + fits);
  assert.equal(Buffer.byteLength(closeReason('INTERNAL', fits)), MAX_REASON_BYTES);
  assert.equal(closeReason('INTERNAL', `${fits}y`), prefix + fits);
});

void test('closeReason stays within 123 bytes with long ASCII and multi-byte details, on a character boundary', () => {
  const details = [
    'a'.repeat(1000),
    'é'.repeat(300), // 2 bytes each
    '€'.repeat(300), // 3 bytes each
    'ü€'.repeat(200), // mixed 2 and 3 bytes
  ];
  for (const code of CODES) {
    for (const detail of details) {
      // Shift the alignment so the 123-byte limit falls on every byte offset of a character.
      for (let pad = 0; pad < 3; pad++) {
        const full = `${code}: ${ERRORS[code].message}: ${'-'.repeat(pad)}${detail}`;
        const reason = closeReason(code, '-'.repeat(pad) + detail);
        const bytes = Buffer.byteLength(reason);
        assert.ok(bytes <= MAX_REASON_BYTES, `${code}: ${bytes} bytes`);
        assert.ok(bytes > MAX_REASON_BYTES - 4, `${code}: cut too short (${bytes} bytes)`);
        assert.ok(full.startsWith(reason), `${code}: not a prefix`);
        assert.ok(wholeUtf8(reason), `${code}: split character`);
        assert.ok(reason.startsWith(`${code}: ${ERRORS[code].message}: `), `${code}: code and message lost`);
      }
    }
  }
});

void test('closeReason never splits a character outside the BMP (surrogate pair)', () => {
  for (const code of CODES) {
    for (let pad = 0; pad < 4; pad++) {
      const reason = closeReason(code, '-'.repeat(pad) + '😀'.repeat(100)); // 4 bytes, 2 code units each
      assert.ok(Buffer.byteLength(reason) <= MAX_REASON_BYTES, `${code}/${pad}: too long`);
      assert.ok(wholeUtf8(reason), `${code}/${pad}: split surrogate pair`);
    }
  }
});

void test('closeReason: the byte limit holds even for astral characters', () => {
  for (const code of CODES) {
    for (let pad = 0; pad < 4; pad++) {
      const reason = closeReason(code, '-'.repeat(pad) + '😀'.repeat(100));
      assert.ok(Buffer.byteLength(reason) <= MAX_REASON_BYTES, `${code}/${pad}: too long`);
      // Whatever ws writes (a lone surrogate becomes U+FFFD, also 3 bytes) fits the frame too.
      assert.ok(Buffer.from(reason, 'utf8').length <= MAX_REASON_BYTES);
    }
  }
});

void test('httpBody is JSON {code, message} and nothing else', () => {
  for (const code of CODES) {
    const body: unknown = JSON.parse(httpBody(code));
    assert.deepEqual(body, { code, message: ERRORS[code].message });
    assert.deepEqual(Object.keys(body as object).sort(), ['code', 'message']);
  }
});

void test('httpBody with a detail appends it to the message', () => {
  assert.deepEqual(JSON.parse(httpBody('BAD_PORT', 'port is not a decimal number')), {
    code: 'BAD_PORT',
    message: 'target port must be 1-65535: port is not a decimal number',
  });
  // A detail with quotes and newlines is escaped, not spliced into the JSON.
  const detail = 'a "quoted"\nline\\';
  assert.deepEqual(JSON.parse(httpBody('DNS_FAILED', detail)), { code: 'DNS_FAILED', message: `target name does not resolve: ${detail}` });
});

void test('BridgeError keeps code, detail and cause', () => {
  const cause = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:22'), { code: 'ECONNREFUSED' });
  const err = new BridgeError('TARGET_UNREACHABLE', 'connection refused', { cause });
  assert.ok(err instanceof Error);
  assert.ok(err instanceof BridgeError);
  assert.equal(err.name, 'BridgeError');
  assert.equal(err.code, 'TARGET_UNREACHABLE');
  assert.equal(err.detail, 'connection refused');
  assert.equal(err.cause, cause);
  assert.equal(err.message, 'target unreachable: connection refused');
  assert.equal(err.http, 502);
  assert.equal(err.closeCode, 4003);
  assert.ok(typeof err.stack === 'string' && err.stack.includes('BridgeError'));
});

void test('BridgeError without detail or cause', () => {
  const err = new BridgeError('SSH_AUTH_FAILED');
  assert.equal(err.code, 'SSH_AUTH_FAILED');
  assert.equal(err.detail, undefined);
  assert.equal(err.cause, undefined);
  assert.equal('cause' in err, false);
  assert.equal(err.message, 'ssh authentication failed');
  assert.equal(err.http, 401);
  assert.equal(err.closeCode, 4001);
});

void test('BridgeError getters agree with the catalogue for every code', () => {
  for (const code of CODES) {
    const err = new BridgeError(code);
    assert.equal(err.http, ERRORS[code].http, code);
    assert.equal(err.closeCode, ERRORS[code].close, code);
    assert.equal(err.message, ERRORS[code].message, code);
  }
});

void test('isBridgeError tells catalogue errors from everything else', () => {
  assert.equal(isBridgeError(new BridgeError('INTERNAL')), true);
  assert.equal(isBridgeError(new Error('INTERNAL')), false);
  assert.equal(isBridgeError({ code: 'INTERNAL', name: 'BridgeError' }), false);
  assert.equal(isBridgeError(undefined), false);
  assert.equal(isBridgeError('INTERNAL'), false);
});
