/**
 * Polling waits for the tests: the one place a test waits for a condition it cannot await. Each
 * has a deadline (every event-driven wait must end).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `pred` every `everyMs` until it holds (true) or `timeoutMs` passes (false). */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Like waitUntil, but a timeout throws naming `what` (and `describe()`'s account of the state, when given). */
export async function until(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, describe?: () => Promise<string>): Promise<void> {
  if (await waitUntil(pred, timeoutMs)) return;
  const state = describe === undefined ? '' : `; ${await describe()}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}`);
}
