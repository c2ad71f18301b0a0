/**
 * Test hooks for the browser tests, in the test build only (dist/web-test/: main.ts installs them
 * when __UWSB_TEST_HOOKS__ is true, build-flags.d.ts; the production bundle has none of this file).
 * Keep the shape; fields are only ever added:
 * `window.__uwsb = { state, screenText, term, lastError, bytesAcked, bytesReceived, position,
 * parsedPosition, sessionId, resumeCount, recordOutput, recordedOutput, isViewer, shareLink,
 * viewerCount }`.
 * bytesAcked / bytesReceived count the current (or last) socket's output frames; position counts
 * the session's output bytes handed to the terminal across resumes (the resume position). On a
 * viewer page (`#share=`), state and bytesReceived are the viewer socket's.
 */
import type { Terminal } from '@xterm/xterm';
import type { Connection } from './connection.js';
import type { ConnState } from './status.js';
import type { TermView } from './terminal.js';
import type { Ui } from './ui.js';
import type { ShareControl } from './share.js';
import type { ViewerConnection } from './viewer.js';

export interface TestHooks {
  state(): ConnState;
  screenText(): string;
  readonly term: Terminal;
  lastError(): string | null;
  bytesAcked(): number;
  bytesReceived(): number;
  /** Output bytes of the current session handed to the terminal (what a resume asks for). */
  position(): number;
  /** Output bytes of the current session xterm.js has parsed (null while a reset is pending). */
  parsedPosition(): number | null;
  /** The current (or last) session's id, from `ready` / `resumed`. */
  sessionId(): string | null;
  /** Successful resumes since the page loaded. */
  resumeCount(): number;
  /** Start (true, from empty) or stop recording the output bytes handed to the terminal. */
  recordOutput(on: boolean): void;
  /** The recorded output, UTF-8 decoded as one stream. */
  recordedOutput(): string;
  /** This page watches a shared session (opened with `#share=`). */
  isViewer(): boolean;
  /** The owner's current view link, or null (none made, stopped, expired, session over). */
  shareLink(): string | null;
  /** How many people watch the owner's session (from the last `viewers`). */
  viewerCount(): number;
}

declare global {
  interface Window {
    __uwsb: TestHooks;
  }
}

/** Records the output handed to the terminal, only while a test asked for it. */
export class OutputRecorder {
  #decoder: TextDecoder | null = null;
  #parts: string[] = [];

  push(bytes: Uint8Array): void {
    if (this.#decoder !== null) this.#parts.push(this.#decoder.decode(bytes, { stream: true }));
  }

  record(on: boolean): void {
    this.#decoder = on ? new TextDecoder() : null;
    if (on) this.#parts = [];
  }

  text(): string {
    const joined = this.#parts.join('');
    this.#parts = [joined];
    return joined;
  }
}

export interface HookDeps {
  readonly conn: Connection;
  readonly ui: Ui;
  readonly view: TermView;
  readonly recorder: OutputRecorder;
  readonly share: ShareControl;
  /** The page was opened with a view link. */
  readonly isViewer: boolean;
  /** The viewer connection once a `#share=` page started watching. */
  viewer(): ViewerConnection | null;
}

export function installTestHooks(deps: HookDeps): void {
  const { conn, ui, view, recorder, share } = deps;
  window.__uwsb = {
    state: () => deps.viewer()?.state ?? conn.state,
    screenText: () => view.screenText(),
    term: view.term,
    lastError: () => ui.lastError(),
    bytesAcked: () => conn.bytesAcked,
    bytesReceived: () => deps.viewer()?.bytesReceived ?? conn.bytesReceived,
    position: () => conn.position,
    parsedPosition: () => conn.parsedPosition,
    sessionId: () => conn.sessionId,
    resumeCount: () => conn.resumeCount,
    recordOutput: (on) => recorder.record(on),
    recordedOutput: () => recorder.text(),
    isViewer: () => deps.isViewer,
    shareLink: () => share.link,
    viewerCount: () => share.viewerCount,
  };
}
