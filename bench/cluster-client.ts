/**
 * The cluster row's WebSocket client: a session opened the way the page opens it (v1, `auth`
 * with `resume: true`, so `ready` carries a resume token and the node publishes it in Redis),
 * and a resume of it through any node (`?resume=TOKEN&position=N`), timed from creating the
 * socket to the `resumed` frame. The page also sends `flowControl: true`; this client does not
 * (it would have to acknowledge output), which changes nothing for an idle shell.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { asBuffer } from './bridge-client.js';
import { PTY, Term, withTimeout, type Opener, type Target } from './term.js';

const V1 = 'webssh-bridge.v1';
let seq = 0;

/** A live resumable session: its socket, the bytes of output it has had, the next resume token. */
export interface Resumable {
  term: Term;
  ws: WebSocket;
  token: string;
  /** Output bytes received over every socket of the session so far (the next resume's position). */
  position: number;
}

interface Control { type?: unknown; position?: unknown; resume?: { token?: unknown } }

function control(buf: Buffer): Control | null {
  try { return JSON.parse(buf.toString('utf8')) as Control; } catch { return null; }
}

/** `ws://127.0.0.1:PORT/ws/HOST/PORT`: a node's or HAProxy's way to the target. */
export const sessionUrl = (port: number, target: Target): string => `ws://127.0.0.1:${port}/ws/${target.host}/${target.port}`;

/** Open a resumable session through `url`, resolved at the prompt. */
export async function openResumable(url: string, target: Target, timeoutMs: number): Promise<Resumable> {
  const term = new Term(`cluster#${++seq}`);
  const ws = new WebSocket(url, [V1], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
  const s: Resumable = { term, ws, token: '', position: 0 };
  term.attach({ write: (d) => ws.send(d, { binary: true }), close: () => ws.close(1000), destroy: () => ws.terminate() });
  let problem = '';
  const ready = new Promise<void>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      const buf = asBuffer(data);
      if (isBinary) { s.position += buf.length; term.push(buf); return; }
      const msg = control(buf);
      if (msg?.type === 'ready') {
        if (typeof msg.resume?.token !== 'string') { reject(new Error(`${term.label}: ready without a resume token`)); return; }
        s.token = msg.resume.token;
        resolve();
      } else if (msg?.type === 'error') { problem = buf.toString('utf8'); reject(new Error(`${term.label}: bridge error ${problem}`)); }
    });
    ws.once('unexpected-response', (_req, res) => { problem = `HTTP ${res.statusCode ?? 0}`; res.resume(); ws.terminate(); reject(new Error(`${term.label}: upgrade refused: ${problem}`)); });
    void term.closed.then(() => reject(new Error(`${term.label}: closed during setup ${problem}`)));
  });
  ws.on('error', (err) => term.ended(`ws error: ${err.message}`));
  ws.on('close', (code, reason) => term.ended(`ws close ${code} ${reason.toString('utf8')} ${problem}`));
  ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', username: target.username, password: target.password, term: PTY.term, cols: PTY.cols, rows: PTY.rows, resume: true })));
  try {
    await withTimeout((async () => { await ready; await term.waitFor(target.prompt, timeoutMs); })(), timeoutMs, `${term.label} connect to prompt`, () => ws.terminate());
  } catch (err) {
    term.destroy();
    throw err;
  }
  return s;
}

/** An Opener of resumable sessions (for the admission workload, which only needs the Term). */
export function resumableOpener(url: string, target: Target): Opener {
  return async (timeoutMs) => (await openResumable(url, target, timeoutMs)).term;
}

/**
 * Resume `s` through `url` (the owner node, or another that relays it) while its current socket
 * is still open (the resume takes it over: docs/protocol.md#resume). Returns the ms from creating
 * the socket to `resumed`; `s` then holds the new socket and token, the old socket is terminated.
 */
export async function resumeThrough(url: string, s: Resumable, timeoutMs: number): Promise<number> {
  const old = s.ws;
  const t0 = performance.now();
  const ws = new WebSocket(`${url}?resume=${encodeURIComponent(s.token)}&position=${s.position}`, [V1], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
  let resumed = false;
  const t1 = await withTimeout(new Promise<number>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      const buf = asBuffer(data);
      if (isBinary) { if (resumed) s.position += buf.length; return; }
      const msg = control(buf);
      if (msg?.type === 'resumed' && typeof msg.resume?.token === 'string' && typeof msg.position === 'number') {
        const at = performance.now();
        resumed = true;
        s.token = msg.resume.token;
        s.position = msg.position;
        resolve(at);
      } else if (msg?.type === 'error') reject(new Error(`resume: bridge error ${buf.toString('utf8')}`));
    });
    ws.once('unexpected-response', (_req, res) => { res.resume(); ws.terminate(); reject(new Error(`resume: upgrade refused: HTTP ${res.statusCode ?? 0}`)); });
    ws.once('close', (code, reason) => reject(new Error(`resume: closed ${code} ${reason.toString('utf8')}`)));
    ws.on('error', () => undefined); // the close follows
  }), timeoutMs, 'resume', () => ws.terminate());
  old.removeAllListeners('close');
  old.on('error', () => undefined);
  old.terminate();
  s.ws = ws;
  ws.on('error', () => undefined);
  return t1 - t0;
}
