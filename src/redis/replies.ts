/**
 * What the scripts (./scripts.ts) answer, checked and typed. Pure: a reply that is not the
 * expected shape throws (ReplyError), so a script and its parser cannot drift apart silently.
 */
import { decodeRecord } from './keys.js';

export class ReplyError extends Error {
  constructor(what: string, reply: unknown) {
    super(`unexpected ${what} reply: ${JSON.stringify(reply)?.slice(0, 200) ?? String(reply)}`);
    this.name = 'ReplyError';
  }
}

export const GRANT_REPLIES = ['ok', 'LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'unknown', 'expired', 'stale', 'duplicate'] as const;
export type GrantReply = (typeof GRANT_REPLIES)[number];

export function parseGrant(reply: unknown): GrantReply {
  const said = text(reply);
  const found = GRANT_REPLIES.find((r) => r === said);
  if (found === undefined) throw new ReplyError('grant', reply);
  return found;
}

export type HeartbeatReply =
  | { readonly kind: 'unknown' | 'expired' }
  | { readonly kind: 'renewed'; readonly expiresAt: number; readonly grants: number; readonly epoch: string; readonly expired: readonly string[] };

/** A reply's whole number (an integer, or its decimal text); anything else throws ReplyError naming `what`. */
export function int(v: unknown, what: string, whole: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new ReplyError(what, whole);
  return n;
}

/** A reply's text (a string, or a Buffer), else undefined. */
export function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

function str(v: unknown, what: string, whole: unknown): string {
  const t = text(v);
  if (t === undefined) throw new ReplyError(what, whole);
  return t;
}

export function parseHeartbeat(reply: unknown): HeartbeatReply {
  if (!Array.isArray(reply)) throw new ReplyError('heartbeat', reply);
  const [kind, expiry, grants, epoch, expired] = reply as unknown[];
  if ((kind === 'unknown' || kind === 'expired') && reply.length === 1) return { kind };
  if (kind !== 'ok' || reply.length !== 5 || !Array.isArray(expired)) throw new ReplyError('heartbeat', reply);
  return {
    kind: 'renewed',
    expiresAt: int(expiry, 'heartbeat', reply),
    grants: int(grants, 'heartbeat', reply),
    epoch: str(epoch, 'heartbeat', reply),
    expired: (expired as unknown[]).map((e) => str(e, 'heartbeat', reply)),
  };
}

/** The lease expiry a sync answers. */
export function parseSync(reply: unknown): number {
  return int(reply, 'sync', reply);
}

export function parseReap(reply: unknown): { readonly released: number; readonly done: boolean } {
  if (!Array.isArray(reply) || reply.length !== 2) throw new ReplyError('reap', reply);
  return { released: int(reply[0], 'reap', reply), done: int(reply[1], 'reap', reply) === 1 };
}

/** Slots in use, as the manager's SlotCounts (the same shape, declared here: this room is below it). */
export interface Counts {
  readonly open: number;
  readonly perClient: Readonly<Record<string, number>>;
  readonly perTarget: Readonly<Record<string, number>>;
}

/** `[k1, v1, k2, v2, ...]` (HGETALL under RESP2, or a map flattened by ioredis) to a record of counts. */
function flatCounts(flat: unknown, whole: unknown): Record<string, number> {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new ReplyError('counts', whole);
  const out: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const n = int(flat[i + 1], 'counts', whole);
    if (n > 0) out[str(flat[i], 'counts', whole)] = n;
  }
  return out;
}

export function parseCounts(reply: unknown): Counts {
  if (!Array.isArray(reply) || reply.length !== 3) throw new ReplyError('counts', reply);
  return { open: int(reply[0], 'counts', reply), perClient: flatCounts(reply[1], reply), perTarget: flatCounts(reply[2], reply) };
}

/** The slots of one holder among an incarnation's grant records (HVALS); records that do not parse are skipped. */
export function countRecords(records: readonly string[], holder: string): Counts {
  const perClient: Record<string, number> = {};
  const perTarget: Record<string, number> = {};
  let open = 0;
  for (const text of records) {
    const r = decodeRecord(text);
    if (r?.holder !== holder) continue;
    open++;
    perClient[r.clientIp] = (perClient[r.clientIp] ?? 0) + 1;
    perTarget[r.targetKey] = (perTarget[r.targetKey] ?? 0) + 1;
  }
  return { open, perClient, perTarget };
}

/** The leases script's reply: Redis's clock, the cluster's slots, and the leases it names (incarnation, expiry ms). */
export interface LeasesReply {
  readonly now: number;
  readonly open: number;
  /** Leases in Redis, named or not. */
  readonly held: number;
  readonly leases: ReadonlyArray<readonly [incarnation: string, expiresAt: number]>;
}

export function parseLeases(reply: unknown): LeasesReply {
  if (!Array.isArray(reply) || reply.length !== 4) throw new ReplyError('leases', reply);
  const [now, open, held, flat] = reply as unknown[];
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new ReplyError('leases', reply);
  const leases: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) leases.push([str(flat[i], 'leases', reply), int(flat[i + 1], 'leases', reply)]);
  return { now: int(now, 'leases', reply), open: int(open, 'leases', reply), held: int(held, 'leases', reply), leases };
}
