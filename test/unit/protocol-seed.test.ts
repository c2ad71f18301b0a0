/**
 * Seed-compatible codec, fed buffers. Each table row is a frame a real seed client (or a hostile
 * one) can send; the comments name the seed defect a row guards against (docs/protocol.md).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeError } from '../../src/errors.js';
import { SEED_CONTROL_MAX_BYTES, seedCodec } from '../../src/protocol/seed.js';
import { codecFor, selectSubprotocol } from '../../src/protocol/codec.js';
import { MAX_DIMENSION } from '../../src/protocol/types.js';
import { V1_SUBPROTOCOL, v1Codec } from '../../src/protocol/v1.js';

const SECRET = 'hunter2-s3cr3t-PASS';
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Asserts a PROTOCOL_ERROR whose message, detail and stack never quote the secret. */
function assertProtocolError(fn: () => unknown): BridgeError {
  let caught: unknown;
  assert.throws(() => {
    try {
      fn();
    } catch (err) {
      caught = err;
      throw err;
    }
  });
  assert.ok(caught instanceof BridgeError, 'a BridgeError');
  assert.equal(caught.code, 'PROTOCOL_ERROR');
  assert.equal(caught.cause, undefined, 'no cause: a SyntaxError would quote the frame');
  for (const s of [caught.message, caught.detail ?? '', caught.stack ?? '']) assert.ok(!s.includes(SECRET), s);
  return caught;
}

void describe('seed decodeAuth', () => {
  void it('accepts username and password as text or binary, ignoring extra keys', () => {
    for (const isBinary of [false, true]) {
      const creds = seedCodec.decodeAuth(text(`{"username":"alice","password":"${SECRET}","x":1}`), isBinary);
      assert.deepEqual(creds, {
        username: 'alice',
        auth: { method: 'password', password: SECRET },
        term: undefined,
        cols: undefined,
        rows: undefined,
        flowControl: false,
        resume: false,
        jump: [],
      });
    }
  });

  void it('accepts an empty password', () => {
    const creds = seedCodec.decodeAuth(text('{"username":"bob","password":""}'), false);
    assert.deepEqual(creds.auth, { method: 'password', password: '' });
  });

  const bad: Array<[string, string]> = [
    ['not JSON', `username=alice&password=${SECRET}`],
    ['truncated JSON', `{"username":"alice","password":"${SECRET}"`],
    ['an array', `["alice","${SECRET}"]`],
    ['null', 'null'],
    ['a string', `"${SECRET}"`],
    ['empty frame', ''],
    ['number username', `{"username":42,"password":"${SECRET}"}`],
    ['missing username', `{"password":"${SECRET}"}`],
    ['empty username', `{"username":"","password":"${SECRET}"}`],
    ['username with LF', `{"username":"a\\nb","password":"${SECRET}"}`],
    ['username with NUL', `{"username":"a\\u0000b","password":"${SECRET}"}`],
    ['username with CR', `{"username":"a\\rb","password":"${SECRET}"}`],
    ['username of 257 chars', `{"username":"${'u'.repeat(257)}","password":"${SECRET}"}`],
    ['missing password', '{"username":"alice"}'],
    ['number password', '{"username":"alice","password":1234}'],
    ['null password', '{"username":"alice","password":null}'],
    ['username inherited from the prototype', `{"__proto__":{"username":"x"},"password":"${SECRET}"}`],
  ];
  for (const [name, frame] of bad) {
    void it(`rejects ${name} with PROTOCOL_ERROR and no secret in the detail`, () => {
      assertProtocolError(() => seedCodec.decodeAuth(text(frame), false));
    });
  }

  void it('accepts a username of exactly 256 chars', () => {
    const creds = seedCodec.decodeAuth(text(`{"username":"${'u'.repeat(256)}","password":"p"}`), false);
    assert.equal(creds.username.length, 256);
  });
});

