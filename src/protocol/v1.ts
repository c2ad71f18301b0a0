/**
 * The v1 protocol (subprotocol `webssh-bridge.v1`): binary frames are terminal bytes both ways,
 * text frames are JSON control objects with a string `type`. Unlike the seed mode, a text frame
 * that is not a valid control message is an error, so client bugs surface instead of being typed
 * into a shell. Every message is documented in docs/protocol.md.
 */
import { BridgeError } from '../errors.js';
import type { AuthMethod, ClientMessage, Codec, Credentials, HopLogin, ResumeGrant, ServerControl } from './types.js';
import {
  INVALID_RESIZE_REASON,
  MAX_DIMENSION,
  MAX_PROMPT_RESPONSE_BYTES,
  TERM_PATTERN,
  checkUsername,
  isDimension,
  isJsonObject,
  ownField,
  parseJson,
} from './types.js';

export const V1_SUBPROTOCOL = 'webssh-bridge.v1';

/** Largest v1 text frame: the biggest control message is an auth with a 16 KiB key (with jump hosts, all their keys together must fit). */
export const V1_TEXT_MAX_BYTES = 64 * 1024;

/** Deepest JSON nesting we parse; no control message needs more than 2 (a ping payload may). */
export const V1_MAX_DEPTH = 32;

/** Largest owner snapshot on `share` (it must fit a text frame with room to spare). */
export const MAX_SNAPSHOT_BYTES = 48 * 1024;

/** Largest private key accepted on auth (an RSA-8192 PEM is about 6.5 KiB). */
export const MAX_PRIVATE_KEY_BYTES = 16 * 1024;

/** Most jump hosts on one route (`?jump=` and the `auth` message's `jump` logins). */
export const MAX_JUMP_HOPS = 3;

function protocolError(detail: string): BridgeError {
  return new BridgeError('PROTOCOL_ERROR', detail);
}

/**
 * True when brackets nest deeper than `max`, counted by one linear scan that skips strings. Runs
 * before JSON.parse, so hostile nesting is refused in O(n) without any recursion of ours.
 * UTF-8 continuation bytes are >= 0x80 and never look like ASCII brackets or quotes.
 */
function nestsDeeperThan(data: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x7b || byte === 0x5b) {
      depth++;
      if (depth > max) return true;
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** A text frame as a control object with its type, or PROTOCOL_ERROR. */
function parseControl(data: Buffer): { type: string; obj: Record<string, unknown> } {
  if (data.length > V1_TEXT_MAX_BYTES) throw protocolError('text frame larger than 64 KiB');
  if (nestsDeeperThan(data, V1_MAX_DEPTH)) throw protocolError(`JSON nested deeper than ${V1_MAX_DEPTH} levels`);
  const obj = parseJson(data.toString('utf8'));
  if (obj === undefined) throw protocolError('malformed JSON');
  if (!isJsonObject(obj)) throw protocolError('message must be a JSON object');
  const type = ownField(obj, 'type');
  if (typeof type !== 'string') throw protocolError('message needs a string "type"');
  return { type, obj };
}

/** An optional field: absent and `null` both mean "not given". */
function optional(obj: Record<string, unknown>, key: string): unknown {
  return ownField(obj, key) ?? undefined;
}

function decodeAuthMethod(obj: Record<string, unknown>): AuthMethod {
  const method = optional(obj, 'method') ?? 'password';
  if (method === 'password') {
    const password = ownField(obj, 'password');
    if (typeof password !== 'string') throw protocolError('password must be a string');
    return { method: 'password', password };
  }
  if (method === 'publickey') {
    const privateKey = ownField(obj, 'privateKey');
    if (typeof privateKey !== 'string' || privateKey.length === 0) {
      throw protocolError('privateKey must be a non-empty string');
    }
    if (Buffer.byteLength(privateKey) > MAX_PRIVATE_KEY_BYTES) throw protocolError('privateKey larger than 16 KiB');
    const passphrase = optional(obj, 'passphrase');
    if (passphrase !== undefined && typeof passphrase !== 'string') throw protocolError('passphrase must be a string');
    return { method: 'publickey', privateKey, passphrase };
  }
  if (method === 'keyboard-interactive') return { method: 'keyboard-interactive' };
  throw protocolError('unsupported auth method');
}

/** `jump`: one login per jump host of the route, at most MAX_JUMP_HOPS. */
function decodeJump(raw: unknown): HopLogin[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_JUMP_HOPS) throw protocolError(`jump must be an array of at most ${MAX_JUMP_HOPS} hop logins`);
  return raw.map((hop: unknown) => {
    if (typeof hop !== 'object' || hop === null || Array.isArray(hop)) throw protocolError('each jump entry must be an object');
    const entry = hop as Record<string, unknown>;
    return { username: checkUsername(ownField(entry, 'username')), auth: decodeAuthMethod(entry) };
  });
}

