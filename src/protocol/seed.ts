/**
 * The seed-compatible protocol: what clients of the seed Go bridge speak (no subprotocol).
 * Existing clients keep working unchanged; the seed's defects are gone (docs/protocol.md):
 * - text frames are never cut at 4096 bytes;
 * - a text frame is control only when it is a JSON object whose `action` is "resize" or "ping";
 *   everything else (`null`, `{"a":1}`, `[1,2]`, a pasted JSON document) is typed, byte-exact;
 * - an invalid resize is ignored instead of silently killing input.
 */
import { BridgeError } from '../errors.js';
import type { ClientMessage, Codec, Credentials } from './types.js';
import { INVALID_RESIZE_REASON, checkUsername, isDimension, isJsonObject, ownField, parseJson } from './types.js';

/**
 * Largest text frame we try to read as control. A control message is tiny; a paste is not, and
 * a 100 KB paste must not cost a JSON.parse on every keystroke burst.
 */
export const SEED_CONTROL_MAX_BYTES = 4096;

/** Largest credentials frame: a username and a password fit many times over. */
export const SEED_AUTH_MAX_BYTES = 64 * 1024;

const OPEN_BRACE = 0x7b;

/** First byte that is not JSON whitespace (space, tab, LF, CR), or -1. */
function firstNonWhitespace(data: Buffer): number {
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte ?? -1;
  }
  return -1;
}

/** The control message a text frame carries, or null when the frame is terminal input. */
function seedControl(data: Buffer): ClientMessage | null {
  if (data.length > SEED_CONTROL_MAX_BYTES || firstNonWhitespace(data) !== OPEN_BRACE) return null;
  const value = parseJson(data.toString('utf8'));
  if (!isJsonObject(value)) return null;
  const action = ownField(value, 'action');
  if (action === 'ping') return { kind: 'ping', payload: undefined };
  if (action !== 'resize') return null;
  const cols = ownField(value, 'cols');
  const rows = ownField(value, 'rows');
  if (isDimension(cols) && isDimension(rows)) return { kind: 'resize', cols, rows };
  return { kind: 'ignored', reason: INVALID_RESIZE_REASON };
}

/**
 * Seed-compatible codec. Error details are fixed texts: they never quote the frame, which holds
 * the password.
 */
export const seedCodec: Codec = Object.freeze({
  name: 'seed' as const,
  caps: Object.freeze({ questions: false, resume: false, bannerMessage: false }),

  decodeAuth(data: Buffer, _isBinary: boolean): Credentials {
    // Text or binary: the seed accepted both for the credentials frame.
    if (data.length > SEED_AUTH_MAX_BYTES) {
      throw new BridgeError('PROTOCOL_ERROR', 'credentials frame too large');
    }
    const value = parseJson(data.toString('utf8'));
    if (!isJsonObject(value)) {
      throw new BridgeError('PROTOCOL_ERROR', 'credentials must be a JSON object {username, password}');
    }
    const username = checkUsername(ownField(value, 'username'));
    const password = ownField(value, 'password');
    // A missing password is an error, not an empty password: a client that forgot the field
    // should hear so instead of burning one of the target's authentication attempts.
    if (typeof password !== 'string') {
      throw new BridgeError('PROTOCOL_ERROR', 'password must be a string');
    }
    return { username, auth: { method: 'password', password }, term: undefined, cols: undefined, rows: undefined, flowControl: false, resume: false, jump: [] };
  },

  decode(data: Buffer, isBinary: boolean): ClientMessage {
    if (isBinary) return { kind: 'input', data };
    return seedControl(data) ?? { kind: 'input', data };
  },

  encode(): string | null {
    // Seed clients only understand binary terminal output; the session writes banners itself.
    return null;
  },
});
