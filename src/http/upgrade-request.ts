/**
 * What an upgrade request asks for, read from its method, path, query and subprotocols: a new
 * session on the route's target (with a ticket or the request's own credential), or to attach to
 * a session by a token (`?resume=` with `&position=`, or a share link as `?share=` or a
 * subprotocol entry; a resume wins). Pure: throws BridgeError BAD_PATH (or the path's own code)
 * for a request it cannot read, then METHOD_NOT_ALLOWED for anything but GET.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.js';
import { BridgeError, isBridgeError } from '../errors.js';
import { shareTokenFromProtocols } from '../share/share-token.js';
import type { AttachTarget } from './attach.js';
import type { Guard } from './guard.js';
import type { PendingUpgrade } from './pending-upgrade.js';
import { appPath } from './static.js';
import { bindingTarget } from './ticket-route.js';
import type { JumpHop } from '../policy/route.js';
import { parseJumpParam } from './jump-param.js';
import { parseWsPath } from './ws-path.js';

export interface UpgradeRequest {
  /** The target to dial: the path's, or the fixed target (which is not the client's to choose). */
  readonly path: { readonly host: string; readonly port: number };
  readonly ticket: string | null;
  /** What a ticket must have been issued for: the path's target (null in fixed-target mode). */
  readonly binding: string | null;
  /** A resume or a view, when the request attaches to a session instead of starting one. */
  readonly attach: AttachTarget | null;
  /** The jump hosts to reach `path` through (`?jump=`, ./jump-param.ts); empty: none. */
  readonly jump: readonly JumpHop[];
}

export function readUpgradeRequest(req: IncomingMessage, config: Pick<Config, 'basePath' | 'target'>): UpgradeRequest {
  let read: UpgradeRequest;
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const routed = parseWsPath(appPath(url.pathname, config.basePath));
    // Fixed-target mode: the route keeps its shape, but its host and port are not the client's to
    // choose. The fixed target still goes through the target policy, on every connection.
    const path = config.target ?? routed;
    const jump = parseJumpParam(url.searchParams.get('jump'));
    if (jump.length > 0 && config.target !== null) throw new BridgeError('BAD_JUMP', 'fixed-target mode: the route is not the client\'s to choose');
    const resume = url.searchParams.get('resume');
    const share = url.searchParams.get('share') ?? shareTokenFromProtocols(req.headers['sec-websocket-protocol']);
    read = {
      path,
      ticket: url.searchParams.get('ticket'),
      binding: config.target === null ? bindingTarget(routed.host, routed.port) : null,
      attach: resume !== null
        ? { kind: 'resume', token: resume, position: url.searchParams.get('position'), route: path }
        : share !== null ? { kind: 'view', token: share } : null,
      jump,
    };
  } catch (err) {
    throw isBridgeError(err) ? err : new BridgeError('BAD_PATH');
  }
  if (req.method !== 'GET') throw new BridgeError('METHOD_NOT_ALLOWED');
  return read;
}

/** The request `up` asks for, or null once it has been refused (counted, and answered in HTTP). */
export function readOrRefuse(up: PendingUpgrade, config: Pick<Config, 'basePath' | 'target'>, guard: Pick<Guard, 'refuse'>): UpgradeRequest | null {
  try {
    return readUpgradeRequest(up.req, config);
  } catch (err) {
    if (!isBridgeError(err)) throw err;
    guard.refuse(null, err, up.http);
    return null;
  }
}
