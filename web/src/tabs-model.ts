/**
 * The tabs of one page as plain data (no DOM): which sessions the page holds, in strip order,
 * which one has the keyboard, and the split view (two panes side by side). workspace.ts renders
 * it; every change goes through these functions, which return a new state and never throw.
 *
 * Rules:
 * - a new pane goes to the end of the strip and becomes active; in the split view it takes the
 *   active pane's place (the other side stays);
 * - selecting a pane already on screen only moves the keyboard there; selecting a hidden one puts
 *   it in the active pane's place;
 * - closing the active pane activates its right neighbour (its left one at the end of the strip);
 *   closing a pane on screen in the split view fills its side with the nearest hidden pane, and
 *   the split ends when fewer than two panes are left;
 * - the split needs two panes: the active one and its neighbour (right first), side by side in
 *   strip order.
 */

export type PaneId = number;

export interface TabsState {
  /** Strip order. Never empty. */
  readonly panes: readonly PaneId[];
  /** The pane with the keyboard (always on screen). */
  readonly active: PaneId;
  /** The split view's two sides, or null for one pane on screen. */
  readonly split: { readonly left: PaneId; readonly right: PaneId } | null;
}

export const initialTabs = (first: PaneId): TabsState => ({ panes: [first], active: first, split: null });

/** The panes on screen, left to right. */
export function shown(s: TabsState): readonly PaneId[] {
  return s.split === null ? [s.active] : [s.split.left, s.split.right];
}

/** Put `id` where the active pane is on screen (the split keeps its other side). */
function placeActive(s: TabsState, id: PaneId): TabsState {
  if (s.split === null) return { ...s, active: id };
  const split = s.split.left === s.active ? { left: id, right: s.split.right } : { left: s.split.left, right: id };
  return { ...s, active: id, split };
}

export function addPane(s: TabsState, id: PaneId): TabsState {
  if (s.panes.includes(id)) return select(s, id);
  return placeActive({ ...s, panes: [...s.panes, id] }, id);
}

export function select(s: TabsState, id: PaneId): TabsState {
  if (!s.panes.includes(id)) return s;
  if (shown(s).includes(id)) return { ...s, active: id };
  return placeActive(s, id);
}

/** The pane `step` places away from the active one in the strip, wrapping around. */
export function step(s: TabsState, by: number): TabsState {
  const i = s.panes.indexOf(s.active);
  const n = s.panes.length;
  const next = s.panes[(((i + by) % n) + n) % n];
  return next === undefined ? s : select(s, next);
}

/** The `n`th pane of the strip (1-based), if there is one. */
export function nth(s: TabsState, n: number): TabsState {
  const id = s.panes[n - 1];
  return id === undefined ? s : select(s, id);
}

/** The nearest pane to `id` in the strip (right first) that `usable` accepts, or undefined. */
function nearest(panes: readonly PaneId[], id: PaneId, usable: (p: PaneId) => boolean): PaneId | undefined {
  const i = panes.indexOf(id);
  for (let d = 1; d < panes.length; d++) {
    for (const j of [i + d, i - d]) {
      const p = panes[j];
      if (p !== undefined && p !== id && usable(p)) return p;
    }
  }
  return undefined;
}

/** Close `id`. The last pane is never closed (the page always holds one). */
export function removePane(s: TabsState, id: PaneId): TabsState {
  if (!s.panes.includes(id) || s.panes.length === 1) return s;
  const panes = s.panes.filter((p) => p !== id);
  if (s.split !== null && (s.split.left === id || s.split.right === id)) {
    const other = s.split.left === id ? s.split.right : s.split.left;
    const fill = nearest(s.panes, id, (p) => p !== other);
    if (fill === undefined) return { panes, active: other, split: null };
    const split = s.split.left === id ? { left: fill, right: other } : { left: other, right: fill };
    return { panes, active: s.active === id ? fill : s.active, split };
  }
  if (s.active !== id) return { ...s, panes };
  const next = nearest(s.panes, id, () => true) ?? panes[0] ?? s.active;
  return { panes, active: next, split: null };
}

export function toggleSplit(s: TabsState): TabsState {
  if (s.split !== null) return { ...s, split: null };
  const beside = nearest(s.panes, s.active, () => true);
  if (beside === undefined) return s;
  // The two sides in strip order, so the view reads like the strip.
  const [left, right] = s.panes.indexOf(s.active) < s.panes.indexOf(beside) ? [s.active, beside] : [beside, s.active];
  return { ...s, split: { left, right } };
}

/** A stored state (sessionStorage), checked: anything malformed gives null. */
export function parseTabs(raw: unknown): TabsState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const ids = r['panes'];
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_PANES) return null;
  const panes: PaneId[] = [];
  for (const v of ids) {
    if (!isPaneId(v) || panes.includes(v)) return null;
    panes.push(v);
  }
  const active = r['active'];
  if (!isPaneId(active) || !panes.includes(active)) return null;
  const sp = r['split'];
  if (sp === null || sp === undefined) return { panes, active, split: null };
  if (typeof sp !== 'object') return null;
  const { left, right } = sp as Record<string, unknown>;
  if (!isPaneId(left) || !isPaneId(right) || left === right || !panes.includes(left) || !panes.includes(right)) return null;
  if (active !== left && active !== right) return null;
  return { panes, active, split: { left, right } };
}

/** At most this many sessions in one page (each pane is a page of its own: memory, sockets). */
export const MAX_PANES = 8;
/** Pane ids: 0 is the page's own pane, frames count up from 1. */
export const MAX_PANE_ID = 9999;

export function isPaneId(v: unknown): v is PaneId {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_PANE_ID;
}