function decodeInitialSize(obj: Record<string, unknown>): { cols: number | undefined; rows: number | undefined } {
  const cols = optional(obj, 'cols');
  const rows = optional(obj, 'rows');
  if (cols === undefined && rows === undefined) return { cols: undefined, rows: undefined };
  if (cols === undefined || rows === undefined) throw protocolError('cols and rows must come together');
  if (!isDimension(cols) || !isDimension(rows)) {
    throw protocolError(`cols and rows must be integers 1-${MAX_DIMENSION}`);
  }
  return { cols, rows };
}

function grant(g: ResumeGrant): { token: string; graceMs: number } {
  return { token: g.token, graceMs: g.graceMs };
}

/** v1 codec. Error details are fixed texts and never quote the frame (which may hold secrets). */
export const v1Codec: Codec = Object.freeze({
  name: 'v1' as const,
  caps: Object.freeze({ questions: true, resume: true, bannerMessage: true }),

  decodeAuth(data: Buffer, isBinary: boolean): Credentials {
    if (isBinary) throw protocolError('expected an auth message, got a binary frame');
    const { type, obj } = parseControl(data);
    if (type !== 'auth') throw protocolError('expected an auth message first');
    const username = checkUsername(ownField(obj, 'username'));
    const auth = decodeAuthMethod(obj);
    const term = optional(obj, 'term');
    if (term !== undefined && (typeof term !== 'string' || !TERM_PATTERN.test(term))) {
      throw protocolError('term must match [A-Za-z0-9._+-]{1,64}');
    }
    const { cols, rows } = decodeInitialSize(obj);
    const flow = optional(obj, 'flowControl') ?? false;
    if (typeof flow !== 'boolean') throw protocolError('flowControl must be a boolean');
    const resume = optional(obj, 'resume') ?? false;
    if (typeof resume !== 'boolean') throw protocolError('resume must be a boolean');
    return { username, auth, term, cols, rows, flowControl: flow, resume, jump: decodeJump(optional(obj, 'jump')) };
  },

  decode(data: Buffer, isBinary: boolean): ClientMessage {
    if (isBinary) return { kind: 'input', data };
    const { type, obj } = parseControl(data);
    switch (type) {
      case 'resize': {
        const cols = ownField(obj, 'cols');
        const rows = ownField(obj, 'rows');
        if (isDimension(cols) && isDimension(rows)) return { kind: 'resize', cols, rows };
        return { kind: 'ignored', reason: INVALID_RESIZE_REASON };
      }
      case 'ping':
        return { kind: 'ping', payload: ownField(obj, 'payload') };
      case 'presence':
        return { kind: 'presence' };
      case 'ack': {
        const bytes = ownField(obj, 'bytes');
        if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) throw protocolError('ack bytes must be a non-negative integer');
        return { kind: 'ack', bytes };
      }
      case 'hostkey-reply': {
        const accept = ownField(obj, 'accept');
        if (typeof accept !== 'boolean') throw protocolError('hostkey-reply accept must be a boolean');
        return { kind: 'hostkey-reply', accept };
      }
      case 'prompt-reply': {
        const responses = ownField(obj, 'responses');
        if (!Array.isArray(responses)) throw protocolError('prompt-reply responses must be an array of strings');
        const out: string[] = [];
        for (const r of responses as unknown[]) {
          if (typeof r !== 'string') throw protocolError('prompt-reply responses must be an array of strings');
          if (Buffer.byteLength(r) > MAX_PROMPT_RESPONSE_BYTES) throw protocolError('prompt-reply response longer than 1 KiB');
          out.push(r);
        }
        return { kind: 'prompt-reply', responses: out };
      }
      case 'share': {
        const ttl = optional(obj, 'ttlMs');
        if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1)) throw protocolError('share ttlMs must be a positive integer');
        const snapshot = optional(obj, 'snapshot');
        if (snapshot !== undefined && typeof snapshot !== 'string') throw protocolError('share snapshot must be a string');
        if (snapshot !== undefined && Buffer.byteLength(snapshot) > MAX_SNAPSHOT_BYTES) throw protocolError('share snapshot larger than 48 KiB');
        return { kind: 'share', ttlMs: ttl, snapshot };
      }
      case 'share-revoke': {
        const linkId = optional(obj, 'linkId');
        if (linkId !== undefined && (typeof linkId !== 'string' || linkId.length > 64)) throw protocolError('share-revoke linkId must be a string');
        return { kind: 'share-revoke', linkId };
      }
      case 'files':
        return { kind: 'files' };
      case 'auth':
        throw protocolError('already authenticated');
      default:
        throw protocolError('unknown message type');
    }
  },

  encode(msg: ServerControl): string {
    // Field by field, so nothing a caller attached by accident leaks onto the wire.
    switch (msg.type) {
      case 'ready':
        return JSON.stringify(msg.resume === null ? { type: 'ready', sessionId: msg.sessionId } : { type: 'ready', sessionId: msg.sessionId, resume: grant(msg.resume) });
      case 'resumed':
        return JSON.stringify({ type: 'resumed', sessionId: msg.sessionId, position: msg.position, lost: msg.lost, inputPosition: msg.inputPosition, resume: grant(msg.resume) });
      case 'banner':
        return JSON.stringify({ type: 'banner', message: msg.message });
      case 'error':
        return JSON.stringify({
          type: 'error', code: msg.code, message: msg.message,
          ...(msg.retryAfter === undefined ? {} : { retryAfter: msg.retryAfter }),
          ...(msg.attemptsLeft === undefined ? {} : { attemptsLeft: msg.attemptsLeft }),
          ...(msg.banSeconds === undefined ? {} : { banSeconds: msg.banSeconds }),
        });
      case 'exit':
        return JSON.stringify({ type: 'exit', status: msg.status, signal: msg.signal });
      case 'pong':
        return JSON.stringify({ type: 'pong', payload: msg.payload });
      case 'idle-warning':
        return JSON.stringify({ type: 'idle-warning', closesInMs: msg.closesInMs });
      case 'idle-cleared':
        return JSON.stringify({ type: 'idle-cleared' });
      case 'hostkey':
        return JSON.stringify({ type: 'hostkey', host: msg.host, port: msg.port, algorithm: msg.algorithm, fingerprint: msg.fingerprint, status: msg.status, ...(msg.hop === undefined ? {} : { hop: msg.hop }) });
      case 'shared':
        return JSON.stringify({ type: 'shared', linkId: msg.linkId, token: msg.token, expiresAt: msg.expiresAt, mode: msg.mode });
      case 'share-refused':
        return JSON.stringify({ type: 'share-refused', code: msg.code, message: msg.message });
      case 'files-token':
        return JSON.stringify({ type: 'files-token', token: msg.token, expiresInMs: msg.expiresInMs, write: msg.write });
      case 'files-refused':
        return JSON.stringify({ type: 'files-refused', code: msg.code, message: msg.message });
      case 'viewers':
        return JSON.stringify({ type: 'viewers', viewers: msg.viewers.map((v) => ({ id: v.id, subject: v.subject, clientIp: v.clientIp, since: v.since, linkId: v.linkId })) });
      case 'viewing':
        return JSON.stringify({ type: 'viewing', sessionId: msg.sessionId, username: msg.username, target: msg.target, cols: msg.cols, rows: msg.rows });
      case 'resize':
        return JSON.stringify({ type: 'resize', cols: msg.cols, rows: msg.rows });
      case 'prompt':
        return JSON.stringify({ type: 'prompt', name: msg.name, instructions: msg.instructions, prompts: msg.prompts.map((p) => ({ prompt: p.prompt, echo: p.echo })), ...(msg.hop === undefined ? {} : { hop: msg.hop }) });
    }
  },
});
