/**
 * Pure-codec fuzzing: hostile frames through seedCodec / v1Codec (decodeAuth and decode) and
 * hostile paths through parseWsPath. Every call must either return a value of the declared
 * shape that respects the documented invariants (checked against an independent reading of the
 * input: JSON.parse and the rules of docs/protocol.md) or throw a BridgeError with an allowed
 * code that never quotes a secret. Anything else is a failure, as is a call slower than
 * `hangMs` or a change to Object.prototype.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isBridgeError, type ErrorCode } from '../../src/errors.js';
import { parseWsPath } from '../../src/http/ws-path.js';
import { SEED_AUTH_MAX_BYTES, SEED_CONTROL_MAX_BYTES, seedCodec } from '../../src/protocol/seed.js';
import { INVALID_RESIZE_REASON, MAX_DIMENSION, MAX_PROMPT_RESPONSE_BYTES, MAX_USERNAME_LENGTH, TERM_PATTERN } from '../../src/protocol/types.js';
import type { ClientMessage, Codec, Credentials } from '../../src/protocol/types.js';
import { MAX_JUMP_HOPS, MAX_PRIVATE_KEY_BYTES, MAX_SNAPSHOT_BYTES, V1_TEXT_MAX_BYTES, v1Codec } from '../../src/protocol/v1.js';
import { CANARY, genFrame, genWsPath, wrongTypeTable, type FuzzFrame, type Proto } from './generators.js';
import { Rng, deriveSeed } from './rng.js';

export interface CodecFuzzOptions {
  readonly seed: number;
  readonly iterations: number;
  /** A single call slower than this is reported as a hang (default 1000 ms). */
  readonly hangMs?: number;
  /** Failures kept in the report (all are counted). */
  readonly maxFailures?: number;
  /** Run only this case index (replay). */
  readonly only?: number;
  readonly onProgress?: (done: number, elapsedMs: number) => void;
}

export interface CodecFailure {
  readonly index: number;
  readonly caseSeed: number;
  readonly target: string;
  readonly kind: string;
  readonly binary: boolean;
  readonly length: number;
  /** The first bytes of the input, JSON-escaped. */
  readonly input: string;
  readonly problem: string;
}

export interface CodecFuzzReport {
  readonly seed: number;
  readonly iterations: number;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly maxCallMs: number;
  readonly slowest: string;
  /** `target:ok:kind` / `target:err:CODE` counts. */
  readonly outcomes: Record<string, number>;
  /** Frames per generator family. */
  readonly kinds: Record<string, number>;
  readonly failureCount: number;
  readonly failures: CodecFailure[];
}

const FRAME_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['PROTOCOL_ERROR']);
const PATH_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_PATH', 'BAD_PORT']);

