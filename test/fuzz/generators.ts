/**
 * Generators of hostile input for the fuzzers. Everything is drawn from an `Rng`, so a seed
 * reproduces the exact bytes. Three families:
 *
 * - frames: WebSocket message payloads (random bytes, invalid UTF-8, oversized, deeply nested
 *   JSON, every v1 / seed message with wrong types in every field, control messages before
 *   auth, huge resizes, mutated valid messages: bit flips, truncation, duplicated keys,
 *   `__proto__` / `constructor` keys);
 * - raw WebSocket frames: what a well-behaved client library refuses to send (bad opcodes,
 *   reserved bits, unmasked frames, fragmented control frames, lengths past 2^53, frames after
 *   close), each with the close code RFC 6455 / ws must answer;
 * - HTTP: `/ws/{host}/{port}` paths and whole upgrade requests for raw TCP (random methods,
 *   paths, percent-encodings, missing Host, huge Origin, thousands of X-Forwarded-For entries,
 *   bad WebSocket keys and versions, random subprotocol lists, smuggling headers).
 */
import { isUtf8 } from 'node:buffer';
import type { Rng } from './rng.js';

/** Placed in password fields of fuzzed frames: must never appear in an error or a log line. */
export const CANARY = 'CANARY-s3cret-pw';
/** The fake SSH server's account (test/helpers/ssh-server.ts). */
export const GOOD_USER = 'alice';
export const GOOD_PASSWORD = 'wonderland';
export const V1 = 'webssh-bridge.v1';

export type Proto = 'seed' | 'v1';

// ---------------------------------------------------------------------------------------------
// Bytes and text

const INVALID_UTF8: readonly number[][] = [
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff],
  [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc],
];

const SPICY_STRINGS: readonly string[] = [
  '', ' ', '\u0000', '\r\n', '\n', '\t', '\u001b[31m', '\u001b]0;title\u0007', '\u007f', '\u0085', '\u009b',
  '\u200b', '\u202e', '\ufeff', '\uffff', '\ud83d\ude00', 'é', 'ü', '\u0301', '日本', '\\', '"', "'", '`', '%s%n',
  '${7*7}', '{{7*7}}', '../../etc/passwd', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'NaN', 'Infinity', '-0', 'null', 'undefined', 'true', '[object Object]', '<script>', 'A'.repeat(257),
];

/** Random bytes of a log-uniform length up to `max`. */
export function randomBytes(rng: Rng, max: number): Buffer {
  return rng.bytes(rng.size(max));
}

/** A random (valid) string mixing ASCII, controls, BMP, astral and combining characters. */
export function randomString(rng: Rng, max: number): string {
  const n = rng.size(max);
  let s = '';
  while (s.length < n) {
    const k = rng.int(10);
    if (k < 5) s += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (k === 5) s += String.fromCharCode(rng.int(0x20));
    else if (k === 6) s += rng.pick(SPICY_STRINGS);
    else if (k === 7) s += String.fromCharCode(rng.range(0xa0, 0xd7ff));
    else if (k === 8) s += String.fromCodePoint(rng.range(0x10000, 0x10ffff));
    else s += rng.pick(['{', '}', '[', ']', '"', ':', ',', '\\']);
  }
  return s;
}

