/**
 * What a closed socket means for the session: a normal end (exit status / signal), a retry
 * (network loss, shutdown, lost SSH connection after a session had worked, within the attempt
 * budget) or a final error. Pure, so the policy is easy to read in one place.
 */
import { MAX_RETRIES } from './backoff.js';
import { describeClose, exitSentence, isRetryable, parseReason, type CloseInfo } from './errors.js';

export type Ending =
  | { readonly kind: 'exit'; readonly message: string; readonly status: string }
  | { readonly kind: 'retry'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export interface EndingInput {
  readonly info: CloseInfo;
  /** The v1 `exit` message, if one arrived. */
  readonly exit: { readonly status: number | null; readonly signal: string | null } | null;
  /** A session of this login reached `ready` at some point. */
  readonly hadSession: boolean;
  /** Automatic retries already made in this outage. */
  readonly attempts: number;
}

export function decideEnding({ info, exit, hadSession, attempts }: EndingInput): Ending {
  if (exit !== null || (info.code === 1000 && info.error === null)) {
    const message = exit !== null ? exitSentence(exit.status, exit.signal) : describeClose(info);
    return { kind: 'exit', message, status: parseReason(info.reason).code === 'CLIENT_CLOSED' ? 'closed' : message };
  }
  const message = describeClose(info);
  const retryable = hadSession && isRetryable(info);
  if (retryable && attempts < MAX_RETRIES) return { kind: 'retry', message };
  return { kind: 'error', message: retryable ? `${message} Gave up after ${MAX_RETRIES} attempts.` : message };
}
