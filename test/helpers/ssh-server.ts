import ssh2 from 'ssh2';
import type { AuthContext, AuthenticationType, ServerChannel, PseudoTtyInfo } from 'ssh2';
import { createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const { Server, utils } = ssh2;

/** Prompt the fake shell prints; wait for it to know the shell is ready for the next line. */
export const FAKE_PROMPT = 'fake$ ';
const PATTERN = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
const INPUT_KEEP = 1024 * 1024;

/** Handle to an in-process SSH server with a scriptable fake shell. */
export interface FakeSshHandle {
  host: '127.0.0.1';
  port: number;
  username: string;
  password: string;
  /** Live counters/records; fields update in place as clients act. */
  events: {
    ptys: Array<{ term: string; cols: number; rows: number }>;
    resizes: Array<{ cols: number; rows: number }>;
    authFailures: number;
    /** Successful logins, by method. */
    logins: string[];
    /** Keyboard-interactive rounds the server sent (all connections). */
    kiRounds: number;
    /** TCP connections accepted so far. */
    connections: number;
    /** TCP connections currently open (drops when the client's socket closes). */
    openConnections: number;
    /** Total bytes received on shell channels. */
    inputBytes: number;
    /** Raw shell input, last 1 MiB. */
    input: () => Buffer;
  };
  /** Poll `pred` until true; rejects after timeoutMs (default 5000). */
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  /** Destroy all client sockets and stop listening. */
  close(): Promise<void>;
}

/** Plain TCP server that accepts and never speaks: simulates an SSH host that hangs. */
export interface TarpitHandle {
  host: '127.0.0.1';
  port: number;
  connections(): number;
  close(): Promise<void>;
}

async function listenTracked(onSocket: (s: Socket) => void): Promise<{ srv: NetServer; port: number; sockets: Set<Socket>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => { /* client vanished: not a test failure of the harness */ });
    onSocket(s);
  });
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  if (!addr || typeof addr !== 'object') throw new Error('fake server has no address');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= new Promise<void>((resolve) => {
    srv.close(() => resolve());
    for (const s of sockets) s.destroy();
  }));
  return { srv, port: addr.port, sockets, close };
}

/**
 * Start a TCP tarpit on a loopback port, for connect/handshake-timeout tests: it accepts
 * connections and never sends a byte.
 */
export async function startTarpit(): Promise<TarpitHandle> {
  let count = 0;
  const l = await listenTracked(() => { count++; });
  return { host: '127.0.0.1', port: l.port, connections: () => count, close: l.close };
}

/** Write chunks honouring backpressure (wait for 'drain'); stops early if the channel closes. */
async function pump(ch: ServerChannel, chunks: Iterable<Buffer | string>): Promise<void> {
  for (const c of chunks) {
    if (!ch.writable) return;
    if (!ch.write(c)) {
      await new Promise<void>((resolve) => {
        const done = (): void => { ch.off('drain', done); ch.off('close', done); resolve(); };
        ch.on('drain', done).on('close', done);
      });
    }
  }
}

function* floodChunks(n: number): Generator<Buffer> {
  for (let off = 0; off < n;) {
    const len = Math.min(16 * 1024, n - off);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = PATTERN[(off + i) % PATTERN.length] ?? 0x30;
    off += len;
    yield out;
  }
}

function* countLines(n: number): Generator<string> {
  for (let i = 1; i <= n; i += 1000) {
    let s = '';
    for (let j = i; j <= Math.min(n, i + 999); j++) s += `${j}\r\n`;
    yield s;
  }
}

/**
 * A fresh ed25519 host key ssh2 can read back. About 1 in 256 keys from ssh2's own generator
 * fail its parser ("Malformed OpenSSH private key", mscdex/ssh2 #1390), so retry until one parses.
 */
export function hostKey(): string {
  for (let i = 0; i < 20; i++) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
  throw new Error('ssh2 could not generate a readable ed25519 host key in 20 tries');
}

