/**
 * The file API from the page (docs/protocol.md#files): a file token asked over the session's own
 * v1 socket (`files` → `files-token`, renewed shortly before it expires or when the bridge calls
 * it invalid), then same-origin requests under `api/files/` with `X-Files-Token`. Uploads go by
 * XMLHttpRequest, the File as the streamed PUT body, for its upload progress. File requests spend
 * no rate token at the gateway (docs/protocol.md#files), so a quick run of clicks is never refused
 * for the rate; a banned address is, like everything else. Each token says whether the session
 * may change files (`write`): `access` hears it.
 */
import type { ServerMessage } from './messages.js';
import { filesErrorText, NETWORK_ERROR } from './files-errors.js';
import type { FileEntry } from './files-sort.js';

const TOKEN_WAIT_MS = 10_000;
/** A token this close to its end is renewed first. */
const RENEW_MARGIN_MS = 15_000;

/** A refusal of the API (or no answer): `text` is the sentence to show. */
export class FilesError extends Error {
  constructor(readonly code: string | null, readonly text: string) {
    super(text);
  }
}

export interface Listing {
  readonly path: string;
  readonly entries: readonly FileEntry[];
}

export interface UploadHandle {
  readonly done: Promise<void>;
  abort(): void;
}

type TokenWaiter = { resolve: (token: string) => void; reject: (err: FilesError) => void; timer?: ReturnType<typeof setTimeout> };

export class FilesApi {
  /** Sends `{"type":"files"}` on the session's socket; false when no session is live. */
  readonly #ask: () => boolean;
  /** Told, with each token, whether the session may change files. */
  readonly #access: (write: boolean) => void;
  #token: { value: string; until: number } | null = null;
  #waiting: TokenWaiter[] = [];

  constructor(ask: () => boolean, access: (write: boolean) => void = () => undefined) {
    this.#ask = ask;
    this.#access = access;
  }

  /** A control message of the session: `files-token` or `files-refused` answer the waiters. */
  received(m: ServerMessage): void {
    if (m.type === 'files-token') {
      this.#token = { value: m.token, until: Date.now() + m.expiresInMs };
      this.#access(m.write);
      for (const w of this.#waiting.splice(0)) {
        clearTimeout(w.timer);
        w.resolve(m.token);
      }
    } else if (m.type === 'files-refused') {
      this.#rejectAll(new FilesError(m.code, filesErrorText(m.code, m.message)));
    }
  }

  /** The session ended or changed: its token is worthless. */
  forget(): void {
    this.#token = null;
    this.#rejectAll(new FilesError(null, 'The session is not connected'));
  }

  #rejectAll(err: FilesError): void {
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  async list(path: string): Promise<Listing> {
    const answer = await this.#json('GET', 'list', { path });
    if (typeof answer['path'] !== 'string' || !Array.isArray(answer['entries'])) throw new FilesError(null, 'The gateway gave a listing the page cannot read');
    return { path: answer['path'], entries: answer['entries'] as FileEntry[] };
  }

  async mkdir(path: string): Promise<void> {
    await this.#json('POST', 'mkdir', { path });
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#json('POST', 'rename', { from, to });
  }

  async remove(path: string): Promise<void> {
    await this.#json('POST', 'delete', { path });
  }

  /** A single-use download URL (under the base path): the browser's download manager fetches it. */
  async downloadLink(path: string): Promise<string> {
    const answer = await this.#json('POST', 'download-link', { path }) as { url?: unknown };
    if (typeof answer.url !== 'string') throw new FilesError(null, 'The gateway gave no download link');
    return answer.url;
  }

  /** Upload `file` to `path` (replacing only with `overwrite`); `progress` gets the bytes sent so far. */
  upload(file: Blob, path: string, overwrite: boolean, progress: (sent: number) => void): UploadHandle {
    let xhr: XMLHttpRequest | null = null;
    let aborted = false;
    const done = this.#freshToken().then((token) => new Promise<void>((resolve, reject) => {
      if (aborted) {
        reject(new FilesError(null, 'Cancelled'));
        return;
      }
      const req = new XMLHttpRequest();
      xhr = req;
      const params: Record<string, string> = { path };
      if (overwrite) params['overwrite'] = '1';
      req.open('PUT', `api/files/upload?${new URLSearchParams(params).toString()}`);
      req.setRequestHeader('X-Files-Token', token);
      req.setRequestHeader('Content-Type', 'application/octet-stream');
      req.upload.addEventListener('progress', (ev) => progress(ev.loaded));
      req.addEventListener('load', () => {
        if (req.status >= 200 && req.status < 300) resolve();
        else reject(refusal(req.status, req.responseText));
      });
      req.addEventListener('error', () => reject(new FilesError(null, NETWORK_ERROR)));
      req.addEventListener('abort', () => reject(new FilesError(null, 'Cancelled')));
      req.send(file);
    }));
    return {
      done,
      abort: () => {
        aborted = true;
        xhr?.abort();
      },
    };
  }

  async #json(method: string, route: string, params: Record<string, string>, retried = false): Promise<Record<string, unknown>> {
    const token = await this.#freshToken();
    let res: Response;
    try {
      res = await fetch(`api/files/${route}?${new URLSearchParams(params).toString()}`, {
        method, headers: { 'X-Files-Token': token }, cache: 'no-store', credentials: 'same-origin',
      });
    } catch {
      throw new FilesError(null, NETWORK_ERROR);
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new FilesError(null, 'The gateway gave an answer that is not JSON');
      }
    }
    const err = refusal(res.status, text);
    // An expired (or otherwise refused) token: once more with a fresh one.
    if (err.code === 'FILES_TOKEN_INVALID' && !retried) {
      this.#token = null;
      return this.#json(method, route, params, true);
    }
    throw err;
  }

  #freshToken(): Promise<string> {
    const t = this.#token;
    if (t !== null && t.until - Date.now() > RENEW_MARGIN_MS) return Promise.resolve(t.value);
    return new Promise<string>((resolve, reject) => {
      const waiter: TokenWaiter = { resolve, reject };
      const first = this.#waiting.length === 0;
      this.#waiting.push(waiter);
      if (first && !this.#ask()) {
        this.forget();
        return;
      }
      waiter.timer = setTimeout(() => {
        const at = this.#waiting.indexOf(waiter);
        if (at < 0) return;
        this.#waiting.splice(at, 1);
        reject(new FilesError(null, 'The session did not answer the request for file access'));
      }, TOKEN_WAIT_MS);
    });
  }
}

function refusal(status: number, text: string): FilesError {
  let code: string | null = null;
  let message: string | null = null;
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch { /* not JSON */ }
  return new FilesError(code, filesErrorText(code, message ?? `HTTP ${status}`));
}
