/**
 * One churn session of the soak, through the bridge with the v1 protocol and without `resume`
 * (so a cut socket ends the session instead of detaching it for the resume grace): log in, echo
 * a unique marker and wait for it, then end the session one of three ways. Every step has its
 * own timeout, so a session settles within LOGIN + ECHO + END ms whatever the bridge does.
 */
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { asBuffer, connectBridge } from './bridge-client.js';
import { withTimeout, type Target, type Term } from './term.js';

/** How a session ends, taken in turn. */
export const ENDINGS = ['exit', 'close', 'cut'] as const;
export type Ending = (typeof ENDINGS)[number];

const LOGIN_MS = 30_000;
const ECHO_MS = 10_000;
const END_MS = 10_000;

/**
 * Refusals a session limit explains (per IP, per target, total; answered to a v1 client as an
 * `error` and close 1013): counted apart from failures. At the defaults (10 clients, 10 sessions
 * per IP) a client that logs in again the moment its last session closed can find the old slot
 * not yet released.
 */
const LIMIT_CODES: ReadonlySet<string> = new Set(['LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET']);

export type Outcome =
  | { readonly kind: 'done'; readonly ending: Ending; readonly loginMs: number; readonly endMs: number }
  | { readonly kind: 'refused'; readonly code: string }
  | { readonly kind: 'failed'; readonly ending: Ending; readonly stage: 'login' | 'echo' | 'end'; readonly detail: string };

/** How the socket ended, as the client saw it. */
interface Seen {
  httpStatus: number | null;
  errorCode: string | null;
  closeCode: number | null;
  closeReason: string;
}

function watch(ws: WebSocket, seen: Seen): void {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    try {
      const msg = JSON.parse(asBuffer(data).toString('utf8')) as { type?: unknown; code?: unknown } | null;
      if (msg?.type === 'error' && typeof msg.code === 'string') seen.errorCode = msg.code;
    } catch { /* not ours to judge */ }
  });
  ws.once('unexpected-response', (_req, res) => { seen.httpStatus = res.statusCode ?? 0; });
  ws.once('close', (code, reason) => { seen.closeCode = code; seen.closeReason = reason.toString('utf8'); });
}

const describe = (s: Seen): string =>
  s.httpStatus !== null ? `HTTP ${s.httpStatus}` : `close ${s.closeCode ?? '-'} ${s.errorCode ?? ''} ${s.closeReason}`.trim();

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 400);

/** `exit` typed into the shell (the bridge closes 1000), a client close 1000, or a cut TCP connection (no close frame). */
async function end(term: Term, ws: WebSocket, how: Ending, seen: Seen): Promise<string | null> {
  if (how === 'exit') term.write('exit\r');
  else if (how === 'close') ws.close(1000);
  else ws.terminate(); // destroys the socket at once: no close frame goes out
  await withTimeout(term.closed, END_MS, `${term.label} end by ${how}`);
  if (how === 'cut') return null;
  // After `exit` the bridge closes 1000 (SHELL_EXITED); after our close it answers 1000.
  return seen.closeCode === 1000 ? null : `expected close 1000, got ${describe(seen)}`;
}

/** Run session number `n` to its end by `how`; never throws. */
export async function churnSession(bridgePort: number, target: Target, n: number, how: Ending): Promise<Outcome> {
  const url = `ws://127.0.0.1:${bridgePort}/ws/${target.host}/${target.port}`;
  const seen: Seen = { httpStatus: null, errorCode: null, closeCode: null, closeReason: '' };
  const t0 = performance.now();
  let conn: { term: Term; ws: WebSocket };
  try {
    conn = await connectBridge(url, target, LOGIN_MS, { onSocket: (ws) => watch(ws, seen) });
  } catch (err) {
    // The `error` message names the code; its close (1013) is not seen, as the connect cuts the socket on `error`.
    if (seen.errorCode !== null && LIMIT_CODES.has(seen.errorCode)) return { kind: 'refused', code: seen.errorCode };
    return { kind: 'failed', ending: how, stage: 'login', detail: `${describe(seen)}: ${message(err)}` };
  }
  const { term, ws } = conn;
  const loginMs = performance.now() - t0;
  try {
    term.mark();
    // The quotes keep the typed line from matching: only the command's output reads `soak-N`.
    term.write(`echo soak-""${n}\r`);
    await term.waitFor(`\nsoak-${n}\r\n`, ECHO_MS);
  } catch (err) {
    term.destroy();
    return { kind: 'failed', ending: how, stage: 'echo', detail: `${describe(seen)}: ${message(err)}` };
  }
  const t1 = performance.now();
  try {
    const wrong = await end(term, ws, how, seen);
    if (wrong !== null) return { kind: 'failed', ending: how, stage: 'end', detail: wrong };
  } catch (err) {
    term.destroy();
    return { kind: 'failed', ending: how, stage: 'end', detail: `${describe(seen)}: ${message(err)}` };
  }
  return { kind: 'done', ending: how, loginMs, endMs: performance.now() - t1 };
}