const hasOwn = (o: unknown, k: string): boolean => typeof o === 'object' && o !== null && Object.hasOwn(o, k);
const field = (o: unknown, k: string): unknown => (hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDim = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_DIMENSION;
const sameKeys = (o: object, keys: readonly string[]): boolean => Object.keys(o).sort().join(',') === [...keys].sort().join(',');

/** JSON.parse or a marker: the oracle's own reading of a frame. */
const NOT_JSON = Symbol('not json');
function oracleParse(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Problems with credentials a codec accepted, or undefined. */
export function checkCredentials(c: Credentials, codec: Codec, data: Buffer, binary: boolean): string | undefined {
  const v1 = codec.name === 'v1';
  if (v1 && binary) return 'v1 accepted credentials in a binary frame';
  if (data.length > (v1 ? V1_TEXT_MAX_BYTES : SEED_AUTH_MAX_BYTES)) return `accepted a ${data.length}-byte credentials frame`;
  if (Object.getPrototypeOf(c) !== Object.prototype || !sameKeys(c, ['username', 'auth', 'term', 'cols', 'rows', 'flowControl', 'resume', 'jump'])) return `credentials shape: ${Object.keys(c).join(',')}`;
  const parsed = oracleParse(data);
  if (!isObject(parsed)) return 'accepted credentials that are not a JSON object';
  if (v1 && field(parsed, 'type') !== 'auth') return 'v1 accepted credentials whose type is not "auth"';
  const u = c.username;
  if (typeof u !== 'string' || u.length === 0 || u.length > MAX_USERNAME_LENGTH || hasControlChar(u)) return `bad username accepted: ${JSON.stringify(u)}`;
  if (field(parsed, 'username') !== u) return 'username differs from the frame';
  const a = c.auth;
  if (Object.getPrototypeOf(a) !== Object.prototype) return 'auth has a foreign prototype';
  const method = field(parsed, 'method') ?? 'password';
  if (a.method === 'password') {
    if (!sameKeys(a, ['method', 'password'])) return 'password auth shape';
    if (typeof a.password !== 'string' || a.password !== field(parsed, 'password')) return 'password differs from the frame';
    if (v1 && method !== 'password') return `v1 method ${JSON.stringify(method)} decoded as password`;
  } else if (a.method === 'publickey') {
    if (!v1) return 'seed decoded a publickey auth';
    if (!sameKeys(a, ['method', 'privateKey', 'passphrase'])) return 'publickey auth shape';
    if (method !== 'publickey') return 'publickey without method publickey';
    if (typeof a.privateKey !== 'string' || a.privateKey.length === 0 || Buffer.byteLength(a.privateKey) > MAX_PRIVATE_KEY_BYTES) return 'bad privateKey accepted';
    if (a.privateKey !== field(parsed, 'privateKey')) return 'privateKey differs from the frame';
    if (a.passphrase !== undefined && typeof a.passphrase !== 'string') return 'non-string passphrase accepted';
    if (a.passphrase !== (field(parsed, 'passphrase') ?? undefined)) return 'passphrase differs from the frame';
  } else if (a.method === 'keyboard-interactive') {
    if (!v1) return 'seed decoded a keyboard-interactive auth';
    if (!sameKeys(a, ['method'])) return 'keyboard-interactive auth shape';
    if (method !== 'keyboard-interactive') return 'keyboard-interactive without the method';
  } else {
    return `unknown auth method ${JSON.stringify((a as { method: unknown }).method)}`;
  }
  if (!v1) {
    if (c.term !== undefined || c.cols !== undefined || c.rows !== undefined || c.flowControl !== false || c.resume !== false || c.jump.length !== 0) return 'seed credentials carry v1-only fields';
    return undefined;
  }
  const term = field(parsed, 'term') ?? undefined;
  if (c.term !== term) return 'term differs from the frame';
  if (c.term !== undefined && (typeof c.term !== 'string' || !TERM_PATTERN.test(c.term))) return `bad term accepted: ${JSON.stringify(c.term)}`;
  if ((c.cols === undefined) !== (c.rows === undefined)) return 'only one of cols/rows';
  if (c.cols !== undefined && (!isDim(c.cols) || !isDim(c.rows))) return `bad size accepted: ${String(c.cols)}x${String(c.rows)}`;
  if (c.cols !== (field(parsed, 'cols') ?? undefined) || c.rows !== (field(parsed, 'rows') ?? undefined)) return 'size differs from the frame';
  if (typeof c.flowControl !== 'boolean' || c.flowControl !== (field(parsed, 'flowControl') ?? false)) return 'flowControl differs from the frame';
  if (typeof c.resume !== 'boolean' || c.resume !== (field(parsed, 'resume') ?? false)) return 'resume differs from the frame';
  const hops = field(parsed, 'jump') ?? [];
  if (!Array.isArray(hops) || c.jump.length !== hops.length || c.jump.length > MAX_JUMP_HOPS) return 'jump differs from the frame';
  for (const [i, hop] of c.jump.entries()) {
    const raw: unknown = hops[i];
    if (!isObject(raw) || hop.username !== field(raw, 'username') || hop.auth.method !== (field(raw, 'method') ?? 'password')) return `jump hop ${i + 1} differs from the frame`;
  }
  return undefined;
}

/** The seed oracle: is this text frame a control message, per docs/protocol.md? */
function seedControlOracle(data: Buffer): { action: 'resize' | 'ping'; obj: Record<string, unknown> } | null {
  if (data.length > SEED_CONTROL_MAX_BYTES) return null;
  let first = -1;
  for (const b of data) {
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) {
      first = b;
      break;
    }
  }
  if (first !== 0x7b) return null;
  const parsed = oracleParse(data);
  if (!isObject(parsed)) return null;
  const action = field(parsed, 'action');
  return action === 'resize' || action === 'ping' ? { action, obj: parsed } : null;
}

/** Problems with a message a codec decoded, or undefined. */
export function checkMessage(m: ClientMessage, codec: Codec, data: Buffer, binary: boolean): string | undefined {
  if (Object.getPrototypeOf(m) !== Object.prototype) return 'message has a foreign prototype';
  if (binary) {
    if (m.kind !== 'input') return `binary frame decoded as ${m.kind}`;
  }
  switch (m.kind) {
    case 'input':
      if (!sameKeys(m, ['kind', 'data'])) return 'input shape';
      if (!Buffer.isBuffer(m.data) || !m.data.equals(data)) return 'input data is not the frame, byte for byte';
      if (!binary && codec.name === 'v1') return 'v1 text frame decoded as input';
      if (!binary && codec.name === 'seed' && seedControlOracle(data) !== null) return 'seed control message typed as input';
      return undefined;
    case 'resize':
    case 'ignored': {
      if (m.kind === 'resize' && (!sameKeys(m, ['kind', 'cols', 'rows']) || !isDim(m.cols) || !isDim(m.rows))) return `bad resize ${JSON.stringify(m)}`;
      if (m.kind === 'ignored' && (!sameKeys(m, ['kind', 'reason']) || m.reason !== INVALID_RESIZE_REASON)) return `bad ignored ${JSON.stringify(m)}`;
      const parsed = oracleParse(data);
      if (codec.name === 'seed') {
        if (seedControlOracle(data)?.action !== 'resize') return `seed ${m.kind} from a frame that is not a resize`;
      } else if (field(parsed, 'type') !== 'resize') return `v1 ${m.kind} from a frame that is not a resize`;
      const valid = isDim(field(parsed, 'cols')) && isDim(field(parsed, 'rows'));
      if (m.kind === 'ignored') return valid ? 'a valid resize was ignored' : undefined;
      if (!valid || m.cols !== field(parsed, 'cols') || m.rows !== field(parsed, 'rows')) return 'resize differs from the frame';
      return undefined;
    }
    case 'ping': {
      if (!sameKeys(m, ['kind', 'payload'])) return 'ping shape';
      const parsed = oracleParse(data);
      if (codec.name === 'seed') {
        if (m.payload !== undefined) return 'seed ping with a payload';
        return seedControlOracle(data)?.action === 'ping' ? undefined : 'seed ping from a frame that is not a ping';
      }
      if (field(parsed, 'type') !== 'ping') return 'v1 ping from a frame that is not a ping';
      if (JSON.stringify(m.payload) !== JSON.stringify(field(parsed, 'payload'))) return 'ping payload differs from the frame';
      // The session echoes it: encoding the pong must not throw and must round-trip.
      const pong = v1Codec.encode({ type: 'pong', payload: m.payload });
      if (pong === null) return 'v1 pong encoded as null';
      const back = JSON.parse(pong) as unknown;
      if (field(back, 'type') !== 'pong' || JSON.stringify(field(back, 'payload')) !== JSON.stringify(m.payload)) return 'pong does not round-trip';
      return undefined;
    }
    case 'ack': {
      if (codec.name !== 'v1') return 'seed decoded an ack';
      if (!sameKeys(m, ['kind', 'bytes']) || !Number.isSafeInteger(m.bytes) || m.bytes < 0) return `bad ack ${JSON.stringify(m)}`;
      const parsed = oracleParse(data);
      return field(parsed, 'type') === 'ack' && field(parsed, 'bytes') === m.bytes ? undefined : 'ack differs from the frame';
    }
    case 'hostkey-reply': {
      if (codec.name !== 'v1') return 'seed decoded a hostkey-reply';
      if (!sameKeys(m, ['kind', 'accept']) || typeof m.accept !== 'boolean') return `bad hostkey-reply ${JSON.stringify(m)}`;
      const parsed = oracleParse(data);
      return field(parsed, 'type') === 'hostkey-reply' && field(parsed, 'accept') === m.accept ? undefined : 'hostkey-reply differs from the frame';
    }
    case 'prompt-reply': {
      if (codec.name !== 'v1') return 'seed decoded a prompt-reply';
      if (!sameKeys(m, ['kind', 'responses']) || !Array.isArray(m.responses)) return 'prompt-reply shape';
      if (!m.responses.every((r) => typeof r === 'string' && Buffer.byteLength(r) <= MAX_PROMPT_RESPONSE_BYTES)) return 'prompt-reply with a non-string or over-long response';
      const parsed = oracleParse(data);
      if (field(parsed, 'type') !== 'prompt-reply' || JSON.stringify(field(parsed, 'responses')) !== JSON.stringify(m.responses)) return 'prompt-reply differs from the frame';
      return undefined;
    }
    case 'share': {
      if (codec.name !== 'v1') return 'seed decoded a share';
      if (!sameKeys(m, ['kind', 'ttlMs', 'snapshot'])) return 'share shape';
      if (m.ttlMs !== undefined && (!Number.isSafeInteger(m.ttlMs) || m.ttlMs < 1)) return `bad share ttlMs ${String(m.ttlMs)}`;
      if (m.snapshot !== undefined && (typeof m.snapshot !== 'string' || Buffer.byteLength(m.snapshot) > MAX_SNAPSHOT_BYTES)) return 'bad share snapshot';
      const parsed = oracleParse(data);
      if (field(parsed, 'type') !== 'share' || m.ttlMs !== (field(parsed, 'ttlMs') ?? undefined) || m.snapshot !== (field(parsed, 'snapshot') ?? undefined)) return 'share differs from the frame';
      return undefined;
    }
    case 'share-revoke': {
      if (codec.name !== 'v1') return 'seed decoded a share-revoke';
      if (!sameKeys(m, ['kind', 'linkId'])) return 'share-revoke shape';
      const parsed = oracleParse(data);
      if (field(parsed, 'type') !== 'share-revoke' || m.linkId !== (field(parsed, 'linkId') ?? undefined)) return 'share-revoke differs from the frame';
      return undefined;
    }
    case 'files': {
      if (codec.name !== 'v1') return 'seed decoded a files';
      if (!sameKeys(m, ['kind'])) return 'files shape';
      return field(oracleParse(data), 'type') === 'files' ? undefined : 'files differs from the frame';
    }
    default:
      return `unknown message kind ${JSON.stringify(m)}`;
  }
}

/** Problems with a successful parseWsPath, or undefined. */
export function checkPath(r: { host: string; port: number }, path: string): string | undefined {
  if (!sameKeys(r, ['host', 'port'])) return 'path result shape';
  if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) return `port ${r.port}`;
  if (!/^\/ws\/[^/]+\/\d+$/.test(path)) return 'accepted a path outside /ws/{host}/{port}';
  const h = r.host;
  if (typeof h !== 'string' || h.length === 0) return 'empty host';
  if (h !== h.toLowerCase()) return `host not lowercased: ${h}`;
  // eslint-disable-next-line no-control-regex
  if (/[[\]%/@\s\u0000-\u001f\u007f]/.test(h)) return `host with forbidden characters: ${JSON.stringify(h)}`;
  const family = isIP(h);
  if (family === 4 || family === 6) return undefined;
  if (h.length > 253) return 'host name longer than 253';
  const labels = h.split('.');
  if (!labels.every((l) => /^[a-z0-9_-]{1,63}$/.test(l))) return `bad host name accepted: ${JSON.stringify(h)}`;
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? '')) return `numeric host accepted: ${h}`;
  return undefined;
}

