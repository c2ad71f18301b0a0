/**
 * Side B: a WebSocket client through the bridge, v1 protocol (`webssh-bridge.v1`): auth with
 * cols 120 rows 40 (term defaults to xterm-256color), `ready`, then binary frames both ways.
 * B+viewer (`sharedBridgeOpener`): the same owner session, shared, with one view-only viewer
 * that joins and then stops reading (docs/protocol.md#sharing).
 */
import WebSocket from 'ws';
import { PTY, Term, withTimeout, type Opener, type Target } from './term.js';

let seq = 0;

/**
 * How a session logs in, when not the target's password: `login` replaces `password` in `auth`
 * (say `{method: 'publickey', privateKey}`), `query` is appended to the URL (`jump=HOST:PORT`)
 * and `jump` is `auth.jump`, one login per hop (docs/protocol.md#jump-hosts).
 */
export interface BridgeLogin {
  readonly query?: string;
  readonly login?: Readonly<Record<string, unknown>>;
  readonly jump?: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** The session URL on the bridge for `target`, with `how.query` when given. */
export function bridgeUrl(bridgePort: number, target: Target, how: BridgeLogin = {}): string {
  const q = how.query === undefined ? '' : `?${how.query}`;
  return `ws://127.0.0.1:${bridgePort}/ws/${target.host}/${target.port}${q}`;
}

export function bridgeOpener(bridgePort: number, target: Target, how: BridgeLogin = {}): Opener {
  const url = bridgeUrl(bridgePort, target, how);
  return async (timeoutMs) => (await connectBridge(url, target, timeoutMs, { login: how })).term;
}

/** A message as one Buffer, whatever shape ws delivered it in. */
export function asBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export async function openBridge(url: string, target: Target, timeoutMs: number): Promise<Term> {
  return (await connectBridge(url, target, timeoutMs)).term;
}

/** A control message from the bridge other than `ready` and `error`. */
type Control = { readonly type: string } & Record<string, unknown>;

export interface ConnectHooks {
  /** Every control message other than `ready` and `error`. */
  onControl?: (msg: Control) => void;
  /**
   * The socket as soon as it exists, before any listener here: for a caller that must see how a
   * refused or failed connect ended (HTTP status, `error` code, close code), which the rejection
   * only tells as text.
   */
  onSocket?: (ws: WebSocket) => void;
  /** Credentials other than the target's password, and jump hosts (bridgeOpener). */
  login?: BridgeLogin;
}

/** openBridge, also giving the socket (and, to the hooks, every other control message). */
export async function connectBridge(url: string, target: Target, timeoutMs: number, hooks: ConnectHooks = {}): Promise<{ term: Term; ws: WebSocket }> {
  const { onControl } = hooks;
  const term = new Term(`bridge#${++seq}`);
  const ws = new WebSocket(url, ['webssh-bridge.v1'], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
  hooks.onSocket?.(ws);
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
      else if (typeof type === 'string') onControl?.(msg as Control);
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
    const how = hooks.login ?? {};
    ws.send(JSON.stringify({
      type: 'auth', username: target.username, ...(how.login ?? { password: target.password }),
      term: PTY.term, cols: PTY.cols, rows: PTY.rows, ...(how.jump === undefined ? {} : { jump: how.jump }),
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
  return { term, ws };
}

/** After the owner closed: how long its stalled viewer, read again, may take to show how the bridge closed it. */
const VIEWER_CLOSE_WAIT_MS = 10_000;

/** What became of the stalled viewer of one B+viewer session. */
export interface ViewerOutcome {
  /** The viewer's id, as the owner's `viewers` list named it. */
  viewerId: string | null;
  /**
   * The owner's `viewers` list lost the viewer while the session was still open: the bridge
   * dropped it. (When the session itself ends the owner is not told, so this is never the end.)
   */
  droppedByBridge: boolean;
  /** Owner output bytes received since the session opened when the owner heard of the drop. */
  droppedAtOwnerBytes: number | null;
  /**
   * The viewer's close code once it read its socket again after the owner closed: 1006 when the
   * bridge cut the socket (it sends 4010 and terminates, so the close frame rarely gets
   * through), 4010 when it did; null when it had not closed within VIEWER_CLOSE_WAIT_MS and was
   * terminated here.
   */
  closeCode: number | null;
  /** The `error` code the viewer read before the close, if that frame got through before the cut. */
  errorCode: string | null;
  /** Binary bytes the viewer read in all: before it stalled, and what the sockets held for it. */
  viewerBytes: number;
}

export interface SharedBridge {
  /** Opens an owner session exactly like openBridge, shares it and stalls one viewer on it. */
  readonly open: Opener;
  /**
   * The outcomes of the viewers of the sessions opened since the last call, each once its owner
   * closed and it closed (or was terminated). Past `timeoutMs` the rest are torn down.
   */
  settle(timeoutMs?: number): Promise<ViewerOutcome[]>;
}

interface SharedSession { term: Term; outcome: Promise<ViewerOutcome>; teardown: () => void }

/**
 * B+viewer: the owner opens like openBridge, sends `share`, and one viewer joins with the token
 * (`?share=TOKEN`, subprotocol v1), gets `viewing` and then stops reading (`ws.pause()`: the
 * socket is paused and ws does not resume it while paused). The bridge's send buffer for the
 * viewer fills and the bridge must drop it (more than 1 MiB behind: 4010) without slowing the
 * owner. The viewer is read again and then terminated when the owner closes.
 */
export function sharedBridgeOpener(bridgePort: number, target: Target): SharedBridge {
  const url = `ws://127.0.0.1:${bridgePort}/ws/${target.host}/${target.port}`;
  let pending: SharedSession[] = [];
  return {
    open: async (timeoutMs) => {
      const s = await openShared(url, target, timeoutMs);
      pending.push(s);
      return s.term;
    },
    settle: async (timeoutMs = 30_000) => {
      const batch = pending;
      pending = [];
      const all = Promise.all(batch.map((s) => s.outcome));
      try {
        return await withTimeout(all, timeoutMs, 'stalled viewers to settle', () => { for (const s of batch) s.teardown(); });
      } catch {
        return await all; // torn down: every outcome settles within VIEWER_CLOSE_WAIT_MS
      }
    },
  };
}

async function openShared(url: string, target: Target, timeoutMs: number): Promise<SharedSession> {
  const ref: { term: Term | null } = { term: null }; // for the control handler, set once connected
  let onShared: ((token: string) => void) | undefined;
  let onRefused: ((why: string) => void) | undefined;
  let onListed: (() => void) | undefined;
  let viewerId: string | null = null;
  let droppedAtOwnerBytes: number | null = null;
  const control = (msg: Control): void => {
    if (msg.type === 'shared' && typeof msg.token === 'string') onShared?.(msg.token);
    else if (msg.type === 'share-refused') onRefused?.(JSON.stringify(msg));
    else if (msg.type === 'viewers' && Array.isArray(msg.viewers)) {
      const ids = (msg.viewers as unknown[]).map((v) => (v as { id?: unknown } | null)?.id);
      if (viewerId === null) {
        const id = ids.find((x): x is string => typeof x === 'string');
        if (id !== undefined) { viewerId = id; onListed?.(); }
      } else if (!ids.includes(viewerId) && droppedAtOwnerBytes === null) {
        droppedAtOwnerBytes = ref.term?.bytes ?? 0;
      }
    }
  };
  const owner = await connectBridge(url, target, timeoutMs, { onControl: control });
  const t = owner.term;
  ref.term = t;

  const viewer = { ws: null as WebSocket | null, bytes: 0, closeCode: null as number | null, errorCode: null as string | null };
  let viewerClosed: Promise<void> = Promise.resolve();
  const teardown = (): void => { t.destroy(); viewer.ws?.terminate(); };
  try {
    await withTimeout((async () => {
      const token = await new Promise<string>((resolve, reject) => {
        onShared = resolve;
        onRefused = (why) => reject(new Error(`${t.label}: share refused: ${why}`));
        void t.closed.then(() => reject(new Error(`${t.label}: closed before \`shared\``)));
        owner.ws.send(JSON.stringify({ type: 'share' }));
      });
      const listed = new Promise<void>((resolve) => { if (viewerId !== null) resolve(); else onListed = resolve; });
      const ws = new WebSocket(`${url}?share=${encodeURIComponent(token)}`, ['webssh-bridge.v1'], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      viewer.ws = ws;
      viewerClosed = new Promise((resolve) => ws.once('close', (code) => { viewer.closeCode = code; resolve(); }));
      ws.on('error', () => undefined); // the close follows
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data, isBinary) => {
          const buf = asBuffer(data);
          if (isBinary) { viewer.bytes += buf.length; return; }
          let msg: unknown;
          try { msg = JSON.parse(buf.toString('utf8')); } catch { return; }
          const m = msg as { type?: unknown; code?: unknown } | null;
          if (m?.type === 'viewing') resolve();
          else if (m?.type === 'error') {
            viewer.errorCode = typeof m.code === 'string' ? m.code : '?';
            reject(new Error(`${t.label} viewer: bridge error ${buf.toString('utf8')}`));
          }
        });
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          ws.terminate();
          reject(new Error(`${t.label} viewer: upgrade refused: HTTP ${res.statusCode ?? 0}`));
        });
        void viewerClosed.then(() => reject(new Error(`${t.label} viewer: closed during setup (${viewer.closeCode ?? '-'})`)));
      });
      ws.pause();
      await listed; // the owner has heard of it: a later list without it means the bridge dropped it
    })(), timeoutMs, `${t.label} share and viewer join`);
  } catch (err) {
    teardown();
    throw err;
  }

  const outcome = (async (): Promise<ViewerOutcome> => {
    await t.closed;
    const ws = viewer.ws;
    let closed = false;
    if (ws !== null) {
      ws.resume();
      try {
        await withTimeout(viewerClosed, VIEWER_CLOSE_WAIT_MS, `${t.label} viewer close`);
        closed = true;
      } catch {
        ws.terminate();
        await withTimeout(viewerClosed, 2000, `${t.label} viewer terminate`).catch(() => undefined);
      }
    }
    return {
      viewerId, droppedByBridge: droppedAtOwnerBytes !== null, droppedAtOwnerBytes,
      closeCode: closed ? viewer.closeCode : null, errorCode: viewer.errorCode, viewerBytes: viewer.bytes,
    };
  })();
  return { term: t, outcome, teardown };
}
