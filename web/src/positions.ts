/**
 * Output positions of the terminal's session (docs/protocol.md#resume): how many output bytes
 * were handed to the terminal (what a resume asks for) and how many of those xterm.js has parsed
 * (what the stored screen shows, resume.ts). Positions start again on a new session, after lost
 * output and on a restore; a parse callback from before a restart never moves the new count, and
 * the parsed count is unknown (null) until the restart itself has been parsed.
 */
export class OutputPositions {
  #position = 0;
  /** Up to here xterm.js has parsed; valid when `#parsedEpoch === #epoch`. */
  #parsed = 0;
  /** Bumped on every restart. */
  #epoch = 0;
  #parsedEpoch = 0;

  /** Output bytes handed to the terminal. */
  get position(): number {
    return this.#position;
  }

  /** Output bytes xterm.js has parsed; null until the last restart is parsed. */
  get parsed(): number | null {
    return this.#parsedEpoch === this.#epoch ? this.#parsed : null;
  }

  /**
   * Start again at `position`; `mark` calls back once everything written to the terminal so far
   * has been parsed (then the parsed count is `position`).
   */
  restart(position: number, mark: (done: () => void) => void): void {
    const epoch = ++this.#epoch;
    this.#position = position;
    mark(() => {
      this.#parsedEpoch = epoch;
      this.#parsed = position;
    });
  }

  /** `length` more bytes go to the terminal; returns the callback for when xterm.js parsed them. */
  advance(length: number): () => void {
    const epoch = this.#epoch;
    const end = this.#position + length;
    this.#position = end;
    return () => {
      if (epoch === this.#parsedEpoch) this.#parsed = end;
    };
  }
}
