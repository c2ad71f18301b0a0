/**
 * What the recordings table shows, pure: which listed recordings match the view's filter (user,
 * target, a range of days) and the texts of a row (start, the node that wrote it in a cluster,
 * size, duration, or "running" for a recording still being written).
 *
 * The filter works on the listing the page has (the newest 1000 at most, see recordings-api.ts):
 * - **user**: part of the SSH user name or of the gateway identity, case-insensitive;
 * - **target**: part of `host:port`, case-insensitive;
 * - **from / to**: `YYYY-MM-DD` (an `<input type="date">`'s value), days in the browser's time
 *   zone, both included; the start time is the header's `timestamp`, else the file's `mtime`.
 * An empty field matches everything; a recording without the field a filter asks about does not
 * match it.
 */
import type { RecordingItem } from './recordings-api.js';

/** The filter fields as typed ('' = any). */
export interface RecordingFilter {
  readonly user: string;
  readonly target: string;
  readonly from: string;
  readonly to: string;
}

export const NO_FILTER: RecordingFilter = Object.freeze({ user: '', target: '', from: '', to: '' });

/** When the recording started, or null when neither header nor file says. */
export function startedAt(item: RecordingItem): Date | null {
  const date = item.timestamp !== null ? new Date(item.timestamp * 1000) : new Date(item.mtime);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "on gw-2": which node of a cluster wrote the recording, shown after its start; null on one node. */
export function nodeText(item: RecordingItem): string | null {
  return item.node === null || item.node === '' ? null : `on ${item.node}`;
}

/** Local midnight of `YYYY-MM-DD` plus `days`, or null for anything else. */
function localDay(value: string, days: number): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return null;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days);
  return Number.isNaN(date.getTime()) ? null : date;
}

function contains(value: string | null, part: string): boolean {
  return value !== null && value.toLowerCase().includes(part);
}

export function isEmptyFilter(f: RecordingFilter): boolean {
  return f.user.trim() === '' && f.target.trim() === '' && localDay(f.from, 0) === null && localDay(f.to, 0) === null;
}

export function matchesFilter(item: RecordingItem, f: RecordingFilter): boolean {
  const user = f.user.trim().toLowerCase();
  if (user !== '' && !contains(item.username, user) && !contains(item.subject, user)) return false;
  const target = f.target.trim().toLowerCase();
  if (target !== '' && !contains(item.target, target)) return false;
  const from = localDay(f.from, 0);
  const to = localDay(f.to, 1); // the whole last day
  if (from === null && to === null) return true;
  const start = startedAt(item);
  if (start === null) return false;
  return (from === null || start >= from) && (to === null || start < to);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** The Duration cell: a finished recording's length, or "Running" (with the length so far). */
export function durationText(item: RecordingItem): string {
  if (item.live === true) return item.duration === null ? 'Running' : `Running (${formatDuration(item.duration)} so far)`;
  return formatDuration(item.duration);
}

/** `user@host:port` or the file name: how a recording is named in buttons and the player. */
export function recordingLabel(item: RecordingItem): string {
  return item.title ?? item.name;
}

/** "3 recordings.", "Showing 1 of 3 recordings.", with a note when the listing is cut. */
export function countText(shown: number, listed: number, filtered: boolean, truncated: boolean): string {
  if (listed === 0) return 'No recordings yet.';
  const plural = (n: number): string => `${n} recording${n === 1 ? '' : 's'}`;
  const more = truncated ? ' (the newest; there are more)' : '';
  if (!filtered) return `${plural(listed)}${more}.`;
  return `Showing ${shown} of ${plural(listed)}${more}.`;
}
