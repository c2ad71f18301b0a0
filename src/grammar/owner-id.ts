/**
 * Owner ids and owner-prefixed tokens. A resume token (`OWNER.SECRET`) and a share link
 * (`OWNER.PAYLOAD.SIG`) start with the owner of their session, so that a request reaching
 * another process can be passed to the one that holds it before anything else is judged.
 *
 * An `OwnerId` names the node and the worker that hold a session. The gateway runs on one node
 * today, so its form is the worker's id in decimal ("0" in a single process), which is exactly the
 * token prefix: issued tokens and links keep their format. A node part joins it when sessions can
 * live on several nodes; only this file then changes. This is the one parser of the prefix.
 */

declare const OWNER: unique symbol;

/** Which process holds a session. Compare with `===`; made only by `workerOwner` and the parser. */
export type OwnerId = string & { readonly [OWNER]: true };

/** `OWNER.` at the start of a token, OWNER as issued: up to 10 decimal digits. */
const PREFIX = /^(\d{1,10})\./;

/** The owner id of worker `worker` of this node (0 in a single process). */
export function workerOwner(worker: number): OwnerId {
  return String(worker) as OwnerId;
}

/** The worker part of an owner id: what names the process on this node (its relay socket, logs). */
export function ownerWorker(owner: OwnerId): number {
  return Number(owner);
}

/** `OWNER.REST`: a token of `owner` (the inverse of `splitOwner`). */
export function ownerPrefixed(owner: OwnerId, rest: string): string {
  return `${owner}.${rest}`;
}

/**
 * The owner of an owner-prefixed token and the text after its dot, or null when it has no owner
 * prefix. Leading zeros name the same owner ("03" is "3"), as the token checks always have.
 */
export function splitOwner(token: string): { readonly owner: OwnerId; readonly rest: string } | null {
  const m = PREFIX.exec(token);
  if (m?.[1] === undefined) return null;
  return { owner: workerOwner(Number(m[1])), rest: token.slice(m[0].length) };
}
