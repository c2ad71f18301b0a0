/**
 * v1 codec, fed buffers: auth variants, control messages, malformed frames and the encoder.
 * Every rejection must be PROTOCOL_ERROR with a detail that never quotes a secret.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeError } from '../../src/errors.js';
import { MAX_PRIVATE_KEY_BYTES, V1_MAX_DEPTH, V1_SUBPROTOCOL, V1_TEXT_MAX_BYTES, v1Codec } from '../../src/protocol/v1.js';
import type { ServerControl } from '../../src/protocol/types.js';

const SECRET = 'hunter2-s3cr3t-PASS';
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const json = (v: unknown): Buffer => text(JSON.stringify(v));

function assertProtocolError(fn: () => unknown, detail?: RegExp): BridgeError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof BridgeError, 'a BridgeError was thrown');
  assert.equal(caught.code, 'PROTOCOL_ERROR');
  assert.equal(caught.cause, undefined);
  for (const s of [caught.message, caught.detail ?? '', caught.stack ?? '']) {
    assert.ok(!s.includes(SECRET), `secret leaked: ${s}`);
    assert.ok(!s.includes('BEGIN OPENSSH'), `key leaked: ${s}`);
  }
  if (detail !== undefined) assert.match(caught.detail ?? '', detail);
  return caught;
}

void describe('v1 decodeAuth', () => {
  void it('uses the documented subprotocol name', () => {
    assert.equal(V1_SUBPROTOCOL, 'webssh-bridge.v1');
    assert.equal(v1Codec.name, 'v1');
  });

  void it('defaults the method to password', () => {
    assert.deepEqual(v1Codec.decodeAuth(json({ type: 'auth', username: 'alice', password: SECRET }), false), {
      username: 'alice',
      auth: { method: 'password', password: SECRET },
      term: undefined,
      cols: undefined,
      rows: undefined,
      flowControl: false,
      resume: false,
      jump: [],
    });
  });

  void it('accepts an explicit password method with term and size, ignoring extra keys', () => {
    const frame = json({ type: 'auth', username: 'a', method: 'password', password: '', term: 'xterm-256color', cols: 132, rows: 43, extra: [1] });
    assert.deepEqual(v1Codec.decodeAuth(frame, false), {
      username: 'a',
      auth: { method: 'password', password: '' },
      term: 'xterm-256color',
      cols: 132,
      rows: 43,
      flowControl: false,
      resume: false,
      jump: [],
    });
  });

  void it('flowControl opts in to render acknowledgements; it must be a boolean', () => {
    const on = v1Codec.decodeAuth(json({ type: 'auth', username: 'a', password: SECRET, flowControl: true }), false);
    assert.equal(on.flowControl, true);
    assert.throws(() => v1Codec.decodeAuth(json({ type: 'auth', username: 'a', password: SECRET, flowControl: 'yes' }), false), /flowControl must be a boolean/);
  });

  void it('resume asks for a resumable session; it must be a boolean', () => {
    assert.equal(v1Codec.decodeAuth(json({ type: 'auth', username: 'a', password: SECRET, resume: true }), false).resume, true);
    assert.equal(v1Codec.decodeAuth(json({ type: 'auth', username: 'a', password: SECRET, resume: null }), false).resume, false);
    assert.throws(() => v1Codec.decodeAuth(json({ type: 'auth', username: 'a', password: SECRET, resume: 1 }), false), /resume must be a boolean/);
  });

  void it('share and share-revoke: optional ttlMs, snapshot (at most 48 KiB) and linkId, checked', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'share' }), false), { kind: 'share', ttlMs: undefined, snapshot: undefined });
    assert.deepEqual(v1Codec.decode(json({ type: 'share', ttlMs: 60000, snapshot: 'screen' }), false), { kind: 'share', ttlMs: 60000, snapshot: 'screen' });
    assert.throws(() => v1Codec.decode(json({ type: 'share', ttlMs: 0 }), false), /ttlMs must be a positive integer/);
    assert.throws(() => v1Codec.decode(json({ type: 'share', snapshot: 5 }), false), /snapshot must be a string/);
    assert.throws(() => v1Codec.decode(json({ type: 'share', snapshot: 'x'.repeat(48 * 1024 + 1) }), false), /snapshot larger than 48 KiB/);
    assert.deepEqual(v1Codec.decode(json({ type: 'share-revoke' }), false), { kind: 'share-revoke', linkId: undefined });
    assert.deepEqual(v1Codec.decode(json({ type: 'share-revoke', linkId: 'abc' }), false), { kind: 'share-revoke', linkId: 'abc' });
    assert.throws(() => v1Codec.decode(json({ type: 'share-revoke', linkId: 7 }), false), /linkId must be a string/);
  });

  void it('files asks for a file token; files-token and files-refused are encoded field by field', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'files' }), false), { kind: 'files' });
    assert.deepEqual(v1Codec.decode(json({ type: 'files', extra: 1 }), false), { kind: 'files' });
    const token = { type: 'files-token', token: '0.abc.def', expiresInMs: 300000, write: true, stray: 'x' } as const;
    assert.deepEqual(JSON.parse(v1Codec.encode(token) ?? ''), { type: 'files-token', token: '0.abc.def', expiresInMs: 300000, write: true });
    assert.deepEqual(JSON.parse(v1Codec.encode({ ...token, write: false }) ?? ''), { type: 'files-token', token: '0.abc.def', expiresInMs: 300000, write: false });
    assert.deepEqual(JSON.parse(v1Codec.encode({ type: 'files-refused', code: 'FILES_DISABLED', message: 'm' }) ?? ''), { type: 'files-refused', code: 'FILES_DISABLED', message: 'm' });
  });

  void it('ack carries a non-negative integer byte count', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'ack', bytes: 65536 }), false), { kind: 'ack', bytes: 65536 });
    for (const bad of [-1, 1.5, '10', null, 2 ** 60]) {
      assert.throws(() => v1Codec.decode(json({ type: 'ack', bytes: bad }), false), /ack bytes/);
    }
  });

  void it('accepts publickey with and without passphrase; null means absent', () => {
    const withPass = v1Codec.decodeAuth(json({ type: 'auth', username: 'k', method: 'publickey', privateKey: KEY, passphrase: SECRET }), false);
    assert.deepEqual(withPass.auth, { method: 'publickey', privateKey: KEY, passphrase: SECRET });
    const without = v1Codec.decodeAuth(json({ type: 'auth', username: 'k', method: 'publickey', privateKey: KEY }), false);
    assert.deepEqual(without.auth, { method: 'publickey', privateKey: KEY, passphrase: undefined });
    const nulls = v1Codec.decodeAuth(json({ type: 'auth', username: 'k', method: 'publickey', privateKey: KEY, passphrase: null, term: null }), false);
    assert.deepEqual(nulls.auth, { method: 'publickey', privateKey: KEY, passphrase: undefined });
    assert.equal(nulls.term, undefined);
  });

  void it('accepts a private key of exactly 16 KiB', () => {
    const privateKey = 'k'.repeat(MAX_PRIVATE_KEY_BYTES);
    const creds = v1Codec.decodeAuth(json({ type: 'auth', username: 'k', method: 'publickey', privateKey }), false);
    assert.equal(creds.auth.method === 'publickey' && creds.auth.privateKey.length, MAX_PRIVATE_KEY_BYTES);
  });

  const bad: Array<[string, Buffer, boolean, RegExp]> = [
    ['a binary frame first', json({ type: 'auth', username: 'a', password: SECRET }), true, /binary/],
    ['another type first', json({ type: 'resize', cols: 80, rows: 24 }), false, /auth message first/],
    ['malformed JSON', text(`{"type":"auth","username":"a","password":"${SECRET}"`), false, /malformed JSON/],
    ['a JSON array', json(['auth', SECRET]), false, /JSON object/],
    ['JSON null', text('null'), false, /JSON object/],
    ['a missing type', json({ username: 'a', password: SECRET }), false, /type/],
    ['a number type', json({ type: 1, username: 'a', password: SECRET }), false, /type/],
    ['a missing username', json({ type: 'auth', password: SECRET }), false, /username/],
    ['a number username', json({ type: 'auth', username: 7, password: SECRET }), false, /username/],
    ['a username with CR/LF', json({ type: 'auth', username: 'a\r\nb', password: SECRET }), false, /control/],
    ['a missing password', json({ type: 'auth', username: 'a' }), false, /password/],
    ['a number password', json({ type: 'auth', username: 'a', password: 1 }), false, /password/],
    ['a KEYBOARD-INTERACTIVE method (case matters)', json({ type: 'auth', username: 'a', method: 'KEYBOARD-INTERACTIVE' }), false, /unsupported auth method/],
    ['an unknown method', json({ type: 'auth', username: 'a', method: SECRET, password: SECRET }), false, /unsupported auth method/],
    ['a number method', json({ type: 'auth', username: 'a', method: 1, password: SECRET }), false, /unsupported auth method/],
    ['publickey without a key', json({ type: 'auth', username: 'a', method: 'publickey' }), false, /privateKey/],
    ['publickey with an empty key', json({ type: 'auth', username: 'a', method: 'publickey', privateKey: '' }), false, /privateKey/],
    ['a key over 16 KiB', json({ type: 'auth', username: 'a', method: 'publickey', privateKey: KEY + 'k'.repeat(MAX_PRIVATE_KEY_BYTES) }), false, /16 KiB/],
    ['a number passphrase', json({ type: 'auth', username: 'a', method: 'publickey', privateKey: KEY, passphrase: 5 }), false, /passphrase/],
    ['a term with a space', json({ type: 'auth', username: 'a', password: SECRET, term: 'xterm 256' }), false, /term/],
    ['an empty term', json({ type: 'auth', username: 'a', password: SECRET, term: '' }), false, /term/],
    ['a term with a newline', json({ type: 'auth', username: 'a', password: SECRET, term: 'xterm\n' }), false, /term/],
    ['a 65-char term', json({ type: 'auth', username: 'a', password: SECRET, term: 'x'.repeat(65) }), false, /term/],
    ['a number term', json({ type: 'auth', username: 'a', password: SECRET, term: 1 }), false, /term/],
    ['cols without rows', json({ type: 'auth', username: 'a', password: SECRET, cols: 80 }), false, /together/],
    ['rows without cols', json({ type: 'auth', username: 'a', password: SECRET, rows: 24 }), false, /together/],
    ['zero cols', json({ type: 'auth', username: 'a', password: SECRET, cols: 0, rows: 24 }), false, /integers/],
    ['string rows', json({ type: 'auth', username: 'a', password: SECRET, cols: 80, rows: '24' }), false, /integers/],
    ['too-deep nesting', text(`{"type":"auth","password":"${SECRET}","x":${'['.repeat(40)}${']'.repeat(40)}}`), false, /nested/],
    ['a frame over 64 KiB', json({ type: 'auth', username: 'a', password: SECRET, pad: 'x'.repeat(V1_TEXT_MAX_BYTES) }), false, /64 KiB/],
  ];
  for (const [name, frame, isBinary, detail] of bad) {
    void it(`rejects ${name}`, () => {
      assertProtocolError(() => v1Codec.decodeAuth(frame, isBinary), detail);
    });
  }
});

void describe('v1 decode', () => {
  void it('passes binary frames through verbatim', () => {
    const data = Buffer.from([0x00, 0xff, 0x7b, 0x7d]);
    assert.deepEqual(v1Codec.decode(data, true), { kind: 'input', data });
  });

  void it('decodes resize, including the bounds', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'resize', cols: 80, rows: 24 }), false), { kind: 'resize', cols: 80, rows: 24 });
    assert.deepEqual(v1Codec.decode(json({ type: 'resize', cols: 10000, rows: 1 }), false), { kind: 'resize', cols: 10000, rows: 1 });
  });

  for (const [cols, rows] of [[0, 24], [-1, 24], [10001, 24], [80, 10001], [1.5, 24], ['80', 24], [undefined, 24], [80, null]] as const) {
    void it(`ignores resize cols=${String(cols)} rows=${String(rows)} instead of failing`, () => {
      const msg = v1Codec.decode(json({ type: 'resize', cols, rows }), false);
      assert.equal(msg.kind, 'ignored');
    });
  }

  void it('decodes ping with any payload, and echoes it through encode', () => {
    for (const payload of [42, 'abc', { t: 1, nested: [1, { x: null }] }, null, [1, 2]]) {
      const msg = v1Codec.decode(json({ type: 'ping', payload }), false);
      assert.deepEqual(msg, { kind: 'ping', payload });
      assert.ok(msg.kind === 'ping');
      assert.deepEqual(JSON.parse(v1Codec.encode({ type: 'pong', payload: msg.payload }) ?? ''), { type: 'pong', payload });
    }
    const bare = v1Codec.decode(json({ type: 'ping' }), false);
    assert.deepEqual(bare, { kind: 'ping', payload: undefined });
    assert.equal(v1Codec.encode({ type: 'pong', payload: undefined }), '{"type":"pong"}');
  });

  void it('decodes presence (extra fields ignored); seed has no such message', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'presence' }), false), { kind: 'presence' });
    assert.deepEqual(v1Codec.decode(json({ type: 'presence', at: 1 }), false), { kind: 'presence' });
  });

  void it(`accepts nesting of exactly ${V1_MAX_DEPTH} levels, brackets inside strings not counted`, () => {
    const inner = `${'['.repeat(V1_MAX_DEPTH - 1)}${']'.repeat(V1_MAX_DEPTH - 1)}`;
    assert.equal(v1Codec.decode(text(`{"type":"ping","payload":${inner}}`), false).kind, 'ping');
    const str = JSON.stringify('[[[[{{{{\\"'.repeat(20));
    assert.equal(v1Codec.decode(text(`{"type":"ping","payload":${str}}`), false).kind, 'ping');
  });

  void it('decodes hostkey-reply accept true and false, ignoring extra keys', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'hostkey-reply', accept: true }), false), { kind: 'hostkey-reply', accept: true });
    assert.deepEqual(v1Codec.decode(json({ type: 'hostkey-reply', accept: false, fingerprint: 'SHA256:x' }), false), { kind: 'hostkey-reply', accept: false });
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['hostkey-reply without accept', json({ type: 'hostkey-reply' }), /accept must be a boolean/],
    ['hostkey-reply with accept "yes"', json({ type: 'hostkey-reply', accept: 'yes' }), /accept must be a boolean/],
    ['hostkey-reply with accept 1', json({ type: 'hostkey-reply', accept: 1 }), /accept must be a boolean/],
    ['hostkey-reply with accept null', json({ type: 'hostkey-reply', accept: null }), /accept must be a boolean/],
    ['a second auth', json({ type: 'auth', username: 'a', password: SECRET }), /already authenticated/],
    ['an unknown type', json({ type: 'paste', data: SECRET }), /unknown message type/],
    ['malformed JSON', text(`{"type":"ping","payload":"${SECRET}"`), /malformed JSON/],
    ['plain text', text(`echo ${SECRET}\n`), /malformed JSON/],
    ['an empty text frame', text(''), /malformed JSON/],
    ['a JSON array', text('[1,2]'), /JSON object/],
    ['a JSON string', text(`"${SECRET}"`), /JSON object/],
    ['a missing type', json({ cols: 80 }), /type/],
    ['an inherited type', text('{"__proto__":{"type":"ping"}}'), /type/],
    ['nesting of 33 levels', text(`{"type":"ping","payload":${'['.repeat(V1_MAX_DEPTH)}${']'.repeat(V1_MAX_DEPTH)}}`), /nested/],
    ['hostile nesting of 1e5 levels', text('['.repeat(100_000)), /64 KiB|nested/],
    ['hostile nesting within 64 KiB', text('{'.repeat(60_000)), /nested/],
    ['a prompt-reply without responses', json({ type: 'prompt-reply' }), /array of strings/],
    ['a prompt-reply with a string for responses', json({ type: 'prompt-reply', responses: SECRET }), /array of strings/],
    ['a prompt-reply with a number response', json({ type: 'prompt-reply', responses: [SECRET, 123456] }), /array of strings/],
    ['a prompt-reply with a null response', json({ type: 'prompt-reply', responses: [null] }), /array of strings/],
    ['a prompt-reply response over 1 KiB', json({ type: 'prompt-reply', responses: [SECRET + 'x'.repeat(1024)] }), /1 KiB/],
    ['a prompt-reply response over 1 KiB in UTF-8 bytes', json({ type: 'prompt-reply', responses: ['é'.repeat(513)] }), /1 KiB/],
  ];
  for (const [name, frame, detail] of bad) {
    void it(`rejects ${name}`, () => {
      assertProtocolError(() => v1Codec.decode(frame, false), detail);
    });
  }
});

void describe('v1 keyboard-interactive', () => {
  void it('accepts auth with method keyboard-interactive and only a username', () => {
    const creds = v1Codec.decodeAuth(json({ type: 'auth', username: 'otp-user', method: 'keyboard-interactive', cols: 100, rows: 30 }), false);
    assert.deepEqual(creds, { username: 'otp-user', auth: { method: 'keyboard-interactive' }, term: undefined, cols: 100, rows: 30, flowControl: false, resume: false, jump: [] });
  });

  void it('ignores a password sent along with keyboard-interactive (never kept)', () => {
    const creds = v1Codec.decodeAuth(json({ type: 'auth', username: 'u', method: 'keyboard-interactive', password: SECRET }), false);
    assert.deepEqual(creds.auth, { method: 'keyboard-interactive' });
    assert.ok(!JSON.stringify(creds).includes(SECRET));
  });

  void it('decodes prompt-reply with any number of string responses, exactly 1 KiB allowed', () => {
    assert.deepEqual(v1Codec.decode(json({ type: 'prompt-reply', responses: ['123456'] }), false), { kind: 'prompt-reply', responses: ['123456'] });
    assert.deepEqual(v1Codec.decode(json({ type: 'prompt-reply', responses: [] }), false), { kind: 'prompt-reply', responses: [] });
    assert.deepEqual(v1Codec.decode(json({ type: 'prompt-reply', responses: ['a', '', 'c'] }), false), { kind: 'prompt-reply', responses: ['a', '', 'c'] });
    const max = 'x'.repeat(1024);
    assert.deepEqual(v1Codec.decode(json({ type: 'prompt-reply', responses: [max] }), false), { kind: 'prompt-reply', responses: [max] });
  });

  void it('prompt-reply before auth is a protocol error', () => {
    assertProtocolError(() => v1Codec.decodeAuth(json({ type: 'prompt-reply', responses: [SECRET] }), false), /auth message first/);
  });

  void it('encodes prompt with name, instructions and prompts, and nothing else', () => {
    const msg = {
      type: 'prompt', name: 'Two-factor', instructions: 'Open your app', prompts: [{ prompt: 'Verification code: ', echo: false, extra: SECRET }, { prompt: 'Label: ', echo: true }], password: SECRET,
    } as ServerControl;
    const frame = v1Codec.encode(msg) ?? '';
    assert.ok(!frame.includes(SECRET));
    assert.deepEqual(JSON.parse(frame), { type: 'prompt', name: 'Two-factor', instructions: 'Open your app', prompts: [{ prompt: 'Verification code: ', echo: false }, { prompt: 'Label: ', echo: true }] });
    assert.deepEqual(JSON.parse(v1Codec.encode({ type: 'prompt', name: '', instructions: '', prompts: [] }) ?? ''), { type: 'prompt', name: '', instructions: '', prompts: [] });
  });
});

void describe('v1 encode', () => {
  const cases: Array<[ServerControl, unknown]> = [
    [{ type: 'ready', sessionId: 'abc123', resume: null }, { type: 'ready', sessionId: 'abc123' }],
    [{ type: 'ready', sessionId: 'abc123', resume: { token: '1.tok', graceMs: 120000 } }, { type: 'ready', sessionId: 'abc123', resume: { token: '1.tok', graceMs: 120000 } }],
    [
      { type: 'resumed', sessionId: 'abc123', position: 42, lost: 7, inputPosition: 12, resume: { token: '1.next', graceMs: 5000 } },
      { type: 'resumed', sessionId: 'abc123', position: 42, lost: 7, inputPosition: 12, resume: { token: '1.next', graceMs: 5000 } },
    ],
    [{ type: 'banner', message: 'Welcome\r\n' }, { type: 'banner', message: 'Welcome\r\n' }],
    [{ type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed' }, { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed' }],
    [{ type: 'error', code: 'AUTH_BANNED', message: 'too many failed logins', retryAfter: 240 }, { type: 'error', code: 'AUTH_BANNED', message: 'too many failed logins', retryAfter: 240 }],
    [
      { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed', attemptsLeft: 2, banSeconds: 300 },
      { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed', attemptsLeft: 2, banSeconds: 300 },
    ],
    [
      { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed', attemptsLeft: 0, retryAfter: 300 },
      { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed', retryAfter: 300, attemptsLeft: 0 },
    ],
    [{ type: 'exit', status: 0, signal: null }, { type: 'exit', status: 0, signal: null }],
    [{ type: 'exit', status: null, signal: 'KILL' }, { type: 'exit', status: null, signal: 'KILL' }],
    [{ type: 'pong', payload: { n: 1 } }, { type: 'pong', payload: { n: 1 } }],
    [{ type: 'idle-warning', closesInMs: 60000 }, { type: 'idle-warning', closesInMs: 60000 }],
    [{ type: 'idle-cleared' }, { type: 'idle-cleared' }],
    [
      { type: 'hostkey', host: 'box.example', port: 2222, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:UcwLRGdNMybX4lVYBXLWQ5LWEAVOvkBN49xqHwktiXs', status: 'unknown' },
      { type: 'hostkey', host: 'box.example', port: 2222, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:UcwLRGdNMybX4lVYBXLWQ5LWEAVOvkBN49xqHwktiXs', status: 'unknown' },
    ],
  ];
  for (const [msg, expected] of cases) {
    void it(`encodes ${msg.type} as one JSON text frame`, () => {
      const frame = v1Codec.encode(msg);
      assert.equal(typeof frame, 'string');
      assert.deepEqual(JSON.parse(frame ?? ''), expected);
    });
  }

  void it('encodes only the documented fields', () => {
    const msg = { type: 'ready', sessionId: 's', resume: null, password: SECRET } as ServerControl;
    assert.equal(v1Codec.encode(msg), '{"type":"ready","sessionId":"s"}');
    const hk = { type: 'hostkey', host: 'h', port: 22, algorithm: 'ssh-rsa', fingerprint: 'SHA256:f', status: 'unknown', key: 'AAAA', password: SECRET } as ServerControl;
    assert.equal(v1Codec.encode(hk), '{"type":"hostkey","host":"h","port":22,"algorithm":"ssh-rsa","fingerprint":"SHA256:f","status":"unknown"}');
    const err = { type: 'error', code: 'SSH_AUTH_FAILED', message: 'ssh authentication failed', attemptsLeft: 1, banSeconds: 60, password: SECRET } as ServerControl;
    assert.equal(v1Codec.encode(err), '{"type":"error","code":"SSH_AUTH_FAILED","message":"ssh authentication failed","attemptsLeft":1,"banSeconds":60}');
  });
});
