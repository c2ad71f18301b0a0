/**
 * A client of the file API (docs/protocol.md#files) for tests: real HTTP requests to the real
 * bridge, and the v1 `files` message on a real session socket.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import type { TestWs } from './ws-client.js';
import { registerSecret } from './secrets.js';

export interface FilesAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON (null when it is not JSON). */
  readonly json: Record<string, unknown> | null;
}

const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

/** Ask the session for a file token (a secret from now on). */
export async function filesToken(ws: TestWs): Promise<string> {
  const before = ws.controls().filter(isType('files-token')).length;
  ws.sendJson({ type: 'files' });
  await ws.waitForControl(() => ws.controls().filter(isType('files-token')).length > before);
  const msg = ws.controls().filter(isType('files-token')).at(-1) as { token: string; expiresInMs: number };
  registerSecret(msg.token);
  return msg.token;
}

export interface CallOptions {
  readonly token?: string | undefined;
  readonly body?: Buffer | undefined;
  readonly headers?: Record<string, string> | undefined;
}

/** One request to `{base}` + `path` (e.g. `api/files/list?path=.`). */
export function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<FilesAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers['X-Files-Token'] = opts.token;
    if (opts.body !== undefined) headers['Content-Length'] = String(opts.body.length);
    const req = request(`${base}/${path}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        let json: Record<string, unknown> | null = null;
        try { json = JSON.parse(body.toString('utf8')) as Record<string, unknown>; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();