/** Problems with a thrown value, or undefined. */
export function checkError(err: unknown, allowed: ReadonlySet<ErrorCode>): string | undefined {
  if (!isBridgeError(err)) {
    const e = err as { name?: unknown; message?: unknown };
    return `threw a non-BridgeError: ${String(e.name)}: ${String(e.message).slice(0, 200)}`;
  }
  if (!allowed.has(err.code)) return `threw code ${err.code}`;
  if (err.cause !== undefined) return 'error carries a cause (may quote the input)';
  // err.stack repeats the message (and formatting it costs more than the whole call).
  for (const s of [err.message, err.detail ?? '']) {
    if (s.includes(CANARY)) return 'error text quotes the secret';
  }
  return undefined;
}

/** The frame of case `index`: the exhaustive wrong-type table first, then generated frames. */
export function codecCase(seed: number, index: number, table: ReadonlyArray<{ text: string; label: string }>): { frame: FuzzFrame; path: string; caseSeed: number } {
  const caseSeed = deriveSeed(seed, index);
  const rng = new Rng(caseSeed);
  const entry = table[index];
  let frame: FuzzFrame;
  if (entry !== undefined) frame = { data: Buffer.from(entry.text), binary: false, kind: `table:${entry.label}` };
  else {
    const proto: Proto = rng.bool() ? 'seed' : 'v1';
    frame = genFrame(rng, { proto, phase: rng.bool() ? 'auth' : 'session', live: false });
  }
  return { frame, path: genWsPath(rng, 22), caseSeed };
}

