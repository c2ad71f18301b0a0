/**
 * A session's recording (--record-dir, src/record/), fed like any other consumer of its output:
 * through a pump tap, so it gets the chunks in the order the client gets them (the seed banner
 * included). Resizes and, with --record-input, the input the session forwards are written by the
 * session. A failure to open the file only costs the recording; nothing here throws into the
 * session.
 */
import type { Logger } from '../log.js';
import type { Recorder, RecordingInfo, SessionRecording } from '../record/recorder.js';

export class RecordingTap {
  #recording: SessionRecording | undefined;
  readonly #untap: () => void;

  /** Open the recording when the recorder wants this session; undefined when it does not (or failed). */
  static start(recorder: Recorder | null, info: RecordingInfo, tap: (fn: (chunk: Buffer) => void) => () => void, log: Logger): RecordingTap | undefined {
    if (recorder === null) return undefined;
    let recording: SessionRecording | undefined;
    try {
      recording = recorder.start(info, log);
    } catch (err) {
      log.error({ event: 'recording_failed', error: err instanceof Error ? err.message : String(err) }, 'recording failed; the session goes on without it');
      return undefined;
    }
    return recording === undefined ? undefined : new RecordingTap(recording, tap);
  }

  private constructor(recording: SessionRecording, tap: (fn: (chunk: Buffer) => void) => () => void) {
    this.#recording = recording;
    this.#untap = tap((chunk) => recording.output(chunk));
  }

  input(data: Buffer): void {
    this.#recording?.input(data);
  }

  resize(cols: number, rows: number): void {
    this.#recording?.resize(cols, rows);
  }

  /** A marker event (file transfers: ./session-files.ts). */
  marker(text: string): void {
    this.#recording?.marker(text);
  }

  /** Stop taking output and finish the file (on its own time). Idempotent. */
  close(): void {
    const recording = this.#recording;
    if (recording === undefined) return;
    this.#recording = undefined;
    this.#untap();
    void recording.close();
  }
}
