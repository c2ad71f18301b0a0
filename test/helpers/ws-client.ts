import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import type { IncomingMessage } from 'node:http';

/** Connection options shared by openWs and expectHttpRejection. */
export interface WsOpts {
  protocol?: string;
  headers?: Record<string, string>;
  origin?: string;
  /** Upgrade/rejection timeout, default 10000 ms. */
  timeoutMs?: number;
  /** Source address (another loopback address plays another client IP). */
  localAddress?: string;
  /** CA to trust for wss:// (a test certificate). */
  ca?: Buffer;
}

/** Outcome of an HTTP-level refusal of the upgrade. */
export interface HttpRejection {
  status: number;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const tail = (s: string, n = 2048): string => (s.length > n ? `…${s.slice(-n)}` : s);

function clientArgs(opts: WsOpts): [string[], ClientOptions] {
  const o: ClientOptions = { handshakeTimeout: opts.timeoutMs ?? 10_000 };
  if (opts.headers) o.headers = opts.headers;
  if (opts.origin !== undefined) o.origin = opts.origin;
  if (opts.localAddress !== undefined) o.localAddress = opts.localAddress;
  if (opts.ca !== undefined) o.ca = opts.ca;
  return [opts.protocol !== undefined ? [opts.protocol] : [], o];
}

async function readRejection(res: IncomingMessage): Promise<HttpRejection> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON: keep text */ }
  return { status: res.statusCode ?? 0, body, headers: { ...res.headers } };
}

/**
 * A WebSocket that records everything it receives, so integration tests can assert on
 * terminal output (binary frames) and control messages (JSON text frames) with timeouts
 * whose errors show what actually arrived.
 */
export class TestWs {
  readonly ws: WebSocket;
  /** Resolves once the socket has closed, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly chunks: Buffer[] = [];
  private readonly ctrl: unknown[] = [];
  private readonly waiters = new Set<() => void>();
  private closeInfo: { code: number; reason: string } | undefined;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) this.chunks.push(buf);
      else {
        const s = buf.toString('utf8');
        try { this.ctrl.push(JSON.parse(s)); } catch { this.ctrl.push(s); }
      }
      this.notify();
    });
    ws.on('error', () => { /* surfaced through 'close' and waits */ });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
      resolve(this.closeInfo);
    }));
  }

  /** All binary frames so far, concatenated before decoding so split UTF-8 is intact. */
  output(): string { return Buffer.concat(this.chunks).toString('utf8'); }
  /** All text frames so far, JSON-parsed (raw string when not JSON). */
  controls(): unknown[] { return [...this.ctrl]; }

  async waitForOutput(match: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const test = (): boolean => (typeof match === 'string' ? this.output().includes(match) : match.test(this.output()));
    await this.waitUntil(() => (test() ? true : undefined), `output matching ${String(match)}`, timeoutMs);
  }

  /** Wait for (and return) the first control message satisfying pred, including earlier ones. */
  async waitForControl(pred: (msg: unknown) => boolean, timeoutMs = 10_000): Promise<unknown> {
    return this.waitUntil(() => this.ctrl.find(pred), 'matching control message', timeoutMs);
  }

  sendJson(obj: unknown): void { this.ws.send(JSON.stringify(obj)); }
  sendText(s: string): void { this.ws.send(s, { binary: false }); }
  sendBinary(buf: Buffer | Uint8Array): void { this.ws.send(buf, { binary: true }); }
  close(code?: number, reason?: string): void { this.ws.close(code, reason); }
  terminate(): void { this.ws.terminate(); }

  private notify(): void { for (const w of [...this.waiters]) w(); }

  private describe(): string {
    return `close=${JSON.stringify(this.closeInfo ?? null)}; controls=${tail(JSON.stringify(this.ctrl))}; output so far:\n${tail(this.output())}`;
  }

  private waitUntil<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (err?: Error, val?: T): void => {
        clearTimeout(timer);
        this.waiters.delete(poll);
        if (err) reject(err); else resolve(val as T);
      };
      const poll = (): void => {
        const v = check();
        if (v !== undefined) finish(undefined, v);
        else if (this.closeInfo) finish(new Error(`socket closed while waiting for ${what}; ${this.describe()}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`)), timeoutMs);
      this.waiters.add(poll);
      poll();
    });
  }
}

/** Open a WebSocket and wait for the upgrade; rejects (with status/body) if the server refuses. */
export async function openWs(url: string, opts: WsOpts = {}): Promise<TestWs> {
  const [protocols, options] = clientArgs(opts);
  const ws = new WebSocket(url, protocols, options);
  const tws = new TestWs(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      readRejection(res).then((r) => {
        ws.terminate();
        reject(Object.assign(new Error(`upgrade refused: HTTP ${r.status} ${tail(JSON.stringify(r.body))}`), r));
      }, reject);
    });
    void tws.closed.then((c) => reject(new Error(`socket closed before open: ${c.code} ${c.reason}`)));
  });
  return tws;
}

/** Open a connection the server must refuse before the upgrade; returns the HTTP refusal. */
export async function expectHttpRejection(url: string, opts: WsOpts = {}): Promise<HttpRejection> {
  const [protocols, options] = clientArgs(opts);
  const ws = new WebSocket(url, protocols, options);
  return new Promise<HttpRejection>((resolve, reject) => {
    ws.on('error', (err) => reject(new Error(`expected an HTTP rejection, got error: ${err.message}`)));
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('expected an HTTP rejection, but the WebSocket upgrade succeeded'));
    });
    ws.once('unexpected-response', (_req, res) => {
      readRejection(res).then((r) => { resolve(r); ws.terminate(); }, reject);
    });
  });
}