/** Text that is guaranteed not to be valid UTF-8 (checked with buffer.isUtf8). */
export function invalidUtf8(rng: Rng, max = 256): Buffer {
  const parts: Buffer[] = [];
  const pieces = rng.range(1, 6);
  for (let i = 0; i < pieces; i++) {
    if (rng.bool()) parts.push(Buffer.from(randomString(rng, Math.max(1, Math.floor(max / pieces)))));
    parts.push(Buffer.from(rng.pick(INVALID_UTF8)));
  }
  if (rng.bool(0.3)) parts.unshift(Buffer.from(rng.pick(['{"type":"auth","username":"', '{"username":"', '{"action":"resize","cols":'])));
  let out = Buffer.concat(parts);
  if (isUtf8(out)) out = Buffer.concat([out, Buffer.from([0xff])]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON with exact control over the text (duplicate keys, 1e400, -0, invalid atoms)

/** A JSON object as an ordered list of [key, raw JSON text of the value]. */
export type Field = [key: string, raw: string];

/** Raw JSON texts that are wrong for every field of every message (plus a few invalid atoms). */
export const HOSTILE_VALUES: readonly string[] = [
  '1', '0', '-1', '1.5', '-0', '0.0', '1e400', '-1e400', '1e308', '5e-324', '9007199254740993', '-9007199254740993',
  '4294967296', '4294967297', '2147483648', '65536', '10000', '10001', '9999', '10000.0', '1e4', '100e2', '1E4',
  '0.1e5', '80', '24', '"x"', '""', '"80"', '" 80"', '"NaN"', '"Infinity"', '"-1"', '"1e3"', '"0x50"', 'null',
  'true', 'false', '[]', '{}', '[80]', '[80,24]', '{"a":1}', '{"valueOf":80}', '{"__proto__":{"polluted":1}}',
  '"\\u0000"', '"a\\nb"', '"\\ud800"', '"\\udfff\\ud800"', '"\\u202e"', '"\\u001b[2J"', `"${'a'.repeat(300)}"`,
  '"password"', '"publickey"', '"keyboard-interactive"', '"auth"', '"resize"', '"ping"', '"ack"', '"__proto__"',
  '"constructor"', '"hostkey-reply"', '"prompt-reply"', '"prompt"', '"hostkey"', `"${CANARY}"`, '[1]', '["a",1]', '[null]', '[[]]', '["x","y","z"]',
  `["${'x'.repeat(1025)}"]`, `["${'é'.repeat(512)}"]`, '{"0":"a","length":1}',
  // Not JSON at all: the whole message becomes malformed.
  'NaN', 'Infinity', '-Infinity', 'undefined', '01', '0x10', '+1', '.5', "'x'", 'tru', '"unterminated', '[1,]', '{,}',
];

const PROTO_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];

export interface Template {
  readonly name: string;
  readonly proto: Proto;
  /** Used where credentials are expected. */
  readonly auth: boolean;
  readonly fields: readonly Field[];
}

const KEY_TEXT = '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\\n-----END OPENSSH PRIVATE KEY-----\\n';

const q = (s: string): string => JSON.stringify(s);

/** One template per message shape of both protocols; values are valid. */
export const TEMPLATES: readonly Template[] = [
  { name: 'v1.auth', proto: 'v1', auth: true, fields: [['type', '"auth"'], ['username', q(GOOD_USER)], ['password', q(CANARY)]] },
  {
    name: 'v1.auth.full', proto: 'v1', auth: true,
    fields: [['type', '"auth"'], ['username', q(GOOD_USER)], ['method', '"password"'], ['password', q(CANARY)], ['term', '"xterm-256color"'], ['cols', '132'], ['rows', '43'], ['flowControl', 'true']],
  },
  {
    name: 'v1.auth.publickey', proto: 'v1', auth: true,
    fields: [['type', '"auth"'], ['username', q(GOOD_USER)], ['method', '"publickey"'], ['privateKey', `"${KEY_TEXT}"`], ['passphrase', q(CANARY)]],
  },
  { name: 'v1.auth.kbd', proto: 'v1', auth: true, fields: [['type', '"auth"'], ['username', q(GOOD_USER)], ['method', '"keyboard-interactive"']] },
  { name: 'v1.resize', proto: 'v1', auth: false, fields: [['type', '"resize"'], ['cols', '120'], ['rows', '40']] },
  { name: 'v1.ping', proto: 'v1', auth: false, fields: [['type', '"ping"'], ['payload', '{"t":1712345678}']] },
  { name: 'v1.ack', proto: 'v1', auth: false, fields: [['type', '"ack"'], ['bytes', '65536']] },
  { name: 'v1.hostkey-reply', proto: 'v1', auth: false, fields: [['type', '"hostkey-reply"'], ['accept', 'true']] },
  { name: 'v1.prompt-reply', proto: 'v1', auth: false, fields: [['type', '"prompt-reply"'], ['responses', `[${q(CANARY)}]`]] },
  { name: 'v1.share', proto: 'v1', auth: false, fields: [['type', '"share"'], ['ttlMs', '60000'], ['snapshot', '"screen"']] },
  { name: 'v1.share-revoke', proto: 'v1', auth: false, fields: [['type', '"share-revoke"'], ['linkId', '"abc"']] },
  { name: 'v1.files', proto: 'v1', auth: false, fields: [['type', '"files"']] },
  { name: 'v1.server', proto: 'v1', auth: false, fields: [['type', '"exit"'], ['status', '0'], ['signal', 'null']] },
  { name: 'seed.auth', proto: 'seed', auth: true, fields: [['username', q(GOOD_USER)], ['password', q(CANARY)]] },
  { name: 'seed.resize', proto: 'seed', auth: false, fields: [['action', '"resize"'], ['cols', '120'], ['rows', '40']] },
  { name: 'seed.ping', proto: 'seed', auth: false, fields: [['action', '"ping"']] },
];

const JSON_WS: readonly string[] = [' ', '\n', '\t', '\r\n', '  '];
const ANY_WS: readonly string[] = [...JSON_WS, '\u00a0', '\u000b', '\u2028', '\ufeff'];

/**
 * Serialize fields as a JSON object. With rng, random whitespace is added: JSON whitespace only
 * when `illegal` is false (the text stays valid JSON), otherwise non-JSON whitespace too.
 */
export function serialize(fields: readonly Field[], rng?: Rng, illegal = true): string {
  const sp = (): string => (rng === undefined || rng.bool(0.8) ? '' : rng.pick(illegal ? ANY_WS : JSON_WS));
  const body = fields.map(([k, v]) => `${sp()}${q(k)}${sp()}:${sp()}${v}${sp()}`).join(',');
  return `${sp()}{${body}}${sp()}`;
}

/** `s` without C0/C1 control characters and DEL (never empty): a valid username. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const out = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return out === '' ? 'x' : out.slice(0, 256);
}

/** A valid username for the fake server most of the time, otherwise something plausible. */
function usernameValue(rng: Rng): string {
  return rng.weighted<string>([[6, q(GOOD_USER)], [1, q('bob')], [1, q('a'.repeat(256))], [1, q('ünïcode')], [1, q(printable(randomString(rng, 20)))]]);
}

function passwordValue(rng: Rng, live: boolean): string {
  if (live) return rng.weighted<string>([[6, q(GOOD_PASSWORD)], [2, q(CANARY)], [1, '""']]);
  return rng.weighted<string>([[6, q(CANARY)], [1, '""'], [1, q(`${CANARY}${randomString(rng, 40)}`)]]);
}

/** A valid message of the template with randomized (still valid) values. */
export function validFields(rng: Rng, t: Template, live: boolean): Field[] {
  return t.fields.map(([k, v]): Field => {
    switch (k) {
      case 'username': return [k, usernameValue(rng)];
      case 'password': return [k, passwordValue(rng, live)];
      case 'cols': return [k, String(rng.weighted<number>([[4, rng.range(1, 300)], [1, 1], [1, 10000]]))];
      case 'rows': return [k, String(rng.weighted<number>([[4, rng.range(1, 100)], [1, 1], [1, 10000]]))];
      case 'term': return [k, q(rng.pick(['xterm', 'xterm-256color', 'vt100', 'screen.xterm-256color', 'a'.repeat(64), 'x+y-z_.1']))];
      case 'flowControl': return [k, rng.pick(['true', 'false', 'null'])];
      case 'payload': return [k, rng.pick(['{"t":1}', '1', '"x"', 'null', '[1,[2,[3]]]', q(randomString(rng, 100)), '{"a":{"b":{"c":{}}}}'])];
      case 'bytes': return [k, String(rng.weighted<number>([[4, rng.int(1 << 20)], [1, 0], [1, Number.MAX_SAFE_INTEGER]]))];
      case 'accept': return [k, rng.pick(['true', 'false'])];
      case 'responses': return [k, JSON.stringify(Array.from({ length: rng.weighted<number>([[3, 1], [1, 0], [1, rng.range(2, 8)]]) }, () => rng.pick([CANARY, '', '123456', 'x'.repeat(1024), 'é'.repeat(512)])))];
      default: return [k, v];
    }
  });
}

/** Apply 1-3 structural mutations: wrong types, missing / duplicated / prototype / renamed keys. */
export function mutateFields(rng: Rng, input: readonly Field[]): Field[] {
  const fields = input.map((f): Field => [f[0], f[1]]);
  const steps = rng.range(1, 3);
  for (let s = 0; s < steps; s++) {
    const i = rng.int(Math.max(1, fields.length));
    const f = fields[i];
    switch (rng.int(9)) {
      case 0: case 1: case 2: // wrong type in one field
        if (f !== undefined) f[1] = rng.pick(HOSTILE_VALUES);
        break;
      case 3: // missing field
        fields.splice(i, 1);
        break;
      case 4: // duplicate key: JSON.parse keeps the last one
        if (f !== undefined) fields.splice(rng.bool() ? i : fields.length, 0, [f[0], rng.pick(HOSTILE_VALUES)]);
        break;
      case 5: // prototype keys
        fields.splice(rng.int(fields.length + 1), 0, [rng.pick(PROTO_KEYS), rng.pick(['{"polluted":1}', '{"type":"auth","username":"x","password":"y"}', 'null', '1', '"x"', '[]'])]);
        break;
      case 6: // renamed key: case, whitespace, look-alike, or another field's name
        if (f !== undefined) f[0] = rng.pick([f[0].toUpperCase(), ` ${f[0]}`, `${f[0]}\u0000`, `${f[0]}\u200b`, f[0].replace(/e/g, '\u0435'), rng.pick(['type', 'action', 'cols', 'rows', 'payload', 'bytes', 'method', 'accept', 'responses'])]);
        break;
      case 7: // extra random key
        fields.splice(rng.int(fields.length + 1), 0, [randomString(rng, 12), rng.pick(HOSTILE_VALUES)]);
        break;
      default: // shuffle
        for (let k = fields.length - 1; k > 0; k--) {
          const j = rng.int(k + 1);
          const a = fields[k];
          const b = fields[j];
          if (a !== undefined && b !== undefined) { fields[k] = b; fields[j] = a; }
        }
    }
  }
  return fields;
}

const INTERESTING_BYTES: readonly number[] = [0x00, 0xff, 0x7f, 0x80, 0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x5c, 0x3a, 0x2c, 0x20, 0x0a, 0x0d, 0xc0, 0xed, 0x30, 0x39, 0x2d, 0x65];

/** Byte-level mutation of a valid message: bit flips, interesting bytes, insert, delete, truncate, duplicate. */
export function mutateBytes(rng: Rng, input: Buffer): Buffer {
  let buf = Buffer.from(input);
  const steps = rng.range(1, 4);
  for (let s = 0; s < steps; s++) {
    const at = rng.int(Math.max(1, buf.length));
    switch (rng.int(8)) {
      case 0: if (buf.length > 0) buf[at] = (buf[at] ?? 0) ^ (1 << rng.int(8)); break;
      case 1: if (buf.length > 0) buf[at] = rng.pick(INTERESTING_BYTES); break;
      case 2: buf = Buffer.concat([buf.subarray(0, at), rng.bytes(rng.range(1, 8)), buf.subarray(at)]); break;
      case 3: buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + rng.range(1, 16)))]); break;
      case 4: buf = buf.subarray(0, at); break;
      case 5: {
        const end = Math.min(buf.length, at + rng.range(1, 32));
        buf = Buffer.concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
        break;
      }
      case 6: buf = Buffer.concat([buf, buf]); break;
      default: buf = Buffer.concat([buf.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), buf.subarray(at)]);
    }
  }
  return buf;
}

