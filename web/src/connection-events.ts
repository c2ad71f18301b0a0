/**
 * What the terminal's connection (connection.ts) tells the page: main.ts implements these, and
 * they are the only way the connection reaches the terminal, the dialogs, the status line and
 * the resume record.
 */
import type { HostKeyPrompt } from './hostkey.js';
import type { AuthPrompt, ServerMessage, ShareGrant, ViewerEntry } from './messages.js';
import type { SessionEnd } from './reconnect-rules.js';
import type { ConnState } from './status.js';

export interface ConnectionEvents {
  /** The fitted terminal size, asked right before `auth` and after `resumed`. */
  size(): { cols: number; rows: number };
  /**
   * The first banner, output or `ready` of a new login: reset the terminal before writing, then
   * show `note` (if any) on a line of its own.
   */
  sessionStart(note: string | null): void;
  output(data: Uint8Array, rendered: () => void): void;
  /** Call `done` once everything written to the terminal so far has been parsed. */
  mark(done: () => void): void;
  /** A resume came back with a gap of `lost` bytes: reset the terminal and say so. */
  lostOutput(lost: number): void;
  /** `bytes` of what the user typed while the connection was down could not be delivered: say so. */
  lostInput(bytes: number): void;
  banner(text: string): void;
  /** `ready` (a new session) or `resumed` (the same session on a new socket). */
  ready(kind: 'new' | 'resumed'): void;
  /** The resumable session changed: a new token, a drop, or it is gone (`resumeState()` is null). */
  resumeChanged(): void;
  state(state: ConnState, text: string): void;
  latency(ms: number): void;
  /** The session closes for idleness in `closesInMs` unless the user does something; null: the warning is off. */
  idle(closesInMs: number | null): void;
  ended(end: SessionEnd): void;
  /** The gateway asks whether to trust an unknown host key; call `answer` once. */
  hostKey(prompt: HostKeyPrompt, answer: (accept: boolean) => void): void;
  /** A pending host key question is moot (answered elsewhere, socket gone). */
  hostKeyDone(): void;
  /** The server asks keyboard-interactive questions; call `answer` once with one response per prompt. */
  authPrompt(prompt: AuthPrompt, answer: (responses: string[]) => void): void;
  /** A pending keyboard-interactive round is moot (socket gone). */
  authPromptDone(): void;
  /** Sharing (docs/protocol.md#sharing): a view link was made for this session. */
  shared(grant: ShareGrant): void;
  /** The gateway would not make a link (the session goes on). */
  shareRefused(code: string, message: string): void;
  /** Who is watching now (the whole list, on every join and leave). */
  viewers(list: readonly ViewerEntry[]): void;
  /** Any other control message of the live session (the Files panel's `files-token`, `files-refused`). */
  other(m: ServerMessage): void;
}
