/**
 * The recordings API from the page: `GET api/recordings` (the listing) and
 * `GET api/recordings/NAME` (one asciicast file, as text for the player or as it is for a
 * download), with the page's gateway token as
 * `Authorization: Bearer` (token and JWT modes; none behind an authenticating proxy or with a
 * client certificate, where the proxy or the TLS layer vouches for the request). Never rejects:
 * a failure is a result with the catalogue code of the JSON error body, so the view can say
 * exactly what went wrong.
 */

const LIST_PATH = 'api/recordings';
const TIMEOUT_MS = 30_000;

/** One listed recording (server: src/record/store.ts); header fields may be null. */
export interface RecordingItem {
  readonly name: string;
  /** The node of a cluster that wrote it (its file name says); null on a gateway of one node. */
  readonly node: string | null;
  readonly size: number;
  readonly mtime: string;
  readonly timestamp: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly title: string | null;
  readonly username: string | null;
  readonly target: string | null;
  readonly subject: string | null;
  readonly duration: number | null;
  /**
   * The recording is still being written (its session runs): `live: true` in the entry. Null
   * when the listing does not say, which the page takes as finished.
   */
  readonly live: boolean | null;
}

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  /** status 0: the request did not complete (network, timeout). */
  | { readonly ok: false; readonly status: number; readonly code: string | null; readonly message: string };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The listing body, keeping only well-formed entries. */
export function parseListing(body: unknown): { items: RecordingItem[]; truncated: boolean } {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const raw = Array.isArray(b['recordings']) ? (b['recordings'] as unknown[]) : [];
  const items: RecordingItem[] = [];
  for (const r of raw) {
    if (typeof r !== 'object' || r === null) continue;
    const e = r as Record<string, unknown>;
    const name = str(e['name']);
    if (name === null) continue;
    items.push({
      name, node: str(e['node']), size: num(e['size']) ?? 0, mtime: str(e['mtime']) ?? '', timestamp: num(e['timestamp']),
      width: num(e['width']), height: num(e['height']), title: str(e['title']), username: str(e['username']),
      target: str(e['target']), subject: str(e['subject']), duration: num(e['duration']),
      live: typeof e['live'] === 'boolean' ? e['live'] : null,
    });
  }
  return { items, truncated: b['truncated'] === true };
}

/** A complete asciicast text: a file still being written may end in half a line, which the player would refuse. */
export function completeLines(text: string): string {
  const end = text.lastIndexOf('\n');
  return end < 0 ? text : text.slice(0, end + 1);
}

async function failure(res: Response): Promise<ApiResult<never>> {
  let code: string | null = null;
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body['code'] === 'string') code = body['code'];
    if (typeof body['message'] === 'string') message = body['message'];
  } catch { /* not our JSON error body (a proxy's page): status only */ }
  return { ok: false, status: res.status, code, message };
}

async function get(url: string, token: string | null): Promise<Response | ApiResult<never>> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  try {
    return await fetch(url, { headers, cache: 'no-store', credentials: 'same-origin', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return { ok: false, status: 0, code: null, message: timedOut ? 'the gateway did not answer in time' : 'the gateway could not be reached' };
  }
}

export async function listRecordings(token: string | null): Promise<ApiResult<{ items: RecordingItem[]; truncated: boolean }>> {
  const res = await get(new URL(LIST_PATH, document.baseURI).href, token);
  if (!(res instanceof Response)) return res;
  if (!res.ok) return failure(res);
  try {
    return { ok: true, value: parseListing(await res.json()) };
  } catch {
    return { ok: false, status: res.status, code: null, message: 'the listing is not JSON' };
  }
}

/** One recording's file, read by `body` (the network or a cut download is a failure). */
async function fetchFile<T>(name: string, token: string | null, body: (res: Response) => Promise<T>): Promise<ApiResult<T>> {
  const res = await get(new URL(`${LIST_PATH}/${encodeURIComponent(name)}`, document.baseURI).href, token);
  if (!(res instanceof Response)) return res;
  if (!res.ok) return failure(res);
  try {
    return { ok: true, value: await body(res) };
  } catch {
    return { ok: false, status: 0, code: null, message: 'the download was cut' };
  }
}

/** The text of one recording, cut after its last complete line (for the player). */
export function fetchRecording(name: string, token: string | null): Promise<ApiResult<string>> {
  return fetchFile(name, token, async (res) => completeLines(await res.text()));
}

/** One recording's file as the gateway sent it (for a download). */
export function fetchRecordingFile(name: string, token: string | null): Promise<ApiResult<Blob>> {
  return fetchFile(name, token, (res) => res.blob());
}

/** `CODE: message` (or the HTTP status / network sentence) for the view. */
export function describeFailure(f: Extract<ApiResult<unknown>, { ok: false }>): string {
  if (f.code === 'BRIDGE_AUTH_REQUIRED') return `${f.code}: this view needs an operator's access token.`;
  if (f.code === 'BRIDGE_AUTH_INVALID') return `${f.code}: the gateway did not accept the access token (${f.message}).`;
  if (f.code === 'ADMIN_REQUIRED') return `${f.code}: this access token is not an operator's (${f.message}).`;
  if (f.code !== null) return `${f.code}: ${f.message}`;
  return f.status === 0 ? `Network error: ${f.message}.` : `HTTP ${f.status}: ${f.message}`;
}
