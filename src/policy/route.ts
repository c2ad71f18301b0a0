/**
 * A session's route: straight to its target, or through up to three jump hosts. The bridge dials
 * only the first server of the route, which is resolved and judged exactly like a direct target
 * (DNS once, every address checked, the checked address dialed: ./target.ts). Every later server
 * is reached by the hop before it, so it is judged by the name or literal the client gave
 * (`TargetPolicy.decideBeyond`): the bastion, not the bridge, resolves it and decides what it can
 * reach.
 *
 * An operator route (`--jump-route`, src/grammar/jump-route.ts; keys: src/ssh/route-keys.ts) that covers the target makes its bastion
 * hop 1, judged and resolved like a direct target, logged in with the route's own user and key;
 * the target is then judged by `decideBeyond`. The route is the operator's: a client that names
 * its own hops (`?jump=`) for such a target is refused (BAD_JUMP) rather than chained behind the
 * bastion, so the bastion's credentials only ever reach what the operator routed through it.
 */
import { isIP } from 'node:net';
import { BridgeError } from '../errors.js';
import { formatHostPort } from '../grammar/target-rule.js';
import { resolveTarget, type LookupFn, type ResolvedTarget } from './target.js';
import type { TargetPolicy } from './target-rules.js';
import type { HopLogin } from '../protocol/types.js';

export interface JumpHop {
  readonly host: string;
  readonly port: number;
}

export interface JumpRoute {
  /** The first jump host, resolved and checked: the only address the bridge dials. */
  readonly first: ResolvedTarget;
  /** The later jump hosts in order, by name and port. */
  readonly later: readonly JumpHop[];
  /** An operator route's login to the first hop (the client brings none); null: the client's `auth.jump`. */
  readonly login: HopLogin | null;
}

export interface Route {
  /** The session's target. Behind jump hosts it is not resolved here: `address` is the name as given. */
  readonly target: ResolvedTarget;
  readonly jump: JumpRoute | null;
}

/**
 * The operator's routes as the route decision needs them: the first that covers a target, with
 * its bastion and the login to it (src/ssh/route-keys.ts keeps them and reloads their keys).
 */
export interface RouteTable {
  match(host: string, port: number): { readonly spec: JumpHop; readonly login: HopLogin } | null;
}

/** Judge and resolve a route; throws BridgeError TARGET_DENIED (naming the hop) or DNS_FAILED. */
export async function resolveRoute(target: JumpHop, asked: readonly JumpHop[], policy: TargetPolicy, lookup?: LookupFn, routes?: RouteTable): Promise<Route> {
  const operator = routes?.match(target.host, target.port) ?? null;
  if (operator !== null && asked.length > 0) throw new BridgeError('BAD_JUMP', `${formatHostPort(target.host, target.port)} is reached through an operator route; ?jump= is not allowed for it`);
  const hops = operator === null ? asked : [{ host: operator.spec.host, port: operator.spec.port }];
  const [first, ...later] = hops;
  if (first === undefined) return { target: await resolveTarget(target.host, target.port, policy, lookup), jump: null };
  let resolvedFirst: ResolvedTarget;
  try {
    resolvedFirst = await resolveTarget(first.host, first.port, policy, lookup);
  } catch (err) {
    throw hopError(err, 1, first);
  }
  const beyond: Array<[JumpHop, string]> = [...later.map((h, i): [JumpHop, string] => [h, `hop ${i + 2}`]), [target, 'target']];
  for (const [server, what] of beyond) {
    const decision = policy.decideBeyond(server.host, server.port);
    if (!decision.ok) throw new BridgeError('TARGET_DENIED', `${what}: ${decision.reason}`);
  }
  return { target: reachedThrough(target), jump: { first: resolvedFirst, later, login: operator?.login ?? null } };
}

/** A server a hop reaches: known by the name the client gave (`address` is that name; the hop resolves it). */
export function reachedThrough(server: JumpHop): ResolvedTarget {
  const family = isIP(server.host) === 6 ? 6 : 4;
  return { host: server.host, port: server.port, address: server.host, family, key: formatHostPort(server.host, server.port) };
}

/**
 * The same error, its detail naming the hop (`hop 1 (bastion.example:22): …`). A short detail
 * for the close reason (BridgeError.reasonDetail) stays short: `hop 1: …`, without the server.
 */
export function hopError(err: unknown, hop: number, server: JumpHop): unknown {
  if (!(err instanceof BridgeError)) return err;
  return new BridgeError(err.code, `hop ${hop} (${formatHostPort(server.host, server.port)})${err.detail === undefined ? '' : `: ${err.detail}`}`, {
    cause: err, ...(err.reasonDetail === undefined ? {} : { reasonDetail: `hop ${hop}: ${err.reasonDetail}` }),
  });
}