/** Frames the oracle knows are valid: their decoding must succeed. */
function mustSucceed(kind: string, target: string): boolean {
  if (!kind.startsWith('valid:')) return false;
  const t = kind.slice('valid:'.length);
  switch (target) {
    case 'seed.decodeAuth': return t === 'seed.auth';
    case 'v1.decodeAuth': return t.startsWith('v1.auth');
    case 'v1.decode': return ['v1.resize', 'v1.ping', 'v1.ack', 'v1.hostkey-reply', 'v1.prompt-reply', 'v1.share', 'v1.share-revoke', 'v1.files'].includes(t);
    default: return false;
  }
}

function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 160).toString('latin1'));
}

export function runCodecFuzz(opts: CodecFuzzOptions): CodecFuzzReport {
  // Capturing a stack for each of the ~300,000 expected BridgeErrors is most of the cost of a
  // run; no check looks at stacks, so they are off while the (synchronous) run lasts.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fuzzCodecs(opts);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function fuzzCodecs(opts: CodecFuzzOptions): CodecFuzzReport {
  const hangMs = opts.hangMs ?? 1000;
  const maxFailures = opts.maxFailures ?? 20;
  const table = [...wrongTypeTable()];
  const protoNames = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  const outcomes: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  const failures: CodecFailure[] = [];
  let failureCount = 0;
  let calls = 0;
  let maxCallMs = 0;
  let slowest = '';
  const started = performance.now();
  const count = (key: string, into: Record<string, number> = outcomes): void => {
    into[key] = (into[key] ?? 0) + 1;
  };

  const first = opts.only ?? 0;
  const last = opts.only !== undefined ? opts.only + 1 : opts.iterations;
  for (let index = first; index < last; index++) {
    const { frame, path, caseSeed } = codecCase(opts.seed, index, table);
    count(frame.kind.split(':')[0] ?? frame.kind, kinds);
    const fail = (target: string, problem: string, data: Buffer, binary: boolean): void => {
      failureCount++;
      if (failures.length < maxFailures) failures.push({ index, caseSeed, target, kind: frame.kind, binary, length: data.length, input: preview(data), problem });
    };
    const timed = <T>(target: string, data: Buffer, binary: boolean, fn: () => T): { ok: true; value: T } | { ok: false; err: unknown } => {
      const t0 = performance.now();
      let result: { ok: true; value: T } | { ok: false; err: unknown };
      try {
        result = { ok: true, value: fn() };
      } catch (err) {
        result = { ok: false, err };
      }
      const ms = performance.now() - t0;
      calls++;
      if (ms > maxCallMs) {
        maxCallMs = ms;
        slowest = `${target} ${frame.kind} ${data.length} bytes (case ${index})`;
      }
      if (ms > hangMs) fail(target, `call took ${ms.toFixed(0)} ms`, data, binary);
      return result;
    };

    const { data, binary } = frame;
    for (const codec of [seedCodec, v1Codec] as const) {
      const authTarget = `${codec.name}.decodeAuth`;
      const a = timed(authTarget, data, binary, () => codec.decodeAuth(data, binary));
      if (a.ok) {
        count(`${authTarget}:ok`);
        const p = checkCredentials(a.value, codec, data, binary);
        if (p !== undefined) fail(authTarget, p, data, binary);
      } else {
        count(`${authTarget}:err:${isBridgeError(a.err) ? a.err.code : 'other'}`);
        const p = checkError(a.err, FRAME_ERRORS);
        if (p !== undefined) fail(authTarget, p, data, binary);
        else if (mustSucceed(frame.kind, authTarget)) fail(authTarget, `valid credentials refused: ${isBridgeError(a.err) ? a.err.message : ''}`, data, binary);
      }

      const decodeTarget = `${codec.name}.decode`;
      const d = timed(decodeTarget, data, binary, () => codec.decode(data, binary));
      if (d.ok) {
        count(`${decodeTarget}:ok:${d.value.kind}`);
        const p = checkMessage(d.value, codec, data, binary);
        if (p !== undefined) fail(decodeTarget, p, data, binary);
      } else {
        count(`${decodeTarget}:err:${isBridgeError(d.err) ? d.err.code : 'other'}`);
        if (codec.name === 'seed') fail(decodeTarget, `seed decode threw: ${String((d.err as Error).message)}`, data, binary);
        else {
          const p = checkError(d.err, FRAME_ERRORS);
          if (p !== undefined) fail(decodeTarget, p, data, binary);
          else if (binary) fail(decodeTarget, 'v1 binary frame refused', data, binary);
          else if (mustSucceed(frame.kind, decodeTarget)) fail(decodeTarget, `valid message refused: ${isBridgeError(d.err) ? d.err.message : ''}`, data, binary);
        }
      }
    }

    const pathBuf = Buffer.from(path);
    const r = timed('parseWsPath', pathBuf, false, () => parseWsPath(path));
    if (r.ok) {
      count('parseWsPath:ok');
      const p = checkPath(r.value, path);
      if (p !== undefined) fail('parseWsPath', p, pathBuf, false);
    } else {
      count(`parseWsPath:err:${isBridgeError(r.err) ? r.err.code : 'other'}`);
      const p = checkError(r.err, PATH_ERRORS);
      if (p !== undefined) fail('parseWsPath', p, pathBuf, false);
    }

    if (index % 1000 === 999 || index === last - 1) {
      const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
      const probe = {} as Record<string, unknown>;
      if (now !== protoNames || probe.polluted !== undefined) fail('Object.prototype', 'prototype polluted', data, binary);
      opts.onProgress?.(index + 1, performance.now() - started);
    }
  }
  return {
    seed: opts.seed, iterations: last - first, calls, elapsedMs: performance.now() - started, maxCallMs, slowest,
    outcomes, kinds, failureCount, failures,
  };
}
