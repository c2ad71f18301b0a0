/**
 * What the recordings view knows about a recording file, from pure inputs (no I/O here; the
 * directory is read by ./store.ts):
 *
 * - `recordingName` / `parseRecordingName` / `isRecordingName`: the two file-name shapes the
 *   recorder writes (./recorder.ts): `YYYYMMDDTHHMMSSZ-<32 hex session id>.cast` on a gateway of
 *   one node, `YYYYMMDDTHHMMSSZ-<node id>-<32 hex session id>.cast` on a node of a cluster
 *   (`--cluster-redis`), so the nodes sharing one directory never collide and the listing can say
 *   which node wrote a file. Anything else (`..`, slashes, encoded characters, NUL, another
 *   extension) is not a recording, so a request can never name a file outside that set.
 * - `parseCastHeader`: the fields of an asciicast v2 header line the recorder writes (size, start,
 *   title `user@host:port`, the `webssh_bridge` object), each null when missing or of the wrong
 *   type, so a broken header still lists the file.
 * - `lastEventTime`: the time of the last complete event line in a file's tail, its duration.
 */

/**
 * The recorder's file names: start time (UTC), the node id in a cluster, and the session id. The
 * node part is exactly a node id (`NODE_ID` of src/config/cluster-kinds.ts: no `.`, `/` or `~`).
 * The two shapes never overlap: the session id is the last 32 characters before `.cast`, and
 * without a node it directly follows the `Z-` of the time (a hex digit is never a `-`).
 */
export const RECORDING_NAME = /^(\d{8}T\d{6}Z)-(?:([A-Za-z0-9_-]{1,64})-)?([0-9a-f]{32})\.cast$/;

/** What a recording's name says. */
export interface RecordingNameParts {
  /** `YYYYMMDDTHHMMSSZ`, the start in UTC. */
  readonly stamp: string;
  /** The node that wrote it; null for a gateway of one node (and for every file written before nodes were named). */
  readonly node: string | null;
  readonly sessionId: string;
}

/** The name of a recording: `stamp` from ./recorder.ts's fileStamp, `node` null on a gateway of one node. */
export function recordingName(stamp: string, sessionId: string, node: string | null): string {
  return node === null ? `${stamp}-${sessionId}.cast` : `${stamp}-${node}-${sessionId}.cast`;
}

/** The parts of a recording's name, or null for any other name. */
export function parseRecordingName(name: string): RecordingNameParts | null {
  const m = RECORDING_NAME.exec(name);
  if (m === null) return null;
  return { stamp: m[1] ?? '', node: m[2] ?? null, sessionId: m[3] ?? '' };
}

export function isRecordingName(name: string): boolean {
  return RECORDING_NAME.test(name);
}

/** The header fields the listing shows; null where the header does not say (or is not JSON). */
export interface CastHeaderInfo {
  readonly width: number | null;
  readonly height: number | null;
  /** Unix seconds of the start. */
  readonly timestamp: number | null;
  readonly title: string | null;
  /** The SSH user name and `host:port`, split from the title `user@host:port`. */
  readonly username: string | null;
  readonly target: string | null;
  readonly sessionId: string | null;
  readonly clientIp: string | null;
  readonly authMethod: string | null;
  readonly subject: string | null;
}

const EMPTY: CastHeaderInfo = Object.freeze({
  width: null, height: null, timestamp: null, title: null, username: null, target: null,
  sessionId: null, clientIp: null, authMethod: null, subject: null,
});

/** Longest string field passed on (titles and subjects are far shorter in files the recorder wrote). */
const MAX_FIELD = 512;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v.slice(0, MAX_FIELD) : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** `user@host:port` -> its parts (the host never holds an `@`, so the last one splits). */
export function splitTitle(title: string): { username: string; target: string } | null {
  const at = title.lastIndexOf('@');
  if (at <= 0 || at === title.length - 1) return null;
  return { username: title.slice(0, at), target: title.slice(at + 1) };
}

/**
 * The header of a recording from the first bytes of its file (`head`, a bounded read: it may
 * end in the middle of a line, and then the header is incomplete and every field is null).
 */
export function parseCastHeader(head: string): CastHeaderInfo {
  const end = head.indexOf('\n');
  if (end < 0) return EMPTY;
  let json: unknown;
  try {
    json = JSON.parse(head.slice(0, end));
  } catch {
    return EMPTY;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return EMPTY;
  const h = json as Record<string, unknown>;
  if (h['version'] !== 2) return EMPTY;
  const title = str(h['title']);
  const parts = title === null ? null : splitTitle(title);
  const extra = typeof h['webssh_bridge'] === 'object' && h['webssh_bridge'] !== null ? (h['webssh_bridge'] as Record<string, unknown>) : {};
  const timestamp = num(h['timestamp']);
  return {
    width: num(h['width']),
    height: num(h['height']),
    timestamp: timestamp === null ? null : Math.floor(timestamp),
    title,
    username: parts?.username ?? null,
    target: parts?.target ?? null,
    sessionId: str(extra['session']),
    clientIp: str(extra['client_ip']),
    authMethod: str(extra['auth_method']),
    subject: str(extra['subject']),
  };
}

/**
 * The time in seconds of the last complete event line `[t, code, data]` in `tail` (the last
 * bytes of a file, so its first line may be cut: only lines after a newline count, unless the
 * tail is the whole file). Null when there is none.
 */
export function lastEventTime(tail: string, wholeFile: boolean): number | null {
  const lines = tail.split('\n');
  // The part after the last newline is incomplete (or empty); the first part is cut unless whole.
  const complete = lines.slice(wholeFile ? 0 : 1, -1);
  for (let i = complete.length - 1; i >= 0; i--) {
    const line = complete[i] ?? '';
    if (!line.startsWith('[')) continue;
    try {
      const event: unknown = JSON.parse(line);
      if (Array.isArray(event) && event.length === 3) {
        const t = num(event[0]);
        if (t !== null) return t;
      }
    } catch {
      // not an event line: look further back
    }
  }
  return null;
}
