/**
 * Which recordings are still being written, from pure inputs (the files are written by
 * ./recorder.ts and read by ./store.ts and ./writer-process.ts):
 *
 * - While a recording is written, a marker sits next to it: `<recording name>.live` (never a
 *   recording name itself, so it is neither listed nor served). The recorder creates it before
 *   the recording and removes it once the file is closed.
 * - The marker names its writer: the process id and, where the system tells it (Linux), the
 *   process's start (`<boot id>/<start time in clock ticks>`), so a process id reused after a
 *   crash or a container restart is told apart from the writer.
 * - A marker is live while its writer runs: the process exists, and its start is the marker's when
 *   both are known. A writer that died (a killed worker, a crash) leaves a marker that is not live.
 *
 * Every process of the gateway (each worker under `--workers`) sees the same files, so any of
 * them answers the listing the same way. One machine: a process id means nothing on another.
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