/**
 * Start an in-process ssh2 server with a fake shell, for fast bridge tests that need exact
 * control over server behaviour (exit codes, floods, pty sizes) without a real sshd.
 *
 * Shell commands (one per line, CR or LF): `exit N`, `size` (prints "ROWS COLS"),
 * `stderr TEXT`, `flood N` (N bytes of [0-9a-zA-Z] cycling, then CRLF + prompt),
 * `count N` (lines 1..N), `killsig` (exit-signal TERM). Input is echoed; CR/LF echo as CRLF.
 * `hangAuth` completes the key exchange and never answers authentication.
 * `banner` goes out as SSH_MSG_USERAUTH_BANNER; ssh2 appends CRLF unless it already ends in one.
 * Authentication: `methods` are the offered methods (default password only, user `alice`);
 * `ki` scripts keyboard-interactive rounds with their expected answers; `authorizedKey` is the
 * one public key `publickey` accepts. `events.logins` records successful methods.
 */
/** One keyboard-interactive round of the fake server, with the answers it expects. */
export interface FakeKiRound {
  name?: string;
  instructions?: string;
  prompts: Array<{ prompt: string; echo: boolean }>;
  /** Expected responses, one per prompt. */
  answers: string[];
}

export interface FakeSshOptions {
  banner?: string;
  password?: string;
  hangAfterTcp?: boolean;
  hangAuth?: boolean;
  /** Methods the server offers (default ['password']); password, publickey and keyboard-interactive are implemented. */
  methods?: AuthenticationType[];
  /** keyboard-interactive: these rounds in order; every answer must match or the login fails. */
  ki?: FakeKiRound[];
  /** publickey: the one authorized public key, as in authorized_keys (`ssh-ed25519 AAAA... comment`). */
  authorizedKey?: string;
}

/** Verify a publickey attempt against the authorized key (ssh2's documented server pattern). */
function publickeyOk(ctx: Extract<AuthContext, { method: 'publickey' }>, authorizedKey: string | undefined): 'ok' | 'query-ok' | 'no' {
  if (authorizedKey === undefined) return 'no';
  const allowed = utils.parseKey(authorizedKey);
  if (allowed instanceof Error) throw allowed;
  if (ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return 'no';
  if (ctx.signature === undefined) return 'query-ok'; // the client asks whether the key would do
  return ctx.blob !== undefined && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? 'ok' : 'no';
}

export async function startFakeSsh(opts: FakeSshOptions = {}): Promise<FakeSshHandle> {
  const username = 'alice';
  const password = opts.password ?? 'wonderland';
  const methods: AuthenticationType[] = opts.methods ?? ['password'];
  let chunks: Buffer[] = [];
  let kept = 0;
  const events: FakeSshHandle['events'] = {
    ptys: [], resizes: [], authFailures: 0, logins: [], kiRounds: 0, connections: 0, openConnections: 0, inputBytes: 0,
    input: () => Buffer.concat(chunks),
  };
  const record = (d: Buffer): void => {
    events.inputBytes += d.length;
    chunks.push(d);
    kept += d.length;
    if (kept > INPUT_KEEP) { const all = Buffer.concat(chunks).subarray(-INPUT_KEEP); chunks = [all]; kept = all.length; }
  };

  const ssh = new Server({ hostKeys: [hostKey()], ...(opts.banner !== undefined ? { banner: opts.banner } : {}) });
  ssh.on('connection', (client) => {
    client.on('error', () => { /* per-connection protocol errors are the client's business */ });
    client.on('authentication', (ctx) => {
      if (opts.hangAuth === true) return; // handshake done, then silence: an auth that never answers
      const fail = (): void => {
        events.authFailures++;
        ctx.reject(methods);
      };
      const ok = (): void => {
        events.logins.push(ctx.method);
        ctx.accept();
      };
      if (ctx.method === 'none' || !methods.includes(ctx.method) || ctx.username !== username) {
        if (ctx.method !== 'none') events.authFailures++;
        ctx.reject(methods);
        return;
      }
      if (ctx.method === 'password') {
        if (ctx.password === password) ok();
        else fail();
        return;
      }
      if (ctx.method === 'publickey') {
        const verdict = publickeyOk(ctx, opts.authorizedKey);
        if (verdict === 'ok') ok();
        else if (verdict === 'query-ok') ctx.accept();
        else fail();
        return;
      }
      if (ctx.method === 'keyboard-interactive') {
        const rounds = opts.ki ?? [];
        const kiCtx = ctx;
        const ask = (i: number): void => {
          const round = rounds[i];
          if (round === undefined) {
            ok();
            return;
          }
          events.kiRounds++;
          kiCtx.prompt(round.prompts, round.name ?? '', round.instructions ?? '', (answers) => {
            if (answers.length === round.answers.length && answers.every((a, j) => a === round.answers[j])) ask(i + 1);
            else fail();
          });
        };
        ask(0);
        return;
      }
      fail();
    });
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      let size = { cols: 80, rows: 24 };
      session.on('pty', (accept, _reject, info: PseudoTtyInfo) => {
        size = { cols: info.cols, rows: info.rows };
        events.ptys.push({ term: info.term, cols: info.cols, rows: info.rows });
        accept?.();
      });
      session.on('window-change', (accept, _reject, info) => {
        size = { cols: info.cols, rows: info.rows };
        events.resizes.push({ cols: info.cols, rows: info.rows });
        accept?.();
      });
      session.on('env', (accept) => accept?.());
      session.on('signal', (accept) => accept?.());
      session.on('shell', (acceptShell) => runShell(acceptShell(), () => size, record));
    });
  });

  const l = await listenTracked((sock) => {
    events.connections++;
    events.openConnections++;
    sock.once('close', () => events.openConnections--);
    if (!opts.hangAfterTcp) ssh.injectSocket(sock);
  });
  return {
    host: '127.0.0.1', port: l.port, username, password, events,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`fake ssh waitFor timed out after ${timeoutMs} ms; events=${JSON.stringify({ ...events, input: undefined })}`);
        await sleep(10);
      }
    },
    close: l.close,
  };
}

