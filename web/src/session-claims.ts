/**
 * Which page holds a session. A duplicated browser tab starts with a copy of the original's
 * sessionStorage, resume record included, and resuming from that copy would take the session
 * over from the tab still using it. So before a page resumes a stored record it asks every other
 * page of this origin in this browser (BroadcastChannel) whether one holds that session, and the
 * holder answers at once. No answer within CLAIM_WAIT_MS: the page that held it is gone (a
 * reload, a reopened tab) and this one resumes. An answer: this page is a copy and starts a login
 * of its own.
 *
 * A holder frozen by the browser (a long-hidden tab on a low-memory device) cannot answer; the
 * copy then resumes and the frozen tab learns of the takeover (4008) when it wakes.
 */

const CHANNEL = 'webssh-bridge.sessions';
/** How long a page waits for a holder's answer before it resumes. */
export const CLAIM_WAIT_MS = 250;
const MAX_ID = 200;

export class SessionClaims {
  readonly #channel: BroadcastChannel | null;
  #pending: { readonly id: string; readonly yes: () => void } | null = null;

  /** `held`: the id of the session this page holds (connected or being resumed), else null. */
  constructor(held: () => string | null) {
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    if (this.#channel === null) return;
    const channel = this.#channel;
    channel.onmessage = (ev: MessageEvent<unknown>) => {
      const m = ev.data;
      if (typeof m !== 'object' || m === null) return;
      const { ask, held: answer } = m as { ask?: unknown; held?: unknown };
      const mine = held();
      if (typeof ask === 'string' && mine !== null && ask === mine) channel.postMessage({ held: ask });
      if (typeof answer === 'string' && this.#pending?.id === answer) this.#pending.yes();
    };
  }

  /** Does another page of this browser hold `sessionId`? False at once where pages cannot ask each other. */
  heldElsewhere(sessionId: string, waitMs = CLAIM_WAIT_MS): Promise<boolean> {
    const channel = this.#channel;
    if (channel === null || sessionId.length > MAX_ID) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (held: boolean): void => {
        clearTimeout(timer);
        this.#pending = null;
        resolve(held);
      };
      const timer = setTimeout(() => finish(false), waitMs);
      this.#pending = { id: sessionId, yes: () => finish(true) };
      channel.postMessage({ ask: sessionId });
    });
  }

  /** Stop answering; a pending question still ends (false) when its wait runs out. */
  dispose(): void {
    this.#channel?.close();
  }
}
