/**
 * This page's place among several sessions: the page that holds the tabs (workspace.ts, its own
 * session is pane 0), one of their frames (`?pane=N`, frame-pane.ts), or neither (a viewer of a
 * shared session). Wires the New session button and, in the page that holds the tabs, the
 * leave-the-page question for every pane's session.
 */
import type { ConfirmDialog } from './confirm.js';
import { byId } from './dom.js';
import { FramePane, PaneReporter, type PaneHandlers, type PaneHost } from './frame-pane.js';
import { LeaveGuard } from './leave-guard.js';
import type { Toast } from './toast.js';
import { Workspace } from './workspace.js';

export interface PaneSetup extends PaneHandlers {
  readonly viewerMode: boolean;
  /** N for a frame pane, null for the page itself. */
  readonly framePane: number | null;
  readonly confirm: ConfirmDialog;
  readonly toast: Toast;
  readonly defaultTitle: string;
  /** This page's own session would be left behind by leaving. */
  live(): boolean;
  /** Show the form again (a closed pane 0 is reused by New session). */
  reuse(): void;
}

export function setupPane(o: PaneSetup): { reporter: PaneReporter | null; workspace: Workspace | null } {
  const handlers: PaneHandlers = { focus: () => o.focus(), end: () => o.end() };
  let workspace: Workspace | null = null;
  let host: PaneHost | null = null;
  if (o.framePane !== null) {
    host = new FramePane(handlers);
  } else if (!o.viewerMode) {
    const ws = new Workspace({ confirm: o.confirm, toast: o.toast, defaultTitle: o.defaultTitle });
    workspace = ws;
    host = ws.selfHost({ ...handlers, reuse: () => o.reuse() });
    // The frames' sessions count too: leaving the page leaves them all behind.
    new LeaveGuard(() => o.live() || ws.framesLive);
  }
  const newBtn = byId('new-btn');
  newBtn.hidden = host === null;
  if (host !== null) {
    const h = host;
    newBtn.addEventListener('click', () => h.command({ kind: 'new' }));
  }
  return { reporter: host === null ? null : new PaneReporter(host), workspace };
}
