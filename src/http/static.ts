/**
 * The browser page: the files esbuild wrote to dist/web, read once at start and served from
 * memory with an ETag (revalidated on every load: asset names are fixed, so nothing may be
 * cached blindly), the right content type and a strict Content-Security-Policy.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS } from './respond.js';

/**
 * Scripts only from our origin; xterm.js sets inline styles, so styles allow them.
 * 'wasm-unsafe-eval' lets the recordings view's asciinema-player compile its terminal emulator,
 * a WebAssembly module shipped inside our own script (Chromium and Firefox refuse to compile
 * WebAssembly without it). It allows WebAssembly compilation only: eval(), new Function() and
 * string timers stay forbidden, and no script may come from elsewhere.
 * 'frame-ancestors' is 'self' (and X-Frame-Options SAMEORIGIN): the page frames itself, one frame
 * per extra session of its tabs (web/src/workspace.ts); no other origin may frame it.
 */
export const CSP = [
  "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self' 'unsafe-inline'", "connect-src 'self'",
  "img-src 'self' data:", "font-src 'self' data:", "worker-src 'self' blob:", "frame-ancestors 'self'",
  "base-uri 'self'", "form-action 'self'", "object-src 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Where the built page lives relative to the compiled module (dist/src/http -> dist/web). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

export class StaticSite {
  readonly #assets = new Map<string, Asset>();

  constructor(root: string = DEFAULT_WEB_ROOT) {
    if (!existsSync(join(root, 'index.html'))) return;
    for (const file of walk(root)) {
      const url = `/${relative(root, file).split(sep).join('/')}`;
      const body = readFileSync(file);
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      this.#assets.set(url, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    }
    const index = this.#assets.get('/index.html');
    if (index !== undefined) this.#assets.set('/', index);
  }

  /** False when the page was not built (`npm run build` builds it). */
  get built(): boolean {
    return this.#assets.has('/');
  }

  has(appPath: string): boolean {
    return this.#assets.has(appPath);
  }

  /** Serve `appPath` (already stripped of the base path). Returns false when there is no such file. */
  serve(appPath: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = this.#assets.get(appPath);
    if (asset === undefined) return false;
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS, 'X-Frame-Options': 'SAMEORIGIN', 'Cache-Control': 'no-cache', ETag: asset.etag, 'Content-Security-Policy': CSP,
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }
}

/**
 * Strip the configured prefix: `/ssh/ws/h/22` -> `/ws/h/22`. Paths outside it stay as they are
 * (the seed's root route keeps working). `/ssh` itself is not inside: it is redirected to `/ssh/`
 * so the page's relative URLs resolve under the prefix.
 */
export function appPath(path: string, basePath: string): string {
  return basePath !== '/' && path.startsWith(basePath) ? path.slice(basePath.length - 1) : path;
}
