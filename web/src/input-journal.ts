/**
 * The terminal's input across a lost socket (docs/protocol.md#resume, Input). Every byte sent in
 * a session is numbered from its login on, and the newest SENT_KEEP bytes are kept; while the
 * socket is down, what the user types is held (at most HELD_MAX bytes). When the session
 * resumes, the bridge's `inputPosition` says how much it took: what was sent after that went into
 * a dead socket and is sent again, then the held bytes, so each byte reaches the shell once and
 * in order. What cannot be delivered (more than SENT_KEEP went into the dead socket, the hold
 * overflowed, or the session was not resumed) is counted, so the page can say so: never lost in
 * silence. Pure: no socket, no timer.
 */

/** Sent bytes kept for a resend: far more than anyone types in the seconds a drop takes to notice. */
export const SENT_KEEP = 64 * 1024;
/** Bytes held while the socket is down (a paste beyond this is refused, and counted). */
export const HELD_MAX = 64 * 1024;

export class InputJournal {
  /** Position after the last byte sent. */
  #end = 0;
  /** The newest sent chunks; together they end at #end. */
  #kept: Uint8Array[] = [];
  #keptBytes = 0;
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** Held bytes refused (the hold was full) since the last resumed() or reset(). */
  #refused = 0;

  /** Bytes typed while the socket was down, waiting for the resume. */
  get held(): number {
    return this.#heldBytes;
  }

  /** Bytes sent in this session so far. */
  get position(): number {
    return this.#end;
  }

  /** `bytes` went out on the session's socket. */
  sent(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#end += bytes.length;
    this.#kept.push(bytes);
    this.#keptBytes += bytes.length;
    while (this.#kept.length > 1 && this.#keptBytes - (this.#kept[0]?.length ?? 0) >= SENT_KEEP) {
      this.#keptBytes -= this.#kept.shift()?.length ?? 0;
    }
  }

  /** Typed while the socket is down: kept for the resume. False when the hold is full (counted). */
  hold(bytes: Uint8Array): boolean {
    if (this.#heldBytes + bytes.length > HELD_MAX) {
      this.#refused += bytes.length;
      return false;
    }
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    return true;
  }

  /**
   * The session is back (`resumed`): `sendNow` what went into the dead socket, then what was held,
   * in order (`sendNow` reports each byte it sends with `sent`, and returns false for what it could
   * not). `inputPosition` null (a bridge that does not say) resends only the held bytes. Returns
   * the bytes that could not be delivered.
   */
  resumed(inputPosition: number | null, sendNow: (bytes: Uint8Array) => boolean): number {
    const send: Uint8Array[] = [];
    let lost = this.#refused;
    if (inputPosition !== null && inputPosition < this.#end) {
      const missing = this.#end - inputPosition;
      if (missing > this.#keptBytes) lost += missing - this.#keptBytes;
      send.push(...this.#tail(Math.min(missing, this.#keptBytes)));
      this.#trimTo(inputPosition);
    }
    send.push(...this.#held);
    this.#held = [];
    this.#heldBytes = 0;
    this.#refused = 0;
    for (const bytes of send) if (!sendNow(bytes)) lost += bytes.length;
    return lost;
  }

  /** A new login (or the end): positions start again at 0. Returns the held bytes that will never be sent. */
  reset(): number {
    const undelivered = this.#heldBytes + this.#refused;
    this.#end = 0;
    this.#kept = [];
    this.#keptBytes = 0;
    this.#held = [];
    this.#heldBytes = 0;
    this.#refused = 0;
    return undelivered;
  }

  /** The last `n` bytes sent (n <= #keptBytes), as chunks in order. */
  #tail(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let need = n;
    for (let i = this.#kept.length - 1; i >= 0 && need > 0; i--) {
      const chunk = this.#kept[i] ?? new Uint8Array(0);
      out.unshift(chunk.length <= need ? chunk : chunk.subarray(chunk.length - need));
      need -= Math.min(need, chunk.length);
    }
    return out;
  }

  /** Forget what was sent after `position` (it is about to be sent again). */
  #trimTo(position: number): void {
    let drop = this.#end - position;
    while (drop > 0 && this.#kept.length > 0) {
      const last = this.#kept[this.#kept.length - 1] ?? new Uint8Array(0);
      if (last.length <= drop) {
        this.#kept.pop();
        this.#keptBytes -= last.length;
        drop -= last.length;
      } else {
        this.#kept[this.#kept.length - 1] = last.subarray(0, last.length - drop);
        this.#keptBytes -= drop;
        drop = 0;
      }
    }
    this.#end = position;
  }
}
