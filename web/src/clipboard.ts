/**
 * Terminal input, clipboard and keyboard shortcuts:
 * - keystrokes (`onData`, `onBinary`) go straight to the connection as binary frames, typed text
 *   through `filter` first (the extra-keys bar's sticky Ctrl / Alt, keybar.ts);
 * - copy on select (`copied` says whether the clipboard took it; not the find box's matches, which
 *   it selects while `copyOnSelect()` is false), Ctrl/Cmd+Shift+C copies, Ctrl/Cmd+Shift+V and the paste event paste through
 *   the chunked paste queue (paste.ts) with bracketed-paste markers when the program asked;
 * - Ctrl/Cmd+Shift+F search, Ctrl/Cmd+= / Ctrl/Cmd+- / Ctrl/Cmd+0 font size (in the terminal only,
 *   so the form keeps the browser's page zoom).
 * While `readOnly()` (a viewer of a shared session) nothing is sent: no keystrokes, no paste.
 */
import type { Connection } from './connection.js';
import { PasteQueue, preparePaste } from './paste.js';
import type { TermView } from './terminal.js';

export interface InputActions {
  search(): void;
  fontStep(delta: number): void;
  fontReset(): void;
  /** Whether the terminal is in front (a session is shown). */
  sessionShown(): boolean;
  /** Watching someone else's session: the keyboard and paste send nothing. */
  readOnly(): boolean;
  /** Typed input on its way out (an armed modifier of the extra-keys bar applies to it). */
  filter(data: string): string;
  /** A selection was copied (true) or the browser refused the clipboard (false). */
  copied(ok: boolean): void;
  /** Whether a new selection is the user's to copy (the find box selects its matches too). */
  copyOnSelect(): boolean;
}

/** Put `text` on the clipboard; false when the browser would not (no permission, insecure page). */
export async function copyText(text: string): Promise<boolean> {
  if (text === '' || navigator.clipboard?.writeText === undefined) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function setupInput(view: TermView, conn: Connection, container: HTMLElement, actions: InputActions): void {
  const { term } = view;
  const encoder = new TextEncoder();
  const pastes = new PasteQueue();

  term.onData((data) => {
    if (!actions.readOnly()) conn.input(encoder.encode(actions.filter(data)));
  });
  term.onBinary((data) => {
    if (actions.readOnly()) return;
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
    conn.input(bytes);
  });

  let copyTimer: ReturnType<typeof setTimeout> | undefined;
  const copy = (): void => {
    const text = term.getSelection();
    if (text !== '') void copyText(text).then((ok) => actions.copied(ok));
  };
  term.onSelectionChange(() => {
    if (copyTimer !== undefined) clearTimeout(copyTimer);
    copyTimer = actions.copyOnSelect() ? setTimeout(copy, 120) : undefined;
  });

  const paste = (text: string): void => {
    if (text === '' || actions.readOnly()) return;
    term.scrollToBottom();
    void pastes.paste(preparePaste(text, term.modes.bracketedPasteMode), conn.pasteSink());
  };

  // Take the paste event before xterm.js sees it (capture phase on its container).
  container.addEventListener('paste', (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    paste(ev.clipboardData?.getData('text/plain') ?? '');
  }, { capture: true });

  window.addEventListener('keydown', (ev) => {
    const mod = ev.ctrlKey || ev.metaKey;
    if (!mod || ev.altKey) return;
    const inTerminal = ev.target instanceof Node && container.contains(ev.target);
    let handled = true;
    if (ev.shiftKey && (ev.code === 'KeyF' || ev.key.toLowerCase() === 'f') && actions.sessionShown()) {
      actions.search();
    } else if (ev.shiftKey && (ev.code === 'KeyV' || ev.key.toLowerCase() === 'v') && inTerminal) {
      if (!actions.readOnly()) navigator.clipboard?.readText?.().then(paste, () => undefined);
    } else if (ev.shiftKey && (ev.code === 'KeyC' || ev.key.toLowerCase() === 'c') && inTerminal) {
      copy();
    } else if (inTerminal && (ev.key === '=' || ev.key === '+')) {
      actions.fontStep(1);
    } else if (inTerminal && !ev.shiftKey && ev.key === '-') {
      actions.fontStep(-1);
    } else if (inTerminal && !ev.shiftKey && ev.key === '0') {
      actions.fontReset();
    } else {
      handled = false;
    }
    if (handled) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, { capture: true });
}
