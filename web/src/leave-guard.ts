/**
 * Not losing a session by closing the tab. While a session is live the browser asks before the
 * page goes away (`beforeunload`: the browser's own "Leave site?" prompt; it shows its own words).
 * A tab closed anyway leaves its session running on the gateway for the grace period, and a
 * reopened tab (its sessionStorage comes back, resume.ts) picks it up: the sentences here say so,
 * from what the resume record holds (who, where, and until when the gateway keeps it).
 */

/** Time left of a grace period, in words: "about 4 more minutes", "a few more seconds". */
export function graceLeftText(deadline: number, now: number): string {
  const seconds = Math.max(0, Math.round((deadline - now) / 1000));
  if (seconds < 60) return seconds <= 10 ? 'a few more seconds' : `about ${seconds} more seconds`;
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? 'about 1 more minute' : `about ${minutes} more minutes`;
}

/** While a stored session is being picked up after a reload or a reopened tab. */
export function resumingText(who: string, deadline: number, now: number): string {
  return `Resuming your session with ${who}: the gateway keeps it for ${graceLeftText(deadline, now)}…`;
}

/** Once it is back. */
export function resumedText(who: string): string {
  return `Session with ${who} resumed: it kept running on the gateway while this page was away.`;
}

export class LeaveGuard {
  readonly #abort = new AbortController();

  /** `live`: a session would be left behind (connected, or being resumed). */
  constructor(live: () => boolean) {
    window.addEventListener('beforeunload', (ev) => {
      if (!live()) return;
      ev.preventDefault();
      ev.returnValue = ''; // older browsers need it set to show the prompt
    }, { signal: this.#abort.signal });
  }

  dispose(): void {
    this.#abort.abort();
  }
}