void describe('seed decode', () => {
  void it('passes binary frames through verbatim, even JSON-looking ones', () => {
    const data = Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x41]);
    assert.deepEqual(seedCodec.decode(data, true), { kind: 'input', data });
    const json = text('{"action":"resize","cols":80,"rows":24}');
    assert.deepEqual(seedCodec.decode(json, true), { kind: 'input', data: json });
  });

  // Defect 4: the seed swallowed any JSON object or null. All of these are typed, byte-exact.
  const typed = [
    'null',
    '{"a":1}',
    '{"action":"other"}',
    '{"action":"Resize","cols":80,"rows":24}',
    '{"action":["resize"]}',
    '{"action":"resize","cols":80,"rows":24',
    '[1,2]',
    '"str"',
    '42',
    'true',
    '',
    'ls -la\r',
    '  { not json',
    'héllo wörld ✓',
  ];
  for (const frame of typed) {
    void it(`types ${JSON.stringify(frame)} as input, byte-exact`, () => {
      const data = text(frame);
      const msg = seedCodec.decode(data, false);
      assert.equal(msg.kind, 'input');
      assert.ok(msg.kind === 'input' && msg.data.equals(data));
    });
  }

  void it('returns a 100 KB text frame whole (no 4096-byte cut)', () => {
    const data = text(`{"action":"resize",${'x'.repeat(100 * 1024)}`);
    const msg = seedCodec.decode(data, false);
    assert.ok(msg.kind === 'input');
    assert.equal(msg.data.length, data.length);
    assert.ok(msg.data.equals(data));
  });

  void it('does not parse a valid control message larger than 4096 bytes (fast path)', () => {
    const padded = `{"action":"ping","pad":"${'x'.repeat(SEED_CONTROL_MAX_BYTES)}"}`;
    assert.equal(seedCodec.decode(text(padded), false).kind, 'input');
  });

  const resizes: Array<[string, unknown]> = [
    ['{"action":"resize","cols":80,"rows":24}', { kind: 'resize', cols: 80, rows: 24 }],
    [' \n\t{"action":"resize","rows":50,"cols":200} ', { kind: 'resize', cols: 200, rows: 50 }],
    ['{"action":"resize","cols":1,"rows":1}', { kind: 'resize', cols: 1, rows: 1 }],
    [`{"action":"resize","cols":${MAX_DIMENSION},"rows":${MAX_DIMENSION}}`, { kind: 'resize', cols: 10000, rows: 10000 }],
    // Defect 4: the seed silently killed input above 999 columns.
    ['{"action":"resize","cols":1000,"rows":24}', { kind: 'resize', cols: 1000, rows: 24 }],
    ['{"action":"resize","cols":80.0,"rows":24}', { kind: 'resize', cols: 80, rows: 24 }],
  ];
  for (const [frame, expected] of resizes) {
    void it(`decodes ${frame.trim()} as resize`, () => {
      assert.deepEqual(seedCodec.decode(text(frame), false), expected);
    });
  }

  const invalid = [
    '{"action":"resize","cols":0,"rows":24}',
    '{"action":"resize","cols":-1,"rows":24}',
    '{"action":"resize","cols":10001,"rows":24}',
    '{"action":"resize","cols":80,"rows":10001}',
    '{"action":"resize","cols":1.5,"rows":24}',
    '{"action":"resize","cols":"80","rows":"24"}',
    '{"action":"resize","cols":80}',
    '{"action":"resize"}',
    '{"action":"resize","cols":null,"rows":24}',
    '{"action":"resize","cols":1e400,"rows":24}',
  ];
  for (const frame of invalid) {
    void it(`ignores the invalid resize ${frame}`, () => {
      const msg = seedCodec.decode(text(frame), false);
      assert.equal(msg.kind, 'ignored');
      assert.ok(msg.kind === 'ignored' && msg.reason.includes('resize'));
    });
  }

  void it('decodes ping as a no-op ping with no payload', () => {
    assert.deepEqual(seedCodec.decode(text('{"action":"ping"}'), false), { kind: 'ping', payload: undefined });
    assert.deepEqual(seedCodec.decode(text('{"action":"ping","payload":7}'), false), { kind: 'ping', payload: undefined });
  });

  void it('types a v1 hostkey-reply as input: seed clients have no host key question', () => {
    const frame = text('{"type":"hostkey-reply","accept":true}');
    assert.deepEqual(seedCodec.decode(frame, false), { kind: 'input', data: frame });
  });

  void it('never throws on text after auth', () => {
    for (const frame of ['{', '}', '{"action":', '\u0000', '{"__proto__":null,"action":"resize"}']) {
      assert.doesNotThrow(() => seedCodec.decode(text(frame), false));
    }
  });
});

void describe('seed encode', () => {
  void it('has no text frames for any server message', () => {
    assert.equal(seedCodec.name, 'seed');
    assert.equal(seedCodec.encode({ type: 'ready', sessionId: 's1', resume: null }), null);
    assert.equal(seedCodec.encode({ type: 'banner', message: 'hi' }), null);
    assert.equal(seedCodec.encode({ type: 'error', code: 'INTERNAL', message: 'x' }), null);
    assert.equal(seedCodec.encode({ type: 'exit', status: 0, signal: null }), null);
    assert.equal(seedCodec.encode({ type: 'pong', payload: 1 }), null);
    assert.equal(seedCodec.encode({ type: 'hostkey', host: 'h', port: 22, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:x', status: 'unknown' }), null);
  });
});

void describe('codec selection', () => {
  void it('picks v1 only for the v1 subprotocol', () => {
    assert.equal(codecFor(V1_SUBPROTOCOL), v1Codec);
    assert.equal(codecFor(undefined), seedCodec);
    assert.equal(codecFor(''), seedCodec);
    assert.equal(codecFor('webssh-bridge.v2'), seedCodec);
  });

  void it('selects v1 when offered, otherwise no subprotocol', () => {
    assert.equal(selectSubprotocol(new Set(['chat', V1_SUBPROTOCOL])), V1_SUBPROTOCOL);
    assert.equal(selectSubprotocol(new Set(['chat', 'binary'])), false);
    assert.equal(selectSubprotocol(new Set()), false);
  });
});
