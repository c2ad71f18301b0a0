/**
 * How a session's route is described where the session is: the `session_start` and
 * `session_end` log lines, the recording header and the session's stats snapshot name its jump
 * hosts in dialing order as `user@host:port` (the host as the route names it; IPv6 in brackets),
 * the target being named on its own as before. A hop whose login is not known (no `auth` message
 * yet, or logins that do not match the route) is `host:port`. Only user names and servers: never
 * a credential. `/stats` counts sessions by the route's kind.
 */
import { formatHostPort } from '../grammar/target-rule.js';
import type { HopLogin } from '../protocol/types.js';
import type { JumpHop, JumpRoute } from './route.js';

/** `direct`: no jump host; `jump`: the client's `?jump=`; `operator`: an operator route (`--jump-route`). */
export type RouteKind = 'direct' | 'jump' | 'operator';

export interface RouteDescription {
  readonly kind: RouteKind;
  /** The jump hosts in order, `user@host:port` (or `host:port` while the user is not known). */
  readonly hops: readonly string[];
}

export function routeKind(jump: JumpRoute | null): RouteKind {
  if (jump === null) return 'direct';
  return jump.login === null ? 'jump' : 'operator';
}

/**
 * The route's description. `logins`: the `auth` message's jump logins (null before it came); an
 * operator route brings its own login, so its user is always known.
 */
export function describeRoute(jump: JumpRoute | null, logins: readonly HopLogin[] | null): RouteDescription {
  if (jump === null) return { kind: 'direct', hops: [] };
  const servers: JumpHop[] = [{ host: jump.first.host, port: jump.first.port }, ...jump.later];
  const users = jump.login !== null ? [jump.login] : logins !== null && logins.length === servers.length ? logins : null;
  return {
    kind: routeKind(jump),
    hops: servers.map((s, i) => {
      const server = formatHostPort(s.host, s.port);
      const user = users?.[i]?.username;
      return user === undefined ? server : `${user}@${server}`;
    }),
  };
}
