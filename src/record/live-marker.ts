/**
 * Which recordings are still being written, from pure inputs (the files are written by
 * ./recorder.ts and read by ./store.ts and ./writer-process.ts):
 *
 * - While a recording is written, a marker sits next to it: `<recording name>.live` (never a
 *   recording name itself, so it is neither listed nor served). The recorder creates it before
 *   the recording and removes it once the file is closed. Its name carries the recording's, so in
 *   a cluster it names the node that writes it (./catalog.ts).
 * - The marker names its writer: the process id and, where the system tells it (Linux), the
 *   process's start (`<boot id>/<start time in clock ticks>`), so a process id reused after a
 *   crash or a container restart is told apart from the writer.
 * - Heartbeat: while the recording is written, its writer touches the marker (its mtime) every
 *   `touchMs`; a marker not touched for `staleMs` (three touches) is stale. Both follow the lease
 *   (`--cluster-lease`, `markerTiming`), so every node of a cluster, which shares that value,
 *   agrees on them.
 *
 * The rule (`markerVerdict`, then `writerLive`): a marker is live while it is fresh (touched
 * within `staleMs` of now, by the listing node's clock) and, when it is one of the listing node's
 * own (the same node id, or no node on both sides: the same machine), while the process it names
 * runs with the same start. A process id means nothing on another machine, so another node's
 * marker is judged by its heartbeat alone: a writer that died there (kill -9, the host lost)
 * stops counting as live at most `staleMs` after it died (plus the clocks' difference); on its
 * own node, at once. Every process of one node (each worker under `--workers`) and every node
 * sharing the directory thus answers the listing the same way, with no Redis round-trip.
 */
import { isRecordingName } from './catalog.js';

export const LIVE_SUFFIX = '.live';
/** Longest marker read (a marker the recorder writes is under 100 bytes). */
export const MAX_MARKER_BYTES = 512;

/** The writer a marker names. */
export interface WriterId {
  readonly pid: number;
  /** The process's start (`boot id/start ticks`); null where the system does not say. */
  readonly start: string | null;
}

/** How often a writer touches its markers, and how long an untouched marker stays live. */
export interface MarkerTiming {
  readonly touchMs: number;
  readonly staleMs: number;
}

/** The shortest touch period, whatever the lease: a short lease must not make the writers hammer a shared mount. */
export const MIN_TOUCH_MS = 1000;

/**
 * The heartbeat of a lease of `leaseMs` (`--cluster-lease`): a touch every third of it (like the
 * lease's renewal, at least MIN_TOUCH_MS), stale after three touches missed.
 */
export function markerTiming(leaseMs: number): MarkerTiming {
  const touchMs = Math.max(MIN_TOUCH_MS, Math.floor(leaseMs / 3));
  return { touchMs, staleMs: 3 * touchMs };
}

/**
 * What a marker says before any process is asked: `dead` (not a marker, or stale: its writer
 * stopped touching it), `live` (fresh, of another node: its process id means nothing here), or
 * `ask-writer` (fresh, of the listing node itself: live while its process runs, `writerLive`).
 * `node` is the node in the recording's name, `here.node` the listing node's (null on both for a
 * gateway of one node). An mtime further than `staleMs` ahead of now (a clock far off, a forged
 * time) is stale too, so no marker stays live for ever.
 */
export function markerVerdict(
  marker: { readonly writer: WriterId | null; readonly node: string | null; readonly mtimeMs: number },
  here: { readonly node: string | null; readonly nowMs: number; readonly staleMs: number },
): 'dead' | 'live' | 'ask-writer' {
  if (marker.writer === null) return 'dead';
  if (!(Math.abs(here.nowMs - marker.mtimeMs) <= here.staleMs)) return 'dead';
  return marker.node === here.node ? 'ask-writer' : 'live';
}

/** What is known now of the process a marker names. */
export type WriterState = { readonly running: false } | { readonly running: true; readonly start: string | null };

export function liveMarkerName(recording: string): string {
  return `${recording}${LIVE_SUFFIX}`;
}

/** The recording a marker belongs to, or null when `name` is not a marker of a recording name. */
export function markedRecording(name: string): string | null {
  if (!name.endsWith(LIVE_SUFFIX)) return null;
  const recording = name.slice(0, -LIVE_SUFFIX.length);
  return isRecordingName(recording) ? recording : null;
}

export function formatMarker(writer: WriterId): string {
  return `${JSON.stringify({ pid: writer.pid, start: writer.start })}\n`;
}

/** A marker's writer, or null when the text is not a marker (cut short, garbage, a bad pid). */
export function parseMarker(text: string): WriterId | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const { pid, start } = json as Record<string, unknown>;
  // Only a positive pid: 0 and negative ids name process groups, never one writer.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 1) return null;
  if (start !== null && (typeof start !== 'string' || start.length === 0 || start.length > 128)) return null;
  return { pid, start };
}

/**
 * The start time (field 22, clock ticks since boot) from the text of `/proc/<pid>/stat`, or null.
 * The command name (field 2) is in parentheses and may hold spaces and parentheses itself, so the
 * fields are counted after its last `)`.
 */
export function procStartTicks(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const ticks = fields[19]; // field 3 (state) is fields[0]
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : null;
}

/** Whether the recording of a marker naming `writer` is still being written, given its process now. */
export function writerLive(writer: WriterId, now: WriterState): boolean {
  if (!now.running) return false;
  return writer.start === null || now.start === null || writer.start === now.start;
}
