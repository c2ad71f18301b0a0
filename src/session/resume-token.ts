/**
 * Resume tokens (docs/protocol.md#resume): `OWNER.SECRET`, where OWNER names the process that
 * holds the session (an OwnerId, src/grammar/owner-id.ts: the cluster worker id; 0 in a single
 * process) so that a resume reaching another worker can be passed on, and SECRET is 256 random
 * bits in base64url. Only a SHA-256 of the whole token is kept, so the lookup compares hashes,
 * never the secret itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ownerPrefixed, splitOwner, type OwnerId } from '../grammar/owner-id.js';

/** What follows the owner prefix: 256 bits in base64url. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function makeResumeToken(owner: OwnerId): string {
  return ownerPrefixed(owner, randomBytes(32).toString('base64url'));
}

/** The owner of a well-formed token, or null for anything else. */
export function resumeTokenOwner(token: string): OwnerId | null {
  const parts = splitOwner(token);
  return parts !== null && SECRET.test(parts.rest) ? parts.owner : null;
}

export function hashResumeToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** `position` from the query: a non-negative safe integer in decimal, or null. */
export function parsePosition(text: string | null): number | null {
  if (text === null || !/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
