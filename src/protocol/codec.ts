/**
 * Protocol selection at the upgrade. The subprotocol a client offers decides the codec, so one
 * route serves both seed clients (which offer nothing) and v1 clients.
 */
import type { Codec } from './types.js';
import { seedCodec } from './seed.js';
import { V1_SUBPROTOCOL, v1Codec } from './v1.js';

/**
 * Codec for the negotiated subprotocol (`ws.protocol`). Anything but v1 means seed mode, because
 * seed clients never negotiate a subprotocol and must keep working unchanged.
 */
export function codecFor(protocol: string | undefined): Codec {
  return protocol === V1_SUBPROTOCOL ? v1Codec : seedCodec;
}

/**
 * ws `handleProtocols`: accept v1 when offered. A client that offers only unknown subprotocols
 * gets none (no Sec-WebSocket-Protocol in the response) and, if it goes on, is served in seed
 * mode. RFC 6455 lets such a client fail the handshake itself (browsers and the ws client do);
 * that is its call, since we speak none of what it offered.
 */
export function selectSubprotocol(offered: Set<string>): string | false {
  return offered.has(V1_SUBPROTOCOL) ? V1_SUBPROTOCOL : false;
}
