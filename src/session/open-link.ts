/**
 * A session's SSH link: straight to its target, or through its jump hosts (src/policy/route.ts).
 * Through a route, the bridge logs in to the first hop; each hop opens a `direct-tcpip` channel
 * to the next server and the next login runs over that channel, up to the target. Every hop has
 * its own login (the `auth` message's `jump`), its own host key under the same policy (a question
 * names its hop) and its own deadlines. A failure names its hop in the error's detail; the links
 * opened so far are closed, innermost first. Through an operator route (`--jump-route`) the
 * bastion's login is the route's (`JumpRoute.login`) and the client brings none. The target's link owns the whole chain, so closing
 * the session closes every hop.
 */
import type { Duplex } from 'node:stream';
import { BridgeError } from '../errors.js';
import { hopError, reachedThrough, type JumpHop, type JumpRoute } from '../policy/route.js';
import type { HopLogin } from '../protocol/types.js';
import { SshLink, type SshLinkOptions } from '../ssh/link.js';

/** The target link's own options (its target, login, policy, questions), plus the route to it. */
export interface SessionLinkOptions extends Omit<SshLinkOptions, 'through' | 'hop'> {
  readonly jump: JumpRoute | null;
  /** One login per jump host, in route order. */
  readonly hops: readonly HopLogin[];
}

export async function openSessionLink(o: SessionLinkOptions): Promise<SshLink> {
  const base = { config: o.config, hostKeys: o.hostKeys, questions: o.questions, logger: o.logger, signal: o.signal, onLost: o.onLost };
  if (o.jump === null) {
    if (o.hops.length > 0) throw new BridgeError('BAD_JUMP', 'jump logins, but the route (?jump=) names no jump host');
    return SshLink.open({ ...base, target: o.target, username: o.username, takeAuth: o.takeAuth });
  }
  const servers = [o.jump.first, ...o.jump.later.map(reachedThrough)];
  if (o.jump.login !== null && o.hops.length > 0) throw new BridgeError('BAD_JUMP', 'the operator routes this target through a bastion: the auth message brings no jump logins');
  const hops = o.jump.login === null ? o.hops : [o.jump.login];
  if (hops.length !== servers.length) {
    throw new BridgeError('BAD_JUMP', `the route names ${servers.length} jump host${servers.length === 1 ? '' : 's'}, the auth message brought ${hops.length} login${hops.length === 1 ? '' : 's'}`);
  }
  // `link` is the innermost link so far and owns the ones before it.
  let link: SshLink | null = null;
  try {
    for (const [i, server] of [...servers, o.target].entries()) {
      const login = hops[i];
      const through: { link: SshLink; sock: Duplex } | undefined = link === null ? undefined : await forward(link, i, servers[i - 1] ?? server, server);
      const who = login === undefined ? { username: o.username, takeAuth: o.takeAuth } : { username: login.username, takeAuth: () => login.auth, hop: i + 1 };
      link = await SshLink.open({ ...base, ...who, target: server, through }).catch((err: unknown) => {
        throw login === undefined ? err : hopError(err, i + 1, server);
      });
    }
  } catch (err) {
    link?.destroy();
    throw err;
  }
  if (link === null) throw new BridgeError('INTERNAL', 'empty route');
  return link;
}

/** Hop `hop` (1-based) opens its channel to `next`; its refusal names the hop. */
async function forward(link: SshLink, hop: number, server: JumpHop, next: JumpHop): Promise<{ link: SshLink; sock: Duplex }> {
  try {
    return { link, sock: await link.forwardOut(next.host, next.port) };
  } catch (err) {
    throw hopError(err, hop, server);
  }
}
