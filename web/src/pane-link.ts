/**
 * What a session pane and the page's workspace (its tabs) say to each other. The page's own
 * session is pane 0 and talks to the workspace by calls; every further session is the same page
 * in a same-origin frame (`?pane=N`), which talks by `postMessage` (origin and source checked on
 * both sides, anything malformed ignored).
 *
 * Pane to workspace: a report of what the tab shows, or a command (a keyboard shortcut or the New
 * session button, typed in the pane). Workspace to pane: take the keyboard, or end the session
 * (after the workspace asked the user) and answer `ended` once the gateway has the close.
 */
import type { ConnState } from './status.js';

/** What a pane's tab shows. */
export interface PaneReport {
  /** `user@host:port`, or "New session" while the form is shown. */
  readonly label: string;
  readonly state: ConnState;
  /** A session would be lost by closing the pane (connected, or being resumed). */
  readonly live: boolean;
  /** The terminal's title ('' for none). */
  readonly title: string;
  /** A question waits for the user (host key, login prompt). */
  readonly ask: boolean;
  /** The idle warning is up: the session closes soon. */
  readonly warn: boolean;
}

export type PaneCommand =
  | { readonly kind: 'new' }
  | { readonly kind: 'close' }
  | { readonly kind: 'split' }
  | { readonly kind: 'step'; readonly by: 1 | -1 }
  | { readonly kind: 'nth'; readonly n: number }
  /** The pane got the keyboard (a click in it): it becomes the active one. */
  | { readonly kind: 'focused' };

export type ToPane = 'focus' | 'end';

export type FromPane = { readonly report: PaneReport } | { readonly command: PaneCommand } | { readonly ended: true };

/** The envelope keys, so other postMessage traffic (extensions, devtools) is never mistaken for ours. */
export const FROM_PANE = 'uwsbPane';
export const TO_PANE = 'uwsbWorkspace';

const STATES: readonly string[] = ['idle', 'connecting', 'connected', 'reconnecting', 'closed'];
const MAX_TEXT = 200;

const text = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;

function parseReport(v: unknown): PaneReport | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const { label, state, live, title, ask, warn } = r;
  if (!text(label) || !text(title) || typeof state !== 'string' || !STATES.includes(state)) return null;
  if (typeof live !== 'boolean' || typeof ask !== 'boolean' || typeof warn !== 'boolean') return null;
  return { label, state: state as ConnState, live, title, ask, warn };
}

function parseCommand(v: unknown): PaneCommand | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  switch (c['kind']) {
    case 'new': case 'close': case 'split': case 'focused':
      return { kind: c['kind'] };
    case 'step':
      return c['by'] === 1 || c['by'] === -1 ? { kind: 'step', by: c['by'] } : null;
    case 'nth':
      return typeof c['n'] === 'number' && Number.isInteger(c['n']) && c['n'] >= 1 && c['n'] <= 9 ? { kind: 'nth', n: c['n'] } : null;
    default:
      return null;
  }
}

/** A message's data from a pane, checked; null for anything else. */
export function parseFromPane(data: unknown): FromPane | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = (data as Record<string, unknown>)[FROM_PANE];
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o['ended'] === true) return { ended: true };
  if ('report' in o) {
    const report = parseReport(o['report']);
    return report === null ? null : { report };
  }
  const command = parseCommand(o['command']);
  return command === null ? null : { command };
}

export function parseToPane(data: unknown): ToPane | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = (data as Record<string, unknown>)[TO_PANE];
  return m === 'focus' || m === 'end' ? m : null;
}

/** The pane number of a page opened as a frame pane (`?pane=N`, 1-9999), else null. */
export function paneParam(search: string): number | null {
  const raw = new URLSearchParams(search).get('pane');
  if (raw === null || !/^[1-9]\d{0,3}$/.test(raw)) return null;
  return Number(raw);
}

/**
 * A keyboard shortcut of the tabs, from a keydown's modifier state and `code` (the physical key,
 * so Shift does not matter): Alt+Shift with N (new session), W (close it), S (split view), the
 * arrows or brackets (previous / next), 1 to 9 (that tab). Null for any other key.
 */
export function tabShortcut(ev: { altKey: boolean; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; code: string }): PaneCommand | null {
  if (!ev.altKey || !ev.shiftKey || ev.ctrlKey || ev.metaKey) return null;
  switch (ev.code) {
    case 'KeyN': return { kind: 'new' };
    case 'KeyW': return { kind: 'close' };
    case 'KeyS': return { kind: 'split' };
    case 'ArrowRight': case 'BracketRight': return { kind: 'step', by: 1 };
    case 'ArrowLeft': case 'BracketLeft': return { kind: 'step', by: -1 };
    default: {
      const m = /^Digit([1-9])$/.exec(ev.code);
      return m === null ? null : { kind: 'nth', n: Number(m[1]) };
    }
  }
}