function runShell(ch: ServerChannel, size: () => { cols: number; rows: number }, record: (d: Buffer) => void): void {
  const lines: string[] = [];
  let line = '';
  let lastCR = false;
  let busy = false;
  const run = async (cmd: string): Promise<void> => {
    const [name = '', ...rest] = cmd.trim().split(/\s+/);
    const arg = rest.join(' ');
    const n = Math.max(0, Number.parseInt(arg, 10) || 0);
    switch (name) {
      case 'exit': ch.exit(n); ch.end(); return;
      case 'killsig': ch.exit('TERM', false, ''); ch.end(); return;
      case 'size': await pump(ch, [`${size().rows} ${size().cols}\r\n`]); break;
      case 'stderr': ch.stderr.write(Buffer.from(`${cmd.trim().slice('stderr '.length)}\r\n`, 'latin1')); break;
      case 'flood': await pump(ch, floodChunks(n)); await pump(ch, ['\r\n']); break;
      case 'count': await pump(ch, countLines(n)); break;
      default: break;
    }
    await pump(ch, [FAKE_PROMPT]);
  };
  const drain = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    for (let cmd = lines.shift(); cmd !== undefined; cmd = lines.shift()) await run(cmd);
    busy = false;
  };
  ch.on('data', (d: Buffer) => {
    record(d);
    let echo = '';
    for (const byte of d) {
      const c = String.fromCharCode(byte);
      if (c === '\n' && lastCR) { lastCR = false; continue; }
      lastCR = c === '\r';
      if (c === '\r' || c === '\n') { echo += '\r\n'; lines.push(line); line = ''; } else { echo += c; line += c; }
    }
    if (ch.writable) ch.write(Buffer.from(echo, 'latin1'));
    void drain();
  });
  ch.on('error', () => { /* client went away */ });
  ch.write(FAKE_PROMPT);
}
