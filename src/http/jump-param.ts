/**
 * The route's jump hosts: `?jump=HOP[,HOP…]` on the WebSocket URL, each `host[:port]` (IPv6 in
 * brackets, port 22 when left out), at most MAX_JUMP_HOPS, in the order they are dialed: the
 * bridge dials the first, each hop dials the next, the last dials the path's target. Hosts obey
 * the path's own rules (src/http/ws-path.ts). Only where to go is in the URL; how to log in to
 * each hop comes in the `auth` message (`jump`), never in a URL. Pure: throws BridgeError BAD_JUMP.
 */
import { BridgeError, isBridgeError } from '../errors.js';
import type { JumpHop } from '../policy/route.js';
import { MAX_JUMP_HOPS } from '../protocol/v1.js';
import { parseHost, parsePort } from './ws-path.js';

const HOP = /^(\[[^\]]*\]|[^:[\]]+)(?::([^:]*))?$/;

/** The hops of `raw` (the query value, already percent-decoded once by URLSearchParams); null: no jump. */
export function parseJumpParam(raw: string | null): readonly JumpHop[] {
  if (raw === null) return [];
  const parts = raw.split(',');
  if (raw === '' || parts.length > MAX_JUMP_HOPS) throw new BridgeError('BAD_JUMP', `1 to ${MAX_JUMP_HOPS} hops, comma-separated`);
  return parts.map((part, i) => {
    const m = HOP.exec(part);
    const host = m?.[1];
    if (m === null || host === undefined) throw new BridgeError('BAD_JUMP', `hop ${i + 1} is not host[:port]`);
    try {
      return { host: parseHost(encodeURIComponent(host)), port: m[2] === undefined ? 22 : parsePort(m[2]) };
    } catch (err) {
      throw isBridgeError(err) ? new BridgeError('BAD_JUMP', `hop ${i + 1}: ${err.detail ?? err.message}`) : err;
    }
  });
}
