/**
 * A ticket's record as Redis keeps it (./redis-tickets.ts): who it was issued to and its binding,
 * as JSON of exactly the identity's own fields. Pure: a record that does not parse throws
 * (ReplyError), so a foreign or corrupted value is never taken for an identity.
 */
import type { AuthMethodName, Identity } from '../auth/identity.js';
import type { TicketBinding } from '../auth/tickets.js';
import { ReplyError } from '../redis/replies.js';
import { text } from '../redis/replies.js';

/** A ticket's record: who it was issued to, and its binding. */
export interface TicketRecord extends TicketBinding {
  readonly identity: Identity;
}

export function encodeTicket(r: TicketRecord): string {
  const { method, subject, targets, users, admin, files } = r.identity;
  return JSON.stringify({ v: 1, ip: r.clientIp, target: r.target, id: { method, subject, targets, users, admin, files } });
}

const METHODS: readonly string[] = ['none', 'token', 'jwt', 'proxy', 'mtls'] satisfies readonly Exclude<AuthMethodName, 'ticket'>[];

function strings(v: unknown): readonly string[] | null | undefined {
  if (v === null) return null;
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined;
}

/** The record of a redeemed ticket (GETDEL's reply); null when there was none; throws when it does not parse. */
export function parseTicket(reply: unknown): TicketRecord | null {
  if (reply === null) return null;
  const raw = text(reply);
  let o: unknown;
  try {
    o = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    o = undefined;
  }
  const r = o as { v?: unknown; ip?: unknown; target?: unknown; id?: { method?: unknown; subject?: unknown; targets?: unknown; users?: unknown; admin?: unknown; files?: unknown } } | undefined;
  const id = r?.id;
  const targets = strings(id?.targets);
  const users = strings(id?.users);
  if (r?.v !== 1 || typeof r.ip !== 'string' || !(r.target === null || typeof r.target === 'string') || id === undefined
    || typeof id.method !== 'string' || !METHODS.includes(id.method) || typeof id.subject !== 'string'
    || targets === undefined || users === undefined || typeof id.admin !== 'boolean' || !(id.files === 'read' || id.files === 'write')) {
    throw new ReplyError('ticket', '(a record that does not parse)');
  }
  const identity: Identity = { method: id.method as Identity['method'], subject: id.subject, targets, users, admin: id.admin, files: id.files };
  return { clientIp: r.ip, target: r.target, identity };
}