/** Deeply nested JSON in many shapes, up to 10^5 levels. */
export function deepNesting(rng: Rng): { text: string; depth: number } {
  // Mostly around the v1 limit (32) and moderate depths; 10^5 levels now and then (JSON.parse of
  // 64 KiB of '[' alone costs ~5 ms, so the huge ones are kept rare to keep runs fast).
  const depth = rng.weighted<number>([[3, rng.pick([31, 32, 33, 34])], [3, rng.pick([64, 1000, 4096])], [2, rng.size(100_000)], [0.3, 100_000]]);
  const open = rng.pick(['[', '{"a":', '{"payload":', '[{"x":']);
  const close = open === '[' ? ']' : open === '[{"x":' ? '}]' : '}';
  switch (rng.int(9)) {
    case 0: return { text: '['.repeat(depth), depth };
    case 1: return { text: open.repeat(depth), depth };
    case 2: return { text: `${open.repeat(depth)}1${close.repeat(depth)}`, depth };
    case 3: return { text: `{"type":"ping","payload":${'['.repeat(depth)}${']'.repeat(depth)}}`, depth: depth + 1 };
    case 4: return { text: `{"action":"resize","cols":${'['.repeat(depth)}${']'.repeat(depth)},"rows":24}`, depth: depth + 1 };
    // Closing brackets first drive a naive depth counter negative before the real nesting.
    case 5: return { text: `${']'.repeat(depth)}${'['.repeat(depth)}`, depth };
    case 6: return { text: `{"type":"ping","payload":"${'['.repeat(depth)}"}`, depth: 1 };
    case 7: return { text: `{"type":"ping","payload":"\\"${'['.repeat(Math.min(depth, 40))}"}`, depth: 1 };
    default: return { text: `{"type":"auth","username":"alice","password":"x","x":${'{"y":'.repeat(depth)}0${'}'.repeat(depth)}}`, depth: depth + 1 };
  }
}

