/**
 * Side B: a WebSocket client through the bridge, v1 protocol (`webssh-bridge.v1`): auth with
 * cols 120 rows 40 (term defaults to xterm-256color), `ready`, then binary frames both ways.
 */
import WebSocket from 'ws';
import { PTY, Term, withTimeout, type Opener, type Target } from './term.js';

let seq = 0;

export function bridgeOpener(bridgePort: number, target: Target): Opener {
  const url = `ws://127.0.0.1:${bridgePort}/ws/${target.host}/${target.port}`;
  return (timeoutMs) => openBridge(url, target, timeoutMs);
}

function asBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export async function openBridge(url: string, target: Target, timeoutMs: number): Promise<Term> {
  const term = new Term(`bridge#${++seq}`);
  const ws = new WebSocket(url, ['webssh-bridge.v1'], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
  term.attach({
    write: (data) => ws.send(data, { binary: true }),
    close: () => ws.close(1000),
    destroy: () => ws.terminate(),
  });
  let problem = '';
  const ready = new Promise<void>((resolve, reject) => {
    ws.on('message', (data, isBinary) => {
      const buf = asBuffer(data);
      if (isBinary) { term.push(buf); return; }
      let msg: unknown;
      try { msg = JSON.parse(buf.toString('utf8')); } catch { return; }
      const type = (msg as { type?: unknown } | null)?.type;
      if (type === 'ready') resolve();
      else if (type === 'error') { problem = buf.toString('utf8'); reject(new Error(`${term.label}: bridge error ${problem}`)); }
    });
    ws.once('unexpected-response', (_req, res) => {
      problem = `HTTP ${res.statusCode ?? 0}`;
      res.resume();
      ws.terminate();
      reject(new Error(`${term.label}: upgrade refused: ${problem}`));
    });
    void term.closed.then(() => reject(new Error(`${term.label}: closed during setup ${problem}`)));
  });
  ws.on('error', (err) => term.ended(`ws error: ${err.message}`));
  ws.on('close', (code, reason) => term.ended(`ws close ${code} ${reason.toString('utf8')} ${problem}`));
  ws.once('open', () => {
    ws.send(JSON.stringify({
      type: 'auth', username: target.username, password: target.password,
      term: PTY.term, cols: PTY.cols, rows: PTY.rows,
    }));
  });
  try {
    await withTimeout((async () => {
      await ready;
      await term.waitFor(target.prompt, timeoutMs);
    })(), timeoutMs, `${term.label} connect to prompt`, () => ws.terminate());
  } catch (err) {
    term.destroy();
    throw err;
  }
  return term;
}
