/**
 * The owner's list of viewers, pure: how a viewer is named (its gateway identity, `anonymous`
 * without gateway authentication, and its address), who joined between two `viewers` messages
 * (the bridge sends the whole list on every join and leave; a viewer is its `id`), and the toast
 * that tells the owner.
 */
import type { ViewerEntry } from './messages.js';

/** `alice (10.0.0.7)`, `anonymous (unknown address)`. */
export function viewerName(v: ViewerEntry): string {
  return `${v.subject === '' ? 'anonymous' : v.subject} (${v.clientIp === '' ? 'unknown address' : v.clientIp})`;
}

/** The viewers of `next` that `prev` did not have, in `next`'s order. */
export function joinedViewers(prev: readonly ViewerEntry[], next: readonly ViewerEntry[]): ViewerEntry[] {
  const known = new Set(prev.map((v) => v.id));
  return next.filter((v) => !known.has(v.id));
}

/** The owner's toast for viewers who just joined, or null when nobody did. */
export function joinedSentence(joined: readonly ViewerEntry[]): string | null {
  const first = joined[0];
  if (first === undefined) return null;
  if (joined.length === 1) return `${viewerName(first)} is now watching your session.`;
  const others = joined.length - 1;
  return `${viewerName(first)} and ${others} other${others === 1 ? '' : 's'} are now watching your session.`;
}