/** Each template x each field x each hostile value, each field missing: the exhaustive wrong-type table. */
export function* wrongTypeTable(): Generator<{ template: Template; text: string; label: string }> {
  for (const template of TEMPLATES) {
    for (let i = 0; i < template.fields.length; i++) {
      const key = template.fields[i]?.[0] ?? '';
      for (const value of HOSTILE_VALUES) {
        const fields = template.fields.map((f, j): Field => (j === i ? [f[0], value] : [f[0], f[1]]));
        yield { template, text: serialize(fields), label: `${template.name}.${key}=${value.slice(0, 20)}` };
      }
      yield { template, text: serialize(template.fields.filter((_f, j) => j !== i)), label: `${template.name}.${key}:missing` };
      for (const pk of PROTO_KEYS) {
        yield { template, text: serialize([...template.fields, [pk, '{"polluted":1}']]), label: `${template.name}+${pk}` };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Frames (WebSocket message payloads)

export interface FuzzFrame {
  readonly data: Buffer;
  readonly binary: boolean;
  /** Generator that produced it, for the histogram and failure reports. */
  readonly kind: string;
}

export interface FrameContext {
  readonly proto: Proto;
  /** Before auth the interesting inputs are credentials; after it, control messages and input. */
  readonly phase: 'auth' | 'session';
  /** Live runs keep frames that a real SSH login can accept and skip the very biggest. */
  readonly live: boolean;
  /** ws-read-limit of the bridge under test (live), for oversized frames. */
  readonly readLimit?: number;
}

function templatesFor(ctx: FrameContext, rng: Rng): Template {
  const own = TEMPLATES.filter((t) => t.proto === ctx.proto);
  const other = TEMPLATES.filter((t) => t.proto !== ctx.proto);
  if (rng.bool(0.1)) return rng.pick(other);
  if (ctx.phase === 'auth' && rng.bool(0.6)) return rng.pick(own.filter((t) => t.auth));
  return rng.pick(own);
}

const text = (s: string, kind: string): FuzzFrame => ({ data: Buffer.from(s, 'utf8'), binary: false, kind });

/** Pad a message with JSON whitespace to exactly `size` bytes (or leave it when already longer). */
function padTo(s: string, size: number, rng: Rng): string {
  const n = size - Buffer.byteLength(s);
  if (n <= 0) return s;
  return rng.bool() ? `${' '.repeat(n)}${s}` : `${s.slice(0, -1)}${' '.repeat(n)}}`;
}

/** One hostile (or, sometimes, valid) frame for a connection in `ctx`. */
export function genFrame(rng: Rng, ctx: FrameContext): FuzzFrame {
  const limit = ctx.readLimit ?? 64 * 1024;
  const kind = rng.weighted<string>([
    [6, 'random-bytes'], [4, 'random-text'], [4, 'invalid-utf8'], [14, 'mutated-fields'], [6, 'valid'],
    [8, 'mutated-bytes'], [2, 'deep-nesting'], [0.7, 'size-boundary'], [0.7, 'oversized'], [4, 'wrong-type'],
    [3, 'control-first'], [3, 'huge-resize'], [2, 'json-as-binary'], [2, 'empty'], [2, 'json-scalar'],
  ]);
  switch (kind) {
    case 'random-bytes': {
      const data = randomBytes(rng, rng.bool(0.99) ? 512 : 70_000);
      return { data, binary: rng.bool(), kind };
    }
    case 'random-text':
      return text(randomString(rng, rng.bool(0.99) ? 300 : 20_000), kind);
    case 'invalid-utf8':
      return { data: invalidUtf8(rng), binary: false, kind };
    case 'mutated-fields': {
      const t = templatesFor(ctx, rng);
      return text(serialize(mutateFields(rng, validFields(rng, t, ctx.live)), rng), `${kind}:${t.name}`);
    }
    case 'valid': {
      const t = templatesFor(ctx, rng);
      return text(serialize(validFields(rng, t, ctx.live), rng, false), `${kind}:${t.name}`);
    }
    case 'mutated-bytes': {
      const t = templatesFor(ctx, rng);
      return { data: mutateBytes(rng, Buffer.from(serialize(validFields(rng, t, ctx.live)))), binary: rng.bool(0.15), kind: `${kind}:${t.name}` };
    }
    case 'deep-nesting': {
      const { text: s } = deepNesting(rng);
      return { data: Buffer.from(s), binary: rng.bool(0.1), kind };
    }
    case 'size-boundary': {
      // Around the seed control limit (4096) and the v1 / seed-credentials limit (64 KiB).
      const t = templatesFor(ctx, rng);
      const size = rng.pick([4095, 4096, 4097, 65535, 65536, 65537]) + rng.range(-2, 2);
      return text(padTo(serialize(validFields(rng, t, ctx.live)), Math.min(size, limit), rng), `${kind}:${size}`);
    }
    case 'oversized': {
      const size = limit + rng.weighted<number>([[3, 1], [2, rng.range(2, 1024)], [1, rng.range(1024, 200_000)]]);
      const data = Buffer.alloc(size, rng.pick([0x20, 0x61, 0x7b, 0x5b]));
      return { data, binary: rng.bool(), kind };
    }
    case 'wrong-type': {
      const t = templatesFor(ctx, rng);
      const fields = validFields(rng, t, ctx.live);
      const i = rng.int(fields.length);
      const f = fields[i];
      if (f !== undefined) fields[i] = [f[0], rng.pick(HOSTILE_VALUES)];
      return text(serialize(fields), `${kind}:${t.name}.${f?.[0] ?? ''}`);
    }
    case 'control-first': {
      const names = ctx.proto === 'v1' ? ['v1.resize', 'v1.ping', 'v1.ack', 'v1.server', 'v1.hostkey-reply', 'v1.prompt-reply', 'v1.share', 'v1.share-revoke', 'v1.files'] : ['seed.resize', 'seed.ping'];
      const t = TEMPLATES.find((x) => x.name === rng.pick(names)) ?? TEMPLATES[0];
      if (t === undefined) throw new Error('no templates');
      return text(serialize(validFields(rng, t, ctx.live)), `${kind}:${t.name}`);
    }
    case 'huge-resize': {
      const v = (): string => rng.pick(['0', '-1', '10000', '10001', '65535', '65536', '4294967295', '4294967296', '1e9', '1e308', '1e400', '1.5', '"80"', 'null', '9007199254740993', String(rng.range(1, 10000))]);
      const s = ctx.proto === 'v1' ? `{"type":"resize","cols":${v()},"rows":${v()}}` : `{"action":"resize","cols":${v()},"rows":${v()}}`;
      return text(s, kind);
    }
    case 'json-as-binary': {
      const t = templatesFor(ctx, rng);
      return { data: Buffer.from(serialize(validFields(rng, t, ctx.live))), binary: true, kind: `${kind}:${t.name}` };
    }
    case 'empty':
      return { data: Buffer.from(rng.pick(['', ' ', '\n', '{', '}', '{}', '\u0000'])), binary: rng.bool(), kind };
    default:
      return text(rng.pick(['null', 'true', '1', '"str"', '[1,2]', '[]', '{"a":1}', '{"action":"other"}', '{"type":null}', '{"type":1}', '{"type":["auth"]}', '{"type":"auth"}']), kind);
  }
}

// ---------------------------------------------------------------------------------------------
// Routes

const GOOD_HOSTS: readonly string[] = [
  '127.0.0.1', 'localhost', 'fuzz.test', 'example.com', '[::1]', '::1', '%5B%3A%3A1%5D', '%5b%3a%3a1%5d', '2001:db8::1',
  '[2001:DB8::1]', 'a-b_c.d', 'xn--bcher-kva.example', 'EXAMPLE.COM', 'trailing.dot.', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
  '::ffff:127.0.0.1', '0.0.0.0', '255.255.255.255', '169.254.169.254', 'meta.test', 'v6.test', 'missing.test',
];

const BAD_HOSTS: readonly string[] = [
  '', '0177.0.0.1', '2130706433', '0x7f.1', '0x7f000001', '127.1', '[127.0.0.1]', '[::1', '::1]', '[[::1]]', 'fe80::1%eth0',
  'fe80::1%25eth0', '[fe80::1%25eth0]', 'user@host', 'user:pw@host', 'a..b', '-', '.', '..', 'a b', 'a%00b', '%', '%zz', '%C0%AF',
  '%E2%80%AE', '%ED%A0%80', '%F0%9F%92%A9', 'a'.repeat(64), `${'a.'.repeat(127)}a`, '1.2.3.4.5', '256.1.1.1', ':', '[]', '[v1.x]',
  'ünïcode', '%2F', 'a%2Fb', 'a%3A22', '%5B', '%5D', 'a\u0000b', 'host\r\nX: y', 'h\tt', 'foo.123', 'foo.0x1f', '1.2.3', '%25', '%2525',
  '[::ffff:169.254.169.254]', 'localhost:22', '*', 'a,b', 'a;b', 'a\\b',
];

const PORTS: readonly string[] = [
  '22', '0', '1', '65535', '65536', '022', '0000022', '99999999999999999999', '-1', '+22', ' 22', '22 ', '2_2', '0x16',
  '1e3', '\u0662\u0662', '', '22.0', '%32%32', '１', '4294967318', '00000000000000000000022',
];

function percentEncode(rng: Rng, s: string): string {
  let out = '';
  for (const ch of s) {
    if (rng.bool(0.3)) {
      for (const b of Buffer.from(ch)) {
        const hex = b.toString(16).padStart(2, '0');
        out += `%${rng.bool() ? hex.toUpperCase() : hex}`;
      }
    } else out += ch;
  }
  return out;
}

/** A request path aimed at the `/ws/{host}/{port}` parser. `sshPort` is a port that really serves SSH. */
export function genWsPath(rng: Rng, sshPort = 22): string {
  const host = (): string => {
    const base = rng.weighted<string>([
      [4, rng.pick(GOOD_HOSTS)], [4, rng.pick(BAD_HOSTS)], [2, randomString(rng, 40)],
      [1, rng.bytes(rng.range(1, 12)).toString('latin1')],
    ]);
    return rng.bool(0.2) ? percentEncode(rng, base) : base;
  };
  const port = (): string => rng.weighted<string>([[3, String(sshPort)], [4, rng.pick(PORTS)], [1, String(rng.int(100_000))], [1, randomString(rng, 8)]]);
  switch (rng.int(12)) {
    case 0: return `/ws/${host()}`;
    case 1: return `/ws//${port()}`;
    case 2: return `/ws/${host()}/${port()}/${randomString(rng, 6)}`;
    case 3: return `/ws/${host()}/${port()}/`;
    case 4: return rng.pick([`/WS/${host()}/${port()}`, `//ws/${host()}/${port()}`, `/ws/${host()}//${port()}`, `ws/${host()}/${port()}`, `/ws%2F${host()}/${port()}`]);
    case 5: return randomString(rng, 60);
    case 6: return `/ws/${'x'.repeat(rng.size(9000))}/${port()}`;
    default: return `/ws/${host()}/${port()}`;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP upgrade requests for raw TCP

export interface HttpContext {
  /** The bridge's port (for Host and Origin). */
  readonly bridgePort: number;
  /** The fake SSH server's port: a route that really upgrades. */
  readonly sshPort: number;
  /** A loopback port with nothing listening. */
  readonly closedPort: number;
}

export interface HttpCase {
  /** Request bytes, written as separate chunks (split at random points). */
  readonly chunks: Buffer[];
  readonly label: string;
  /** The head is incomplete on purpose: the bridge must time it out (408) or close. */
  readonly incomplete: boolean;
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function token(rng: Rng, max: number): string {
  let s = '';
  const n = rng.range(1, max);
  for (let i = 0; i < n; i++) s += TOKEN_CHARS[rng.int(TOKEN_CHARS.length)] ?? 'x';
  return s;
}

function randomIp(rng: Rng): string {
  switch (rng.int(6)) {
    case 0: return `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
    case 1: return `2001:db8::${rng.int(0xffff).toString(16)}`;
    case 2: return rng.pick(['unknown', '_hidden', '', ' ', '127.0.0.1', '::1', '169.254.169.254', '::ffff:10.0.0.1', '[::1]', '1.2.3.4:5678']);
    case 3: return randomString(rng, 10).replace(/[\r\n,]/g, '');
    default: return `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
  }
}

export function wsKey(rng: Rng): string {
  return rng.bytes(16).toString('base64');
}

/** A subprotocol header value: v1, unknown tokens, junk, duplicates. */
export function genSubprotocols(rng: Rng): string | undefined {
  switch (rng.int(8)) {
    case 0: return undefined;
    case 1: return V1;
    case 2: return `${token(rng, 10)}, ${V1}`;
    case 3: return Array.from({ length: rng.range(1, 5) }, () => token(rng, 12)).join(', ');
    case 4: return rng.pick([' , ,', ',', '', `${V1},${V1}`, `${V1} ${V1}`, 'a b', '(x)', '"webssh-bridge.v1"', 'WEBSSH-BRIDGE.V1', `${V1}\u0000`]);
    case 5: return Array.from({ length: rng.range(50, 500) }, () => token(rng, 8)).join(',');
    case 6: return randomString(rng, 40).replace(/[\r\n]/g, '');
    default: return rng.bool() ? V1 : token(rng, 16);
  }
}

/**
 * A whole HTTP request (usually an upgrade) with hostile parts. `upgradeWell` makes the
 * WebSocket headers valid so the request reaches the route and policy checks.
 */
export function genHttpRequest(rng: Rng, ctx: HttpContext): HttpCase {
  const labels: string[] = [];
  const method = rng.weighted<string>([
    [14, 'GET'], [1, 'POST'], [1, 'PUT'], [1, 'HEAD'], [1, 'OPTIONS'], [1, 'DELETE'], [1, 'CONNECT'], [1, 'TRACE'],
    [1, 'get'], [1, token(rng, 10)], [1, 'G ET'], [1, rng.bytes(rng.range(1, 6)).toString('latin1')],
  ]);
  if (method !== 'GET') labels.push(`method`);
  const goodPath = `/ws/127.0.0.1/${ctx.sshPort}`;
  const target = rng.weighted<string>([
    [6, goodPath], [2, `/ws/fuzz.test/${ctx.sshPort}`], [1, `/ws/127.0.0.1/${ctx.closedPort}`], [1, `/ws/%5B%3A%3A1%5D/${ctx.closedPort}`],
    [1, '/ws/meta.test/22'], [1, '/ws/missing.test/22'], [8, genWsPath(rng, ctx.sshPort)], [1, '/'], [1, '/health'], [1, '/healthz'], [1, '/readyz'],
    [1, '/metrics'], [1, '/config.json'], [1, '/index.html'], [1, '*'], [1, `http://127.0.0.1:${ctx.bridgePort}${goodPath}`],
    [1, `${goodPath}?${randomString(rng, 30).replace(/[\s]/g, '')}`], [1, `${goodPath}#frag`], [1, `/${'a'.repeat(rng.size(20_000))}`],
    [1, '//'], [1, '//[::1'], [1, '\\\\host\\x'], [1, 'http://['],
  ]);
  if (target !== goodPath) labels.push('path');
  const version = rng.weighted<string>([[20, 'HTTP/1.1'], [1, 'HTTP/1.0'], [1, 'HTTP/2.0'], [1, 'HTTP/0.9'], [1, 'http/1.1'], [1, 'HTTP/1.1x'], [1, '']]);
  if (version !== 'HTTP/1.1') labels.push('version');

  const headers: Array<[string, string]> = [];
  const host = rng.weighted<string | undefined>([
    [14, `127.0.0.1:${ctx.bridgePort}`], [1, undefined], [1, ''], [1, 'x'.repeat(rng.size(12_000))], [1, 'evil.example'], [1, `127.0.0.1:${ctx.bridgePort}, evil.example`],
  ]);
  if (host !== undefined) headers.push(['Host', host]);
  if (host !== `127.0.0.1:${ctx.bridgePort}`) labels.push('host');
  if (rng.bool(0.05)) headers.push(['Host', 'second.example']);

  const upgradeWell = rng.bool(0.6);
  headers.push(['Upgrade', upgradeWell ? 'websocket' : rng.pick(['WebSocket', 'websocket, h2c', 'h2c', '', 'websocket\u0000', token(rng, 10)])]);
  headers.push(['Connection', upgradeWell ? 'Upgrade' : rng.pick(['keep-alive, Upgrade', 'upgrade', 'close', 'Upgrade, close', '', token(rng, 10)])]);
  if (!upgradeWell) labels.push('upgrade-hdr');
  if (rng.bool(0.05)) headers.splice(headers.length - 2, 2); // a plain request
  const key = rng.weighted<string | undefined>([[14, wsKey(rng)], [1, undefined], [1, 'x'], [1, ''], [1, rng.bytes(32).toString('base64')], [1, `${wsKey(rng)}, ${wsKey(rng)}`]]);
  if (key !== undefined) headers.push(['Sec-WebSocket-Key', key]);
  const version13 = rng.weighted<string | undefined>([[14, '13'], [1, undefined], [1, '8'], [1, '13, 8'], [1, 'abc'], [1, '']]);
  if (version13 !== undefined) headers.push(['Sec-WebSocket-Version', version13]);
  const protocols = genSubprotocols(rng);
  if (protocols !== undefined) headers.push(['Sec-WebSocket-Protocol', protocols]);
  if (rng.bool(0.05)) headers.push(['Sec-WebSocket-Protocol', V1]);
  if (rng.bool(0.1)) headers.push(['Sec-WebSocket-Extensions', rng.pick(['permessage-deflate; client_max_window_bits', 'permessage-deflate; server_max_window_bits=1', 'x-unknown', ';;;', randomString(rng, 30).replace(/[\r\n]/g, '')])]);
  if (rng.bool(0.3)) {
    labels.push('origin');
    headers.push(['Origin', rng.pick([
      `http://127.0.0.1:${ctx.bridgePort}`, 'null', 'http://evil.example', `http://${'a'.repeat(rng.size(14_000))}.example`,
      'file://', `http://127.0.0.1:${ctx.bridgePort}/path`, 'http://user:pw@127.0.0.1', 'javascript:alert(1)', randomString(rng, 50).replace(/[\r\n]/g, ''),
    ])]);
  }
  if (rng.bool(0.25)) {
    labels.push('xff');
    const n = rng.weighted<number>([[3, rng.range(1, 5)], [2, rng.range(10, 200)], [1, rng.range(500, 2000)]]);
    const entries = Array.from({ length: n }, () => randomIp(rng));
    if (rng.bool()) headers.push(['X-Forwarded-For', entries.join(', ')]);
    else for (let i = 0; i < Math.min(n, 100); i++) headers.push(['X-Forwarded-For', entries[i] ?? '']);
  }
  if (rng.bool(0.15)) {
    labels.push('junk-headers');
    const n = rng.weighted<number>([[3, rng.range(1, 10)], [1, rng.range(60, 120)]]);
    for (let i = 0; i < n; i++) headers.push([token(rng, 20), randomString(rng, 40).replace(/[\r\n]/g, '')]);
  }
  if (rng.bool(0.05)) { labels.push('huge-head'); headers.push(['X-Pad', 'p'.repeat(rng.range(15_000, 40_000))]); }

  const lines = [`${method} ${target} ${version}`.replace(/ $/, ''), ...headers.map(([k, v]) => `${k}: ${v}`)];
  const weird = rng.bool(0.12) ? rng.int(7) : -1;
  if (weird >= 0) labels.push(`weird${weird}`);
  switch (weird) {
    case 0: lines.push('NoColonHeader'); break;
    case 1: lines.push(' folded continuation'); break;
    case 2: lines.push('Bad Header: x'); break;
    case 3: lines.push('X-Nul: a\u0000b'); break;
    case 4: lines.push('Content-Length: 5', 'Transfer-Encoding: chunked'); break;
    case 5: lines.push('Content-Length: 10', 'Content-Length: 20'); break;
    case 6: lines.push('Transfer-Encoding: chunked'); break;
    default: break;
  }
  const eol = rng.bool(0.05) ? '\n' : '\r\n';
  const incomplete = rng.bool(0.03);
  let head = lines.join(eol) + (incomplete ? eol : `${eol}${eol}`);
  if (incomplete) labels.push('incomplete');
  if (!incomplete && rng.bool(0.1)) { labels.push('body'); head += rng.pick(['hello', '0\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', randomString(rng, 100)]); }
  let bytes: Buffer = Buffer.from(head, 'latin1');
  if (rng.bool(0.05)) { labels.push('raw-bytes'); bytes = rng.bool() ? randomBytes(rng, 4000) : mutateBytes(rng, bytes); }
  const chunks: Buffer[] = [];
  let rest = bytes;
  const parts = rng.weighted<number>([[6, 1], [2, rng.range(2, 5)], [1, Math.min(64, rest.length)]]);
  for (let i = 1; i < parts && rest.length > 1; i++) {
    const cut = rng.range(1, rest.length - 1);
    chunks.push(rest.subarray(0, cut));
    rest = rest.subarray(cut);
  }
  chunks.push(rest);
  return { chunks, label: labels.length === 0 ? 'well-formed' : labels.join('+'), incomplete };
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket frames

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Buffer;
  readonly fin?: boolean;
  /** RSV1..3 bits, 0-7. */
  readonly rsv?: number;
  /** Clients must mask; false sends an unmasked frame. */
  readonly mask?: boolean;
  /** Force the 16- or 64-bit length form (non-minimal encodings are legal). */
  readonly lengthForm?: 'auto' | '16' | '64';
  /** Announce this length instead of the payload's (a lie: truncated or oversized frames). */
  readonly declaredLength?: bigint;
}

/** Encode one client frame. */
export function encodeFrame(spec: FrameSpec, maskKey: Buffer = Buffer.from([0x12, 0x34, 0x56, 0x78])): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const mask = spec.mask ?? true;
  const len = spec.declaredLength ?? BigInt(payload.length);
  const form = spec.lengthForm ?? 'auto';
  let header: Buffer;
  const b0 = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  const m = mask ? 0x80 : 0;
  if (form === 'auto' && len < 126n) header = Buffer.from([b0, m | Number(len)]);
  else if ((form === 'auto' && len < 65536n) || form === '16') {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = m | 126;
    header.writeUInt16BE(Number(len & 0xffffn), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = m | 127;
    header.writeBigUInt64BE(len & 0xffffffffffffffffn, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] ?? 0) ^ (maskKey[i & 3] ?? 0);
  return Buffer.concat([header, maskKey, masked]);
}

/** A close frame payload: code and reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

/** Split a text message into a valid fragmented sequence, optionally with pings in between. */
export function fragmentText(rng: Rng, data: Buffer, opcode: number = OP.TEXT): Buffer[] {
  const n = rng.range(2, Math.max(2, Math.min(6, data.length)));
  const cuts = new Set<number>();
  while (cuts.size < n - 1 && data.length > 1) cuts.add(rng.range(1, data.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), data.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const part = data.subarray(points[i], points[i + 1]);
    out.push(encodeFrame({ opcode: i === 0 ? opcode : OP.CONT, payload: part, fin: i + 2 === points.length }, rng.bytes(4)));
    if (rng.bool(0.3)) out.push(encodeFrame({ opcode: OP.PING, payload: rng.bytes(rng.int(20)) }, rng.bytes(4)));
  }
  return out;
}

export interface RawViolation {
  readonly label: string;
  readonly frames: Buffer[];
  /** Close codes the server may answer with (first violation wins); undefined: no expectation. */
  readonly expect: readonly number[] | undefined;
  /** The violation is a close frame of ours, so the server echoes our code. */
  readonly ownClose?: number;
}

/** One protocol violation (or an edge of the protocol), with the close code it must produce. */
export function genRawViolation(rng: Rng, readLimit: number): RawViolation {
  const k = (): Buffer => rng.bytes(4);
  const small = (): Buffer => rng.bytes(rng.int(50));
  switch (rng.int(22)) {
    case 0: return { label: 'rsv1', frames: [encodeFrame({ opcode: OP.BINARY, payload: small(), rsv: 4 }, k())], expect: [1002] };
    case 1: return { label: 'rsv2-3', frames: [encodeFrame({ opcode: rng.pick([OP.TEXT, OP.BINARY, OP.PING]), payload: small(), rsv: rng.pick([1, 2, 3, 7]) }, k())], expect: [1002] };
    case 2: return { label: 'bad-opcode', frames: [encodeFrame({ opcode: rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: small() }, k())], expect: [1002] };
    case 3: return { label: 'unmasked', frames: [encodeFrame({ opcode: rng.pick([OP.TEXT, OP.BINARY]), payload: Buffer.from('{"a":1}'), mask: false })], expect: [1002] };
    case 4: return { label: 'control-too-long', frames: [encodeFrame({ opcode: rng.pick([OP.PING, OP.PONG, OP.CLOSE]), payload: rng.bytes(rng.range(126, 400)) }, k())], expect: [1002] };
    case 5: return { label: 'fragmented-control', frames: [encodeFrame({ opcode: rng.pick([OP.PING, OP.PONG, OP.CLOSE]), payload: Buffer.alloc(0), fin: false }, k())], expect: [1002] };
    case 6: return { label: 'orphan-continuation', frames: [encodeFrame({ opcode: OP.CONT, payload: small() }, k())], expect: [1002] };
    case 7: return {
      label: 'data-inside-fragmented',
      frames: [encodeFrame({ opcode: OP.BINARY, payload: small(), fin: false }, k()), encodeFrame({ opcode: rng.pick([OP.TEXT, OP.BINARY]), payload: small() }, k())],
      expect: [1002],
    };
    case 8: return { label: 'length-2^63', frames: [encodeFrame({ opcode: OP.BINARY, payload: small(), declaredLength: 0x8000000000000000n + BigInt(rng.int(1000)) }, k())], expect: [1009] };
    case 9: return { label: 'length-2^53', frames: [encodeFrame({ opcode: OP.BINARY, payload: small(), declaredLength: 2n ** 53n + BigInt(rng.int(1000)) }, k())], expect: [1009] };
    case 10: return { label: 'declared-over-limit', frames: [encodeFrame({ opcode: rng.pick([OP.TEXT, OP.BINARY]), payload: small(), declaredLength: BigInt(readLimit + 1 + rng.int(1 << 20)) }, k())], expect: [1009] };
    case 11: {
      // Fragments that are each small but add up past the limit.
      const part = Math.ceil(readLimit / 3) + 1;
      return {
        label: 'fragments-over-limit',
        frames: [0, 1, 2, 3].map((i) => encodeFrame({ opcode: i === 0 ? OP.BINARY : OP.CONT, payload: Buffer.alloc(part, 0x61), fin: i === 3 }, k())),
        expect: [1009],
      };
    }
    case 12: return { label: 'close-1-byte', frames: [encodeFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) }, k())], expect: [1002] };
    case 13: {
      const code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]);
      return { label: `close-code-${code}`, frames: [encodeFrame({ opcode: OP.CLOSE, payload: closePayload(code) }, k())], expect: [1002] };
    }
    case 14: return { label: 'close-bad-utf8', frames: [encodeFrame({ opcode: OP.CLOSE, payload: closePayload(1000, Buffer.from([0x61, 0xff, 0xc0])) }, k())], expect: [1007] };
    case 15: return { label: 'text-bad-utf8', frames: [encodeFrame({ opcode: OP.TEXT, payload: invalidUtf8(rng, 100) }, k())], expect: [1007] };
    case 16: return { label: 'fragmented-bad-utf8', frames: fragmentText(rng, invalidUtf8(rng, 100)), expect: [1007] };
    case 17: {
      const code = rng.pick([1000, 1001, 1003, 1007, 1011, 3000, 4000, 4999]);
      const after = Array.from({ length: rng.range(1, 5) }, () => encodeFrame({ opcode: rng.pick([OP.TEXT, OP.BINARY, OP.PING, 3, OP.CONT]), payload: small() }, k()));
      return { label: 'frames-after-close', frames: [encodeFrame({ opcode: OP.CLOSE, payload: closePayload(code, rng.bool() ? 'bye' : '') }, k()), ...after], expect: [code], ownClose: code };
    }
    case 18: return { label: 'empty-close', frames: [encodeFrame({ opcode: OP.CLOSE }, k())], expect: [1005], ownClose: 1005 };
    case 19: return { label: 'garbage', frames: [randomBytes(rng, 2000)], expect: undefined };
    case 20: return { label: 'non-minimal-length', frames: [encodeFrame({ opcode: OP.BINARY, payload: small(), lengthForm: rng.pick(['16', '64'] as const) }, k())], expect: undefined };
    default: return { label: 'ping-pong', frames: [encodeFrame({ opcode: rng.pick([OP.PING, OP.PONG]), payload: rng.bytes(rng.int(126)) }, k())], expect: undefined };
  }
}
