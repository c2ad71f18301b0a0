/**
 * What the shared scripts (./shared-scripts.ts) answer, checked and typed. Pure: a reply that is
 * not the expected shape throws (ReplyError). A ticket's record is ../manager/ticket-record.ts, a
 * host key's ./host-key-record.ts.
 */
import { int, ReplyError, text } from './replies.js';

/** The ban, then the rate limit, as ../manager/abuse.ts answers `enter`. */
export type EnterReply =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'AUTH_BANNED' | 'RATE_LIMITED'; readonly retryAfterS: number };

/** Seconds to wait, as a Retry-After says them: a banned client waits out the ban; a limited one at least 1 s. */
export function parseEnter(reply: unknown): EnterReply {
  if (!Array.isArray(reply) || reply.length !== 2) throw new ReplyError('enter', reply);
  const kind = text(reply[0]);
  const ms = int(reply[1], 'enter', reply);
  if (kind === 'ok') return { ok: true };
  if (kind === 'banned' && ms > 0) return { ok: false, code: 'AUTH_BANNED', retryAfterS: Math.ceil(ms / 1000) };
  if (kind === 'limited' && ms >= 0) return { ok: false, code: 'RATE_LIMITED', retryAfterS: Math.max(1, Math.ceil(ms / 1000)) };
  throw new ReplyError('enter', reply);
}

/** One failed login's outcome, as ../manager/auth-ban.ts's FailureTally. */
export interface FailureReply {
  readonly banStarted: boolean;
  readonly attemptsLeft: number;
  readonly bannedForMs: number;
}

export function parseFailure(reply: unknown): FailureReply {
  if (!Array.isArray(reply) || reply.length !== 3) throw new ReplyError('login failure', reply);
  const [started, left, ms] = (reply as unknown[]).map((v) => int(v, 'login failure', reply));
  if (started === undefined || left === undefined || ms === undefined || left < 0 || ms < 0 || (started !== 0 && started !== 1)) {
    throw new ReplyError('login failure', reply);
  }
  return { banStarted: started === 1, attemptsLeft: left, bannedForMs: ms };
}

/** 1: stored; 0: the cluster holds the most live tickets. */
export function parseMint(reply: unknown): boolean {
  const n = int(reply, 'ticket mint', reply);
  if (n !== 0 && n !== 1) throw new ReplyError('ticket mint', reply);
  return n === 1;
}

export function parseCount(reply: unknown): number {
  const n = int(reply, 'count', reply);
  if (n < 0) throw new ReplyError('count', reply);
  return n;
}

/** What storing a host key came to (the record as Redis holds it, when it holds another). */
export type ShareReply =
  | { readonly kind: 'stored' | 'present' | 'full' }
  | { readonly kind: 'changed'; readonly record: string };

export function parseShare(reply: unknown): ShareReply {
  if (!Array.isArray(reply)) throw new ReplyError('host key share', reply);
  const kind = text(reply[0]);
  if ((kind === 'stored' || kind === 'present' || kind === 'full') && reply.length === 1) return { kind };
  const record = text(reply[1]);
  if (kind === 'changed' && reply.length === 2 && record !== undefined) return { kind, record };
  throw new ReplyError('host key share', reply);
}

/** HMGET of `asked` fields: one record, or null, per field. */
export function parseFound(reply: unknown, asked: number): (string | null)[] {
  if (!Array.isArray(reply) || reply.length !== asked) throw new ReplyError('host key find', reply);
  return (reply as unknown[]).map((v) => {
    if (v === null) return null;
    const t = text(v);
    if (t === undefined) throw new ReplyError('host key find', reply);
    return t;
  });
}
