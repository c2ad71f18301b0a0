/**
 * Owner ids and owner-prefixed tokens. A resume token (`OWNER.SECRET`) and a share link
 * (`OWNER.PAYLOAD.SIG`) start with the owner of their session, so that a request reaching
 * another process can be passed to the one that holds it before anything else is judged.
 *
 * An `OwnerId` names the node and the worker that hold a session. On a gateway of one node its form
 * is the worker's id in decimal ("0" in a single process), exactly the token prefix of the seed
 * days: issued tokens and links keep their format. A node of a cluster (--cluster-redis) adds its
 * node id: `NODE~WORKER` (`gw-1~0`), so any node, and a load balancer matching the prefix, can tell
 * which node holds the session (docs/scaling.md). A node id holds no `.` and no `~`
 * (src/config/cluster-kinds.ts), so the prefix reads one way. This is the one parser of the prefix.
 */

declare const OWNER: unique symbol;

/** Which process holds a session. Compare with `===`; made only by `workerOwner` and the parser. */
export type OwnerId = string & { readonly [OWNER]: true };

/** `OWNER.` at the start of a token, OWNER as issued: an optional `NODE~`, then up to 10 decimal digits. */
const PREFIX = /^(?:([A-Za-z0-9_-]{1,64})~)?(\d{1,10})\./;

/** The owner id of worker `worker` of this node (0 in a single process); with `node`, of a cluster node. */
export function workerOwner(worker: number, node: string | null = null): OwnerId {
  return (node === null ? String(worker) : `${node}~${worker}`) as OwnerId;
}

/** The worker part of an owner id: what names the process on its node (its relay socket, logs). */
export function ownerWorker(owner: OwnerId): number {
  const tilde = owner.indexOf('~');
  return Number(tilde < 0 ? owner : owner.slice(tilde + 1));
}

/** The node part of an owner id, or null for the owner id of a gateway of one node. */
export function ownerNode(owner: OwnerId): string | null {
  const tilde = owner.indexOf('~');
  return tilde < 0 ? null : owner.slice(0, tilde);
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
  if (m?.[2] === undefined) return null;
  return { owner: workerOwner(Number(m[2]), m[1] ?? null), rest: token.slice(m[0].length) };
}
