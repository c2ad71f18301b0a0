/**
 * The idle rule (docs/protocol.md#limits-and-timeouts), pure: a session with no activity for
 * `session-idle-timeout` is closed with IDLE_TIMEOUT; a v1 client is warned `session-idle-warning`
 * before (at most half the timeout, so a short timeout still leaves a warning worth reading).
 * Activity is what a person or their program does: terminal input, terminal output, a resize, and
 * `presence` (the page's "I'm here"). Pings, acks and the bridge's own keepalives are not.
 */

/** How long before the close the warning goes out (0: none). */
export function warningLeadMs(timeoutMs: number, warningMs: number): number {
  if (timeoutMs <= 0 || warningMs <= 0) return 0;
  return Math.min(warningMs, Math.floor(timeoutMs / 2));
}

export type IdleStep = { readonly kind: 'none' } | { readonly kind: 'warn'; readonly closesInMs: number } | { readonly kind: 'close' };

/**
 * What the reaper does with a session idle for `idleMs`: nothing, warn it (once: `warned` says a
 * warning is out and no activity came since), or close it. `timeoutMs` 0: never.
 */
export function idleStep(idleMs: number, timeoutMs: number, leadMs: number, warned: boolean): IdleStep {
  if (timeoutMs <= 0) return { kind: 'none' };
  if (idleMs >= timeoutMs) return { kind: 'close' };
  if (leadMs > 0 && !warned && idleMs >= timeoutMs - leadMs) return { kind: 'warn', closesInMs: timeoutMs - idleMs };
  return { kind: 'none' };
}
