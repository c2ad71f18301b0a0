/**
 * How watching a shared session ended, pure (docs/protocol.md#sharing): a viewer's close (code,
 * reason, the `error` and `exit` that came before it) -> one sentence, whether the owner's session
 * still runs, and what to offer: Rejoin where the same link may work again, "Open the gateway"
 * where watching this link is over.
 *
 * What the gateway tells a viewer: while watching, 4009 `SHARE_REVOKED` with the detail `revoked`
 * (the owner stopped sharing) or `expired` (the link ran out): the session goes on; `session
 * ended` or an `exit` (the shell exited): it is over. A link that is dead when the viewer joins is
 * refused with 4009 `SHARE_INVALID` and no detail, so whether its session still runs is unknown;
 * the token's own expiry tells an expired link apart (share-link.ts `linkExpiry`).
 */
import { catalogueCode, describeClose, type CloseInfo } from './errors.js';
import type { ExitInfo } from './gateway-socket.js';
import { isCredentialProblem } from './gateway-auth.js';

/** How watching ended. */
export type ViewerEndKind = 'exit' | 'link-ended' | 'too-slow' | 'limit' | 'credential' | 'user' | 'error';

export interface ViewerEnd {
  readonly kind: ViewerEndKind;
  readonly message: string;
  /** The catalogue code, when there is one. */
  readonly code: string | null;
  /** Rejoining with the same link may work (offer the button). */
  readonly rejoin: boolean;
  /** Watching this link is over for good: offer "Open the gateway". */
  readonly gateway: boolean;
  /** The owner's session still runs (true), is over (false), or the gateway did not say (null). */
  readonly sessionRunning: boolean | null;
  /** The owner's screen had been shown. */
  readonly wasViewing: boolean;
}

/** Codes after which the same link may work on a second try. */
const REJOINABLE = ['VIEWER_TOO_SLOW', 'SHARE_FULL', 'LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'RATE_LIMITED',
  'BRIDGE_AUTH_UNAVAILABLE', 'CLUSTER_UNAVAILABLE', 'TICKET_INVALID', 'TICKETS_FULL', 'PONG_TIMEOUT', 'DRAINING'];

/** The sentences of a link that ended; the page's dead-link view and the tests use them. */
export const LINK_ENDED = {
  revoked: 'The share link ended: the owner stopped sharing. Their session is still running.',
  expired: 'The share link ended: it expired. The session is still running; ask its owner for a new link.',
  sessionEnded: 'The session ended: its owner left, or the gateway closed it.',
  deadExpired: 'This share link has expired. Ask its owner for a new one.',
  dead: 'This share link no longer works: its owner stopped sharing, or the session is over.',
  ended: 'The share link ended.',
} as const;

function exitDetail(exit: ExitInfo): string {
  if (exit.signal !== null && exit.signal !== '') return ` (the shell got signal ${exit.signal.replace(/^SIG/, '')})`;
  if (exit.status !== null) return ` (the shell exited with status ${exit.status})`;
  return '';
}

/**
 * The sentence and what to offer for a viewer's close. `linkExpired`: the link's token states an
 * expiry that has passed (only used when the gateway gives no detail).
 */
export function viewerEnding(info: CloseInfo, exit: ExitInfo | null, linkExpired = false): ViewerEnd {
  const code = catalogueCode(info);
  const base = { code, wasViewing: info.wasReady };
  if (exit !== null || (info.code === 1000 && info.error === null)) {
    const message = `The session ended${exit === null ? '' : exitDetail(exit)}.`;
    return { ...base, kind: 'exit', message, rejoin: false, gateway: true, sessionRunning: false };
  }
  if (code === 'SHARE_REVOKED' || code === 'SHARE_INVALID' || (code === null && info.code === 4009)) {
    // SHARE_REVOKED's detail says why (`share link ended: revoked`); SHARE_INVALID's message
    // ("invalid, expired or revoked") names every cause and says none.
    const text = code === 'SHARE_INVALID' ? '' : `${info.error?.message ?? ''} ${info.reason}`;
    const ended = (message: string, sessionRunning: boolean | null): ViewerEnd =>
      ({ ...base, kind: 'link-ended', message, rejoin: false, gateway: true, sessionRunning });
    if (/session ended/.test(text)) return ended(LINK_ENDED.sessionEnded, false);
    if (/revoked/.test(text)) return ended(LINK_ENDED.revoked, true);
    if (/expired/.test(text)) return ended(LINK_ENDED.expired, true);
    if (info.wasReady) return ended(LINK_ENDED.ended, null);
    return ended(linkExpired ? LINK_ENDED.deadExpired : LINK_ENDED.dead, null);
  }
  const open = { gateway: false, sessionRunning: null };
  if (code === 'VIEWER_TOO_SLOW' || (code === null && info.code === 4010)) {
    return { ...base, ...open, kind: 'too-slow', message: 'You fell behind and were disconnected (the session produced output faster than this page could take it).', rejoin: true };
  }
  if (code === 'SHARE_FULL') {
    return { ...base, ...open, kind: 'limit', message: 'Too many people are watching this session; try again later.', rejoin: true };
  }
  if (isCredentialProblem(code)) {
    const message = code === 'BRIDGE_AUTH_INVALID'
      ? 'The gateway did not accept the access token (wrong or expired): enter a valid one to watch.'
      : 'This gateway requires an access token, also to watch: enter it to watch.';
    return { ...base, ...open, kind: 'credential', message, rejoin: false };
  }
  const message = describeClose(info);
  if (info.code === 1013) return { ...base, ...open, kind: 'limit', message, rejoin: true };
  const rejoin = code === null ? info.code === 1006 || info.code === 1005 || info.code === 1001 : REJOINABLE.includes(code);
  return { ...base, kind: 'error', message, rejoin, gateway: !rejoin, sessionRunning: null };
}
