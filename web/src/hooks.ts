/**
 * Test hooks for the browser tests (keep the shape exactly):
 * `window.__uwsb = { state, screenText, term, lastError, bytesAcked, bytesReceived }`.
 * bytesAcked / bytesReceived count the current (or last) session's output frames.
 */
import type { Terminal } from '@xterm/xterm';
import type { Connection } from './connection.js';
import type { ConnState } from './status.js';
import type { TermView } from './terminal.js';
import type { Ui } from './ui.js';

export interface TestHooks {
  state(): ConnState;
  screenText(): string;
  readonly term: Terminal;
  lastError(): string | null;
  bytesAcked(): number;
  bytesReceived(): number;
}

declare global {
  interface Window {
    __uwsb: TestHooks;
  }
}

export function installTestHooks(deps: { conn: Connection; ui: Ui; view: TermView }): void {
  const { conn, ui, view } = deps;
  window.__uwsb = {
    state: () => conn.state,
    screenText: () => view.screenText(),
    term: view.term,
    lastError: () => ui.lastError(),
    bytesAcked: () => conn.bytesAcked,
    bytesReceived: () => conn.bytesReceived,
  };
}
