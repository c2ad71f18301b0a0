/**
 * Live fuzzing: a real bridge (in this process, small limits) in front of the fake SSH server,
 * hit by thousands of hostile connections with bounded concurrency. Each case is planned from
 * `deriveSeed(seed, index)` alone, so the set of cases and their bytes are fixed by the seed
 * (their interleaving is not: that is the live part). Scenarios:
 *
 * - ws-preauth: a `ws` client (seed or v1) whose first frames are hostile credentials,
 *   control messages before auth, binary before auth, invalid UTF-8 text, oversized frames;
 * - ws-session: a successful login, then hostile frames, resizes, pings, acks and shell
 *   commands (floods included), ended by a close, a cut, an exit or the server;
 * - raw-frames: a manual upgrade over TCP, then frames no library sends (bad opcodes, RSV bits,
 *   unmasked, fragmented control frames, 2^63 lengths, invalid UTF-8, frames after close),
 *   before or after a (sometimes fragmented) login; the close code must be RFC 6455's;
 * - http: hostile upgrade requests over raw TCP (paths, methods, headers, huge Origin, many
 *   X-Forwarded-For entries, missing Host, smuggling headers, random subprotocols);
 * - slow: silent clients, slowloris heads, half-sent frames, a client that stops reading
 *   during a flood.
 *
 * Per case: the close code is the catalogue's (1006 only where the client cut or a cut is
 * legitimate), the reason is `CODE: message` with the catalogue's close code for CODE, a v1
 * `error` message names the same CODE, raw protocol violations get RFC 6455's code, HTTP
 * statuses are the catalogue's, subprotocol negotiation follows docs/protocol.md, and nothing
 * hangs (every wait is bounded; a case gets 30 s).
 *
 * Afterwards: no uncaught exception or unhandled rejection (listeners installed for the run),
 * every session gone (manager size and active count 0 within 10 s), the fake SSH server has no
 * open connection, the process holds no more TCP sockets than before (the HTTP server is not
 * reachable through App, so sockets are counted with process.getActiveResourcesInfo and a leak
 * is described from process._getActiveHandles), no more ref'd timers, the heap back within
 * 64 MiB of its baseline, no secret in the logs (outside the username field), no error-level
 * log, no INTERNAL outcome, App.close() finishing, and a normal session in each protocol.
 *
 * Heap: `npm test` does not start node with --expose-gc, so findGc() turns the V8 flag on at
 * run time and takes `gc` from a fresh vm context; both baseline and final figures are taken
 * after forced collections. Without gc the 64 MiB slack still absorbs uncollected garbage.
 */
import { Socket, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/loader.js';
import { ERRORS } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { LookupFn } from '../../src/policy/target.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';
import {
  CANARY, GOOD_PASSWORD, GOOD_USER, OP, V1, closePayload, encodeFrame, fragmentText, genFrame, genHttpRequest, genRawViolation,
  genSubprotocols, randomString, wsKey, type FuzzFrame, type Proto, type RawViolation,
} from './generators.js';
import { RawConn, upgradeRequest } from './raw-conn.js';
import { Rng, deriveSeed } from './rng.js';
import { Waiters } from './waiters.js';
import { waitUntil } from '../helpers/until.js';

/** The bridge under test: small limits so every limit is reachable, no rate limiting. */
export const LIVE_FLAGS: readonly string[] = [
  '--ws-read-limit', '64KiB', '--ws-auth-timeout', '2s', '--rate-burst', '1000000',
  '--conn-max-per-host', '1000', '--conn-max-total', '1000', '--conn-max-per-target', '1000',
  '--host-key-policy', 'accept-new-insecure', '--ws-handshake-timeout', '2s',
  '--ssh-connect-timeout', '2s', '--ssh-handshake-timeout', '5s', '--ssh-auth-timeout', '5s',
  '--conn-timeout', '3s', '--ws-ping-interval', '1s', '--ws-pong-timeout', '5s',
  '--trusted-proxies', '127.0.0.1/32', '--server-shutdown-timeout', '5s',
];
const READ_LIMIT = 64 * 1024;

/**
 * Close codes the bridge may send: every catalogue code's (src/errors.ts) plus the three the ws
 * library sends itself (1002 malformed frame, 1007 invalid UTF-8, 1009 too big). 1006 (cut
 * without a close frame) is checked separately.
 */
export const CATALOGUE_CLOSE_CODES: ReadonlySet<number> = new Set([...Object.values(ERRORS).map((e) => e.close), 1002, 1007, 1009]);
/** HTTP statuses an upgrade request may get: the catalogue's except 500, the page's, and 101. */
export const ALLOWED_HTTP: ReadonlySet<number> = new Set([...Object.values(ERRORS).map((e) => e.http).filter((h) => h !== 500), 101, 200, 304, 308]);

export interface LiveFuzzOptions {
  readonly seed: number;
  /** Frame budget: frames and raw requests sent, summed over the planned cases. */
  readonly frames: number;
  readonly concurrency?: number;
  /** Replay one case index only. */
  readonly only?: number;
  /** Heap growth allowed after the run (default 64 MiB). */
  readonly heapSlackBytes?: number;
  readonly log?: (line: string) => void;
}

export interface LiveFuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly framesPlanned: number;
  readonly framesSent: number;
  readonly elapsedMs: number;
  readonly scenarios: Record<string, number>;
  readonly closeCodes: Record<string, number>;
  /** `scenario:code` counts, to see which scenario produced which close. */
  readonly closeByScenario: Record<string, number>;
  /** Per scenario: cases, mean and max duration (ms). */
  readonly durations: Record<string, { n: number; meanMs: number; maxMs: number }>;
  readonly httpStatuses: Record<string, number>;
  readonly outcomes: Record<string, number>;
  readonly rejections: Record<string, number>;
  readonly logLevels: Record<string, number>;
  readonly slowestCase: string;
  readonly heap: { readonly baseline: number; readonly after: number; readonly peak: number; readonly gc: boolean };
  readonly tcpSockets: { readonly baseline: number; readonly after: number };
  readonly timers: { readonly baseline: number; readonly after: number };
  readonly sshConnections: number;
  readonly finalSessions: string;
  readonly problemCount: number;
  readonly problems: string[];
}

// ---------------------------------------------------------------------------------------------
// Environment

interface Env {
  /** Client-side local port -> case tag, to name the case behind a leaked socket. */
  readonly ports: Map<number, string>;
  readonly app: App;
  readonly port: number;
  readonly ssh: FakeSshHandle;
  readonly closedPort: number;
}

/** DNS for the fuzz: a few names, no real resolver (the network is loopback only). */
const fuzzLookup: LookupFn = (host) => {
  switch (host) {
    case 'fuzz.test': return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    case 'v6.test': return Promise.resolve([{ address: '::1', family: 6 }]);
    case 'meta.test': return Promise.resolve([{ address: '169.254.169.254', family: 4 }]);
    case 'localhost': return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    default: return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  }
};

/** Watches the bridge's log stream: levels, error lines, and secrets outside the username field. */
class LogWatch {
  readonly levels: Record<string, number> = {};
  readonly errors: string[] = [];
  readonly leaks: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.errors.push(`unparsable log line: ${line.slice(0, 200)}`);
        continue;
      }
      const level = typeof rec.level === 'number' ? rec.level : 0;
      const name = level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
      this.levels[name] = (this.levels[name] ?? 0) + 1;
      if (level >= 50 && this.errors.length < 20) this.errors.push(line.slice(0, 500));
      if (line.includes(CANARY) || line.includes(GOOD_PASSWORD)) {
        // A username is the client's to choose (and logged on purpose); anything else is a leak.
        delete rec.username;
        const rest = JSON.stringify(rec);
        if ((rest.includes(CANARY) || rest.includes(GOOD_PASSWORD)) && this.leaks.length < 5) this.leaks.push(line.slice(0, 300));
      }
    }
  }
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr !== 'object') throw new Error('no address');
  return addr.port;
}

/** `global.gc` without --expose-gc: the V8 flag set at run time, fetched from a fresh context. */
export function findGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** The open TCP sockets of this process, described (server side: which case's client it serves). */
function describeSockets(bridgePort: number, ports: ReadonlyMap<number, string>): string[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const handles = typeof getHandles === 'function' ? getHandles.call(process) : [];
  const out: string[] = [];
  for (const h of handles) {
    if (!(h instanceof Socket) || h.remotePort === undefined) continue;
    const serverSide = h.localPort === bridgePort;
    const clientPort = serverSide ? h.remotePort : h.localPort;
    const owner = clientPort !== undefined ? ports.get(clientPort) ?? 'unknown case' : 'unknown case';
    out.push(`${serverSide ? 'bridge-side' : 'client-side'} ${h.localPort ?? '?'}->${h.remotePort} readyState=${h.readyState} destroyed=${h.destroyed} ` +
      `read=${h.bytesRead} written=${h.bytesWritten} paused=${h.isPaused()} listeners(data=${h.listenerCount('data')},end=${h.listenerCount('end')},close=${h.listenerCount('close')}) case ${owner}`);
  }
  return out;
}

function resourceCount(name: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === name).length;
}

/** `p`, or a rejection naming `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Case plans

type Scenario = 'ws-preauth' | 'ws-session' | 'raw-frames' | 'http' | 'slow';

type End = 'close' | 'close-code' | 'close-nocode' | 'terminate' | 'exit' | 'wait';

interface Step {
  readonly frame?: FuzzFrame;
  /** Pause before this step, ms (0: same tick). */
  readonly delay: number;
}

interface WsPlan {
  readonly type: 'ws';
  readonly proto: Proto;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly login: Buffer | undefined;
  readonly waitReady: boolean;
  readonly steps: Step[];
  readonly end: End;
  readonly closeCode: number | undefined;
  readonly acks: boolean;
}

interface RawPlan {
  readonly type: 'raw';
  readonly proto: Proto;
  readonly request: Buffer;
  readonly offered: string | undefined;
  readonly login: Buffer[] | undefined;
  readonly benign: Buffer[];
  readonly violation: RawViolation;
  readonly replyClose: boolean;
}

interface HttpPlan {
  readonly type: 'http';
  readonly chunks: Buffer[];
  readonly incomplete: boolean;
  readonly slow: boolean;
}

interface SlowPlan {
  readonly type: 'slow';
  readonly variant: 'silent' | 'stall' | 'half-frame' | 'slowloris';
  readonly proto: Proto;
}

interface CasePlan {
  readonly index: number;
  readonly caseSeed: number;
  readonly scenario: Scenario;
  readonly label: string;
  readonly frames: number;
  readonly body: WsPlan | RawPlan | HttpPlan | SlowPlan;
}

function loginFrame(rng: Rng, proto: Proto): Buffer {
  if (proto === 'seed') return Buffer.from(JSON.stringify({ username: GOOD_USER, password: GOOD_PASSWORD }));
  const msg: Record<string, unknown> = { type: 'auth', username: GOOD_USER, password: GOOD_PASSWORD };
  if (rng.bool(0.3)) msg.flowControl = rng.bool();
  if (rng.bool(0.3)) { msg.cols = rng.range(1, 10000); msg.rows = rng.range(1, 10000); }
  if (rng.bool(0.2)) msg.term = rng.pick(['xterm', 'vt100', 'xterm-256color']);
  return Buffer.from(JSON.stringify(msg));
}

/** Shell input for the fake server: commands with bounded arguments, and junk. */
function shellInput(rng: Rng): Buffer {
  const cmd = rng.weighted<string>([
    [4, 'size\r'], [2, `flood ${rng.range(1000, 2_000_000)}\r`], [2, `count ${rng.range(1, 3000)}\r`], [1, 'stderr oops\r'],
    [1, `exit ${rng.int(256)}\r`], [1, 'killsig\r'], [4, `${randomString(rng, 40)}\r`], [1, '\u0003'], [1, 'x'.repeat(rng.range(1000, 60_000))],
  ]);
  return Buffer.from(cmd, 'utf8');
}

function sessionFrame(rng: Rng, proto: Proto): FuzzFrame {
  const k = rng.weighted<string>([[6, 'fuzz'], [3, 'shell'], [2, 'resize'], [2, 'ping'], [1, 'ack'], [proto === 'v1' ? 1 : 0, 'reply']]);
  switch (k) {
    case 'shell': {
      const data = shellInput(rng);
      return { data, binary: proto === 'v1' || rng.bool(), kind: 'shell' };
    }
    case 'resize': {
      const cols = rng.weighted<number>([[3, rng.range(1, 400)], [1, 10000], [1, 10001], [1, 0]]);
      const rows = rng.weighted<number>([[3, rng.range(1, 200)], [1, 10000], [1, -1]]);
      const s = proto === 'v1' ? { type: 'resize', cols, rows } : { action: 'resize', cols, rows };
      return { data: Buffer.from(JSON.stringify(s)), binary: false, kind: 'resize' };
    }
    case 'ping': {
      const payload = rng.pick<unknown>([undefined, 1, 'x', { t: rng.u32() }, randomString(rng, 2000), [[[[]]]]]);
      const s = proto === 'v1' ? { type: 'ping', payload } : { action: 'ping' };
      return { data: Buffer.from(JSON.stringify(s)), binary: false, kind: 'ping' };
    }
    case 'ack':
      return { data: Buffer.from(JSON.stringify({ type: 'ack', bytes: rng.pick([0, 1, 65536, Number.MAX_SAFE_INTEGER]) })), binary: false, kind: 'ack' };
    case 'reply': // answers to questions the bridge never asked
      return {
        data: Buffer.from(JSON.stringify(rng.bool() ? { type: 'hostkey-reply', accept: rng.bool() } : { type: 'prompt-reply', responses: [CANARY] })),
        binary: false, kind: 'unasked-reply',
      };
    default:
      return genFrame(rng, { proto, phase: 'session', live: true, readLimit: READ_LIMIT });
  }
}

/** A Sec-WebSocket-Protocol value ws accepts: a list of distinct tokens. */
function validOffer(value: string): boolean {
  const items = value.split(',').map((p) => p.trim());
  return items.every((p) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) && new Set(items).size === items.length;
}

function targetPath(rng: Rng, env: Env, proto: Proto): string {
  const sshPort = env.ssh.port;
  return rng.weighted<string>([
    [20, `/ws/127.0.0.1/${sshPort}`], [2, `/ws/fuzz.test/${sshPort}`], [1, `/ws/%5B%3A%3A1%5D/${env.closedPort}`],
    [1, `/ws/127.0.0.1/${env.closedPort}`], [proto === 'v1' ? 1 : 0.3, '/ws/meta.test/22'], [proto === 'v1' ? 1 : 0.3, '/ws/missing.test/22'],
  ]);
}

function planCase(seed: number, index: number, env: Env): CasePlan {
  const caseSeed = deriveSeed(seed, index);
  const rng = new Rng(caseSeed);
  const scenario = rng.weighted<Scenario>([[24, 'ws-preauth'], [26, 'ws-session'], [22, 'raw-frames'], [26, 'http'], [2, 'slow']]);
  const proto: Proto = rng.bool() ? 'seed' : 'v1';
  const base = { index, caseSeed, scenario };
  switch (scenario) {
    case 'ws-preauth': {
      const n = rng.weighted<number>([[5, 1], [3, rng.range(2, 4)], [1, rng.range(5, 12)]]);
      const steps: Step[] = [];
      for (let i = 0; i < n; i++) steps.push({ frame: genFrame(rng, { proto, phase: 'auth', live: true, readLimit: READ_LIMIT }), delay: rng.bool(0.8) ? 0 : rng.int(30) });
      const headers: Record<string, string> = {};
      if (rng.bool(0.1)) headers.Origin = rng.pick([`http://127.0.0.1:${env.port}`, 'http://evil.example', 'null']);
      if (rng.bool(0.1)) headers['X-Forwarded-For'] = Array.from({ length: rng.range(1, 300) }, () => `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`).join(', ');
      const body: WsPlan = { type: 'ws', proto, path: targetPath(rng, env, proto), headers, login: undefined, waitReady: false, steps, end: 'wait', closeCode: undefined, acks: false };
      return { ...base, label: `${proto} ${steps.map((s) => s.frame?.kind ?? '').join(',')}`, frames: n, body };
    }
    case 'ws-session': {
      const n = rng.weighted<number>([[4, rng.range(1, 5)], [3, rng.range(6, 20)], [1, rng.range(21, 60)]]);
      const steps: Step[] = [];
      const typeahead = rng.bool(0.1);
      if (typeahead) for (let i = 0; i < 6; i++) steps.push({ frame: { data: Buffer.alloc(60_000, 0x61), binary: true, kind: 'typeahead' }, delay: 0 });
      for (let i = 0; i < n; i++) steps.push({ frame: sessionFrame(rng, proto), delay: rng.weighted<number>([[6, 0], [3, rng.int(10)], [1, rng.int(200)]]) });
      const end = rng.weighted<End>([[30, 'close'], [15, 'terminate'], [15, 'exit'], [20, 'wait'], [10, 'close-code'], [5, 'close-nocode']]);
      const closeCode = end === 'close-code' ? rng.pick([1000, 1001, 1003, 1011, 3000, 4000, 4001, 4999]) : undefined;
      const body: WsPlan = {
        type: 'ws', proto, path: `/ws/127.0.0.1/${env.ssh.port}`, headers: {}, login: loginFrame(rng, proto), waitReady: !typeahead && rng.bool(0.8),
        steps, end, closeCode, acks: rng.bool(0.5),
      };
      return { ...base, label: `${proto} ${end}${typeahead ? ' typeahead' : ''} ${steps.map((s) => s.frame?.kind ?? '').join(',')}`, frames: steps.length + 1, body };
    }
    case 'raw-frames': {
      // Header values that ws itself refuses (bad tokens, duplicates) are the http scenario's.
      let offered = rng.bool(0.7) ? (proto === 'v1' ? V1 : undefined) : genSubprotocols(rng);
      if (offered !== undefined && !validOffer(offered)) offered = proto === 'v1' ? `x-other, ${V1}` : 'x-other';
      const extra: Array<[string, string]> = offered === undefined ? [] : [['Sec-WebSocket-Protocol', offered]];
      const request = upgradeRequest(`/ws/127.0.0.1/${env.ssh.port}`, env.port, wsKey(rng), extra);
      const effective: Proto = offered !== undefined && offered.split(',').some((p) => p.trim() === V1) ? 'v1' : 'seed';
      const authed = rng.bool(0.5);
      let login: Buffer[] | undefined;
      if (authed) {
        const frame = loginFrame(rng, effective);
        login = rng.bool(0.3) ? fragmentText(rng, frame) : [encodeFrame({ opcode: OP.TEXT, payload: frame }, rng.bytes(4))];
      }
      const benign: Buffer[] = [];
      const nb = rng.int(4);
      for (let i = 0; i < nb; i++) {
        benign.push(authed && rng.bool()
          ? encodeFrame({ opcode: OP.BINARY, payload: Buffer.from(`echo ${rng.int(1000)}\r`) }, rng.bytes(4))
          : encodeFrame({ opcode: rng.pick([OP.PING, OP.PONG]), payload: rng.bytes(rng.int(125)) }, rng.bytes(4)));
      }
      const violation = genRawViolation(rng, READ_LIMIT);
      const body: RawPlan = { type: 'raw', proto: effective, request, offered, login, benign, violation, replyClose: rng.bool(0.9) };
      return { ...base, label: `${effective}${authed ? ' authed' : ''} ${violation.label}`, frames: 1 + (login?.length ?? 0) + benign.length + violation.frames.length, body };
    }
    case 'http': {
      const req = genHttpRequest(rng, { bridgePort: env.port, sshPort: env.ssh.port, closedPort: env.closedPort });
      const body: HttpPlan = { type: 'http', chunks: req.chunks, incomplete: req.incomplete, slow: req.chunks.length > 1 && rng.bool(0.3) };
      return { ...base, label: req.label, frames: 1, body };
    }
    default: {
      const variant = rng.pick(['silent', 'stall', 'half-frame', 'slowloris'] as const);
      return { ...base, label: `${variant} ${proto}`, frames: 1, body: { type: 'slow', variant, proto } };
    }
  }
}

const show = (b: Buffer): string => JSON.stringify(b.length > 2048 ? `${b.subarray(0, 2048).toString('latin1')}…(${b.length} bytes)` : b.toString('latin1'));

/** What a case sends, for replays. */
function describePlan(plan: CasePlan): string {
  const b = plan.body;
  switch (b.type) {
    case 'ws':
      return [`  ws ${b.proto} ${b.path} headers ${JSON.stringify(b.headers)} end ${b.end}${b.closeCode !== undefined ? ` ${b.closeCode}` : ''}`,
        ...(b.login !== undefined ? [`  login ${show(b.login)}`] : []),
        ...b.steps.map((st) => `  +${st.delay}ms ${st.frame?.kind ?? ''} ${st.frame?.binary === true ? 'binary' : 'text'} ${st.frame !== undefined ? show(st.frame.data) : ''}`)].join('\n');
    case 'raw':
      return [`  request ${show(b.request)}`, ...(b.login ?? []).map((f) => `  login frame ${f.toString('hex').slice(0, 400)}`),
        ...b.benign.map((f) => `  benign ${f.toString('hex').slice(0, 200)}`), `  violation ${b.violation.label} expect ${String(b.violation.expect)}`,
        ...b.violation.frames.map((f) => `  frame ${f.toString('hex').slice(0, 400)}`)].join('\n');
    case 'http':
      return b.chunks.map((c, i) => `  chunk ${i}${b.slow ? ' (+20 ms)' : ''}: ${show(c)}`).join('\n');
    default:
      return `  ${b.variant} ${b.proto}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Running a case

interface CaseResult {
  readonly tag: string;
  /** Close code seen by the client (1006: connection cut without a close frame). */
  closeCode: number | undefined;
  reason: string;
  httpStatus: number | undefined;
  /** Codes the client itself closed with: the bridge echoes them. */
  ownCodes: number[];
  /** The client cut the connection, or a cut by the bridge is legitimate (stall, oversize). */
  mayCut: boolean;
  expect: readonly number[] | undefined;
  errorControls: string[];
  framesSent: number;
  problems: string[];
}

function newResult(tag: string): CaseResult {
  return { tag, closeCode: undefined, reason: '', httpStatus: undefined, ownCodes: [], mayCut: false, expect: undefined, errorControls: [], framesSent: 0, problems: [] };
}

/** A `ws` client that records frames and close, with bounded waits. */
class WsClient {
  readonly ws: WebSocket;
  readonly result: CaseResult;
  readonly closed: Promise<void>;
  readonly opened: Promise<boolean>;
  isClosed = false;
  output = '';
  outputBytes = 0;
  controls: unknown[] = [];
  readonly #waiters = new Waiters();

  constructor(url: string, protocols: string[], headers: Record<string, string>, result: CaseResult, acks: boolean, ports: Map<number, string>) {
    this.result = result;
    this.ws = new WebSocket(url, protocols, { handshakeTimeout: 5000, perMessageDeflate: false, headers });
    const ws = this.ws;
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.outputBytes += data.length;
        if (this.output.length < 4096) this.output += data.toString('latin1');
        if (acks && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
      } else {
        let msg: unknown;
        try {
          msg = JSON.parse(data.toString('utf8'));
        } catch {
          msg = data.toString('utf8');
        }
        this.controls.push(msg);
        const m = msg as { type?: unknown; code?: unknown };
        if (m.type === 'error' && typeof m.code === 'string') result.errorControls.push(m.code);
      }
      this.#notify();
    });
    ws.on('upgrade', (res) => {
      if (res.socket.localPort !== undefined) ports.set(res.socket.localPort, result.tag);
    });
    ws.on('unexpected-response', (req, res) => {
      if (res.socket.localPort !== undefined) ports.set(res.socket.localPort, result.tag);
      result.httpStatus = res.statusCode;
      res.resume();
      res.once('end', () => ws.terminate());
      res.once('error', () => ws.terminate());
      req.on('error', () => undefined);
    });
    this.opened = new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
    this.closed = new Promise<void>((resolve) => ws.once('close', (code: number, reason: Buffer) => {
      this.isClosed = true;
      if (result.httpStatus === undefined) {
        result.closeCode = code;
        result.reason = reason.toString('utf8');
      }
      this.#notify();
      resolve();
    }));
  }

  send(frame: FuzzFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame.data, { binary: frame.binary });
    this.result.framesSent++;
    if (frame.data.length > READ_LIMIT) this.result.mayCut = true;
  }

  waitFor(pred: () => boolean, ms: number): Promise<boolean> {
    return this.#waiters.waitFor(pred, ms, () => this.isClosed);
  }

  ready(proto: Proto): boolean {
    return proto === 'v1' ? this.controls.some((m) => (m as { type?: unknown }).type === 'ready') : this.output.includes(FAKE_PROMPT);
  }

  #notify(): void {
    this.#waiters.notify();
  }
}

async function pause(ms: number): Promise<void> {
  if (ms <= 0) await new Promise<void>((resolve) => setImmediate(resolve));
  else await sleep(ms);
}

async function runWs(plan: WsPlan, env: Env, result: CaseResult, cleanup: Array<() => void>): Promise<void> {
  const protocols = plan.proto === 'v1' ? [V1] : [];
  const c = new WsClient(`ws://127.0.0.1:${env.port}${plan.path}`, protocols, plan.headers, result, plan.acks, env.ports);
  cleanup.push(() => c.ws.terminate());
  if (!(await c.opened)) {
    await c.closed;
    return;
  }
  if (plan.login !== undefined) {
    c.send({ data: plan.login, binary: false, kind: 'login' });
    if (plan.waitReady && !(await c.waitFor(() => c.ready(plan.proto), 8000)) && !c.isClosed) {
      result.problems.push(`login did not reach ready within 8 s (output ${JSON.stringify(c.output.slice(-200))})`);
    }
  }
  for (const step of plan.steps) {
    if (step.delay > 0 || plan.steps.length > 20) await pause(step.delay);
    if (c.isClosed) break;
    if (step.frame !== undefined) {
      if (step.frame.kind === 'shell' && step.frame.data.toString('latin1').startsWith('flood')) result.mayCut = true;
      c.send(step.frame);
    }
  }
  switch (plan.end) {
    case 'close':
      if (!c.isClosed) result.ownCodes.push(1000);
      c.ws.close(1000);
      break;
    case 'close-code':
      if (!c.isClosed) result.ownCodes.push(plan.closeCode ?? 1000);
      c.ws.close(plan.closeCode);
      break;
    case 'close-nocode':
      if (!c.isClosed) result.ownCodes.push(1005);
      c.ws.close();
      break;
    case 'terminate':
      result.mayCut = true;
      c.ws.terminate();
      break;
    case 'exit':
      c.send({ data: Buffer.from('exit 3\r'), binary: plan.proto === 'v1', kind: 'exit' });
      if (!(await c.waitFor(() => c.isClosed, 5000))) {
        result.ownCodes.push(1000);
        c.ws.close(1000);
      }
      break;
    default: {
      // Every pre-auth frame is read as credentials: it ends the connection (PROTOCOL_ERROR, an
      // SSH failure, at worst the 2 s auth timeout) unless it logged in. A session may stay open.
      const ms = plan.login === undefined ? 9000 : 1500;
      const settled = plan.login === undefined ? (): boolean => c.isClosed || c.ready(plan.proto) : (): boolean => c.isClosed;
      if (!(await c.waitFor(settled, ms)) && plan.login === undefined) result.problems.push(`pre-auth connection neither closed nor logged in after ${ms} ms`);
      if (!c.isClosed) {
        result.ownCodes.push(1000);
        c.ws.close(1000);
      }
    }
  }
  if (!(await c.waitFor(() => c.isClosed, 8000))) {
    result.problems.push('connection not closed 8 s after the end of the case');
    c.ws.terminate();
    await c.closed;
  }
}

/** Upgrade over raw TCP; returns the connection once the response head is in (or null). */
async function openRaw(env: Env, result: CaseResult): Promise<RawConn> {
  const conn = await RawConn.open(env.port);
  if (conn.socket.localPort !== undefined) env.ports.set(conn.socket.localPort, result.tag);
  return conn;
}

async function rawUpgrade(env: Env, request: Buffer, result: CaseResult, cleanup: Array<() => void>): Promise<RawConn | null> {
  const conn = await openRaw(env, result);
  cleanup.push(() => conn.destroy());
  await conn.write(request);
  result.framesSent++;
  await conn.waitFor(() => conn.head !== undefined, 5000);
  result.httpStatus = conn.head?.status;
  if (conn.head === undefined) {
    result.problems.push('no response to a well-formed upgrade within 5 s');
    conn.destroy();
    return null;
  }
  return conn;
}

/** Record the close a raw connection saw and wait for the TCP close. */
async function finishRaw(conn: RawConn, result: CaseResult, waitMs: number): Promise<void> {
  if (!(await conn.waitClosed(waitMs))) {
    // Our side is done: say so and give the bridge its close grace.
    if (conn.closeFrame === undefined) {
      result.ownCodes.push(1000);
      await conn.sendFrame(OP.CLOSE, closePayload(1000));
    }
    conn.end();
    if (!(await conn.waitClosed(6000))) {
      result.problems.push('bridge did not close the TCP connection within 6 s of our close');
      conn.destroy();
    }
  }
  result.closeCode = conn.closeFrame?.code ?? 1006;
  result.reason = conn.closeFrame?.reason ?? '';
  for (const m of conn.texts) {
    const e = m as { type?: unknown; code?: unknown };
    if (e.type === 'error' && typeof e.code === 'string') result.errorControls.push(e.code);
  }
  if (conn.badServerFrame !== undefined) result.problems.push(`bad server frame: ${conn.badServerFrame}`);
}

async function runRaw(plan: RawPlan, env: Env, result: CaseResult, cleanup: Array<() => void>): Promise<void> {
  const conn = await rawUpgrade(env, plan.request, result, cleanup);
  if (conn === null) return;
  if (conn.head?.status !== 101) {
    result.problems.push(`well-formed upgrade refused: ${conn.head?.statusLine ?? ''}`);
    conn.destroy();
    return;
  }
  // Subprotocol negotiation (docs/protocol.md): v1 when offered, otherwise none.
  const answered = conn.head.headers['sec-websocket-protocol'];
  const wantV1 = plan.proto === 'v1';
  if (wantV1 ? answered !== V1 : answered !== undefined) result.problems.push(`offered ${JSON.stringify(plan.offered)}, answered ${JSON.stringify(answered)}`);
  conn.replyClose = plan.replyClose;
  if (plan.login !== undefined) {
    for (const f of plan.login) {
      await conn.write(f);
      result.framesSent++;
    }
    const ready = (): boolean => (plan.proto === 'v1' ? conn.texts.some((m) => (m as { type?: unknown }).type === 'ready') : conn.output.includes(FAKE_PROMPT));
    if (!(await conn.waitFor(ready, 8000)) && !conn.isClosed) result.problems.push('raw login did not reach ready within 8 s');
  }
  for (const f of plan.benign) {
    await conn.write(f);
    result.framesSent++;
  }
  if (!conn.isClosed) result.expect = plan.violation.expect;
  if (plan.violation.ownClose !== undefined) result.ownCodes.push(plan.violation.ownClose);
  for (const f of plan.violation.frames) {
    await conn.write(f);
    result.framesSent++;
  }
  if (plan.violation.label === 'garbage') result.mayCut = true;
  // No reply to the close frame: the bridge must still end it (its close grace is 3 s).
  await finishRaw(conn, result, plan.replyClose ? 3000 : 7000);
}

async function runHttp(plan: HttpPlan, env: Env, result: CaseResult, cleanup: Array<() => void>): Promise<void> {
  const conn = await openRaw(env, result);
  cleanup.push(() => conn.destroy());
  // Bytes after the head go out in their own writes, even after a refusal (once a defect: a
  // refused upgrade socket never read them and so never saw the client's FIN; regressions.ts).
  for (const chunk of plan.chunks) {
    await conn.write(chunk);
    if (plan.slow) await sleep(20);
  }
  result.framesSent++;
  // The head timeout is 2 s: an incomplete request must be answered (408) or closed by then.
  const got = await conn.waitFor(() => conn.head !== undefined, plan.incomplete ? 4000 : 3000);
  result.httpStatus = conn.head?.status;
  result.mayCut = true; // a refused upgrade ends the TCP connection; there is no close frame to see
  if (!got && !conn.isClosed) {
    result.problems.push(`no response and no close within ${plan.incomplete ? 4000 : 3000} ms`);
  }
  if (conn.upgraded) {
    result.mayCut = false;
    await conn.sendFrame(OP.CLOSE, closePayload(1000));
    result.ownCodes.push(1000);
    conn.end();
    await finishRaw(conn, result, 3000);
    return;
  }
  await sleep(50);
  conn.end();
  if (!(await conn.waitClosed(6000))) {
    result.problems.push('bridge kept the connection 6 s after our FIN');
    conn.destroy();
  }
}

async function runSlow(plan: SlowPlan, env: Env, result: CaseResult, cleanup: Array<() => void>, rng: Rng): Promise<void> {
  const offered = plan.proto === 'v1' ? [['Sec-WebSocket-Protocol', V1] as const] : [];
  const path = `/ws/127.0.0.1/${env.ssh.port}`;
  switch (plan.variant) {
    case 'silent': {
      // Upgrade, then say nothing: CREDENTIALS_TIMEOUT (4004) after the 2 s auth timeout.
      const conn = await rawUpgrade(env, upgradeRequest(path, env.port, wsKey(rng), offered), result, cleanup);
      if (conn === null) return;
      result.expect = [4004];
      await finishRaw(conn, result, 5000);
      return;
    }
    case 'slowloris': {
      const conn = await openRaw(env, result);
      cleanup.push(() => conn.destroy());
      const req = upgradeRequest(path, env.port, wsKey(rng), offered);
      result.framesSent++;
      for (let i = 0; i < req.length - 2 && !conn.isClosed && conn.head === undefined; i += 8) {
        await conn.write(req.subarray(i, Math.min(i + 8, req.length - 2)));
        await sleep(150);
      }
      await conn.waitFor(() => conn.head !== undefined, 3000);
      result.httpStatus = conn.head?.status;
      result.mayCut = true;
      if (conn.head?.status !== 408 && !conn.isClosed) result.problems.push(`slowloris head got ${conn.head?.statusLine ?? 'nothing'}`);
      conn.end();
      if (!(await conn.waitClosed(5000))) result.problems.push('slowloris connection not closed');
      conn.destroy();
      return;
    }
    case 'half-frame': {
      // Announce 1000 bytes, send 10, then wait: the 2 s auth timeout must end it, although the
      // bridge never reads our reply to its close frame (it is stuck inside our frame).
      const conn = await rawUpgrade(env, upgradeRequest(path, env.port, wsKey(rng), offered), result, cleanup);
      if (conn === null) return;
      result.mayCut = true;
      await conn.write(encodeFrame({ opcode: OP.TEXT, payload: Buffer.alloc(10, 0x7b), declaredLength: 1000n }));
      result.framesSent++;
      if (!(await conn.waitClosed(10_000))) result.problems.push('half-sent frame: connection still open after 10 s');
      await finishRaw(conn, result, 0);
      return;
    }
    default: {
      // Log in, start a flood, stop reading: CLIENT_STALLED after conn-timeout (3 s).
      const conn = await rawUpgrade(env, upgradeRequest(path, env.port, wsKey(rng), offered), result, cleanup);
      if (conn === null) return;
      result.mayCut = true;
      await conn.write(encodeFrame({ opcode: OP.TEXT, payload: loginFrame(rng, plan.proto) }));
      const ready = (): boolean => (plan.proto === 'v1' ? conn.texts.some((m) => (m as { type?: unknown }).type === 'ready') : conn.output.includes(FAKE_PROMPT));
      if (!(await conn.waitFor(ready, 8000))) {
        result.problems.push('stall: login did not reach ready');
        await finishRaw(conn, result, 0);
        return;
      }
      await conn.write(encodeFrame({ opcode: OP.BINARY, payload: Buffer.from('flood 40000000\r') }));
      result.framesSent += 2;
      conn.socket.pause();
      await sleep(7000);
      conn.socket.resume();
      if (!(await conn.waitClosed(4000))) result.problems.push('stalled reader not cut within conn-timeout');
      await finishRaw(conn, result, 0);
    }
  }
}

const REASON = /^([A-Z_]+): /;

/** Problems with a finished case (close codes, reasons, error messages, expectations). */
function checkResult(r: CaseResult): string[] {
  const problems = [...r.problems];
  if (r.httpStatus !== undefined && !ALLOWED_HTTP.has(r.httpStatus)) problems.push(`HTTP status ${r.httpStatus}`);
  if (r.httpStatus !== undefined && r.httpStatus !== 101) return problems;
  const code = r.closeCode;
  if (code === undefined) return problems;
  const own = r.ownCodes.includes(code);
  if (code === 1006) {
    if (!r.mayCut) problems.push('connection cut without a close frame (1006)');
  } else if (!CATALOGUE_CLOSE_CODES.has(code) && !own) {
    problems.push(`close code ${code} is not in the catalogue`);
  }
  if (r.reason !== '') {
    const m = REASON.exec(r.reason);
    const name = m?.[1];
    if (Buffer.byteLength(r.reason) > 123) problems.push('close reason over 123 bytes');
    if (name === undefined || !(name in ERRORS)) {
      if (!own) problems.push(`close reason not "CODE: message": ${JSON.stringify(r.reason)}`);
    } else {
      if (ERRORS[name as keyof typeof ERRORS].close !== code) problems.push(`close ${code} with reason ${name} (catalogue says ${ERRORS[name as keyof typeof ERRORS].close})`);
      const lastError = r.errorControls.at(-1);
      if (lastError !== undefined && lastError !== name) problems.push(`error message ${lastError} but close reason ${name}`);
    }
  } else if (!own && code !== 1006 && code !== 1002 && code !== 1007 && code !== 1009 && code !== 1005) {
    problems.push(`close ${code} without a reason`);
  }
  if (r.expect !== undefined && !r.expect.includes(code) && !(code === 1006 && r.mayCut)) {
    problems.push(`expected close ${r.expect.join('/')}, got ${code} ${JSON.stringify(r.reason)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The run

export async function runLiveFuzz(opts: LiveFuzzOptions): Promise<LiveFuzzReport> {
  const log = opts.log ?? ((): void => undefined);
  const concurrency = opts.concurrency ?? 20;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (p: string): void => {
    problemCount++;
    if (problems.length < 60) problems.push(p);
    log(`PROBLEM ${p}`);
  };
  const crashes: string[] = [];
  // A crash cannot be pinned on one case: name every case in flight at that moment.
  const inFlight = (): string => `cases in flight: ${[...running].join(' | ').slice(0, 2000)}`;
  const onUncaught = (err: unknown): void => void crashes.push(`uncaughtException: ${err instanceof Error ? err.stack ?? err.message : String(err)}; ${inFlight()}`);
  const onUnhandled = (err: unknown): void => void crashes.push(`unhandledRejection: ${err instanceof Error ? err.stack ?? err.message : String(err)}; ${inFlight()}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);

  const gc = findGc();
  const collect = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await sleep(50);
    }
    return process.memoryUsage().heapUsed;
  };

  const ssh = await startFakeSsh({ banner: 'fuzz banner' });
  const logs = new LogWatch();
  const loaded = loadConfig(['--server-address', '127.0.0.1:0', ...LIVE_FLAGS], {});
  if (loaded.kind !== 'config') throw new Error('unexpected help');
  const app = new App(loaded.config, { logger: createLogger(false, { write: (s: string) => logs.write(s) }), lookup: fuzzLookup });
  const { port } = await app.listen();
  const env: Env = { ports: new Map(), app, port, ssh, closedPort: await closedPort() };
  const url = `ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`;

  const scenarios: Record<string, number> = {};
  const closeCodes: Record<string, number> = {};
  const closeByScenario: Record<string, number> = {};
  const durations: Record<string, { n: number; meanMs: number; maxMs: number }> = {};
  const running = new Set<string>();
  const httpStatuses: Record<string, number> = {};
  const bump = (into: Record<string, number>, key: string): void => {
    into[key] = (into[key] ?? 0) + 1;
  };
  let framesPlanned = 0;
  let framesSent = 0;
  let cases = 0;
  let slowestMs = 0;
  let slowestCase = '';
  let peakHeap = 0;
  let finalSessions = 'not run';
  let heapBaseline = 0;
  let heapAfter = 0;
  let tcpBaseline = 0;
  let tcpAfter = 0;
  let timersBaseline = 0;
  let timersAfter = 0;
  const started = performance.now();

  try {
    // Warm up (module caches, JIT, the first SSH key exchange) before taking the baselines.
    const warm = await openWs(url);
    warm.sendJson({ username: GOOD_USER, password: GOOD_PASSWORD });
    await warm.waitForOutput(FAKE_PROMPT);
    warm.close();
    await within(warm.closed, 10_000, 'warm-up session close');
    await waitUntil(() => app.manager.size === 0 && ssh.events.openConnections === 0, 5000);
    heapBaseline = await collect();
    tcpBaseline = resourceCount('TCPSocketWrap');
    timersBaseline = resourceCount('Timeout');
    log(`live fuzz: seed ${opts.seed}, ${opts.frames} frames, concurrency ${concurrency}; bridge :${port}, ssh :${ssh.port}; heap baseline ${(heapBaseline / 2 ** 20).toFixed(1)} MiB (gc ${gc === undefined ? 'unavailable' : 'forced'})`);

    let next = opts.only ?? 0;
    const runOne = async (plan: CasePlan): Promise<void> => {
      const tag = `#${plan.index} ${plan.scenario} [${plan.label.slice(0, 120)}]`;
      const result = newResult(tag);
      const cleanup: Array<() => void> = [];
      const rng = new Rng(plan.caseSeed).fork(1);
      const t0 = performance.now();
      running.add(tag);
      const body = plan.body;
      const work = (async (): Promise<void> => {
        switch (body.type) {
          case 'ws': return runWs(body, env, result, cleanup);
          case 'raw': return runRaw(body, env, result, cleanup);
          case 'http': return runHttp(body, env, result, cleanup);
          default: return runSlow(body, env, result, cleanup, rng);
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        work.then(() => false, (err: unknown) => {
          result.problems.push(`case threw: ${err instanceof Error ? err.message : String(err)}`);
          return false;
        }),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 30_000))),
      ]);
      clearTimeout(timer);
      if (timedOut) result.problems.push('case did not finish within 30 s (hang)');
      for (const c of cleanup) c();
      running.delete(tag);
      const ms = performance.now() - t0;
      const d = (durations[plan.scenario] ??= { n: 0, meanMs: 0, maxMs: 0 });
      d.meanMs = (d.meanMs * d.n + ms) / (d.n + 1);
      d.n++;
      d.maxMs = Math.max(d.maxMs, ms);
      if (ms > slowestMs) {
        slowestMs = ms;
        slowestCase = `#${plan.index} ${plan.scenario} ${plan.label.slice(0, 80)} (${ms.toFixed(0)} ms)`;
      }
      cases++;
      framesSent += result.framesSent;
      bump(scenarios, plan.scenario);
      if (result.httpStatus !== undefined) bump(httpStatuses, String(result.httpStatus));
      if (result.closeCode !== undefined && (result.httpStatus === undefined || result.httpStatus === 101)) {
        bump(closeCodes, String(result.closeCode));
        bump(closeByScenario, `${plan.scenario}:${result.closeCode}`);
      }
      for (const p of checkResult(result)) problem(`case #${plan.index} (seed ${opts.seed}, case seed ${plan.caseSeed}) ${plan.scenario} [${plan.label.slice(0, 160)}]: ${p}`);
    };

    const worker = async (): Promise<void> => {
      for (;;) {
        if (opts.only !== undefined ? next > opts.only : framesPlanned >= opts.frames) return;
        const index = next++;
        const plan = planCase(opts.seed, index, env);
        framesPlanned += plan.frames;
        if (opts.only !== undefined) log(`case #${index} (case seed ${plan.caseSeed}) ${plan.scenario} [${plan.label}]:\n${describePlan(plan)}`);
        await runOne(plan);
        if (cases % 250 === 0) {
          const heap = process.memoryUsage().heapUsed;
          peakHeap = Math.max(peakHeap, heap);
          log(`  ${cases} cases, ${framesSent} frames, ${((performance.now() - started) / 1000).toFixed(1)} s, sessions ${app.manager.size}, heap ${(heap / 2 ** 20).toFixed(1)} MiB, problems ${problemCount}`);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.only !== undefined ? 1 : concurrency }, () => worker()));
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    log(`fuzz done: ${cases} cases, ${framesSent} frames in ${((performance.now() - started) / 1000).toFixed(1)} s; settling`);

    // Every session must end, every SSH connection close, every socket go.
    if (!(await waitUntil(() => app.manager.size === 0 && app.manager.stats().active === 0, 10_000))) {
      problem(`sessions left after 10 s: size ${app.manager.size}, active ${app.manager.stats().active}: ${JSON.stringify(app.manager.sessionStats().slice(0, 5))}`);
    }
    if (!(await waitUntil(() => ssh.events.openConnections === 0, 10_000))) problem(`fake SSH server still has ${ssh.events.openConnections} open connections after 10 s`);
    if (!(await waitUntil(() => resourceCount('TCPSocketWrap') <= tcpBaseline, 10_000))) {
      problem(`TCP sockets: ${resourceCount('TCPSocketWrap')} open after the run, ${tcpBaseline} before: ${describeSockets(port, env.ports).join('; ')}`);
    }
    tcpAfter = resourceCount('TCPSocketWrap');
    await sleep(3500); // the longest timer a finished connection may leave (upgrade refusal's 3 s terminate)
    timersAfter = resourceCount('Timeout');
    if (timersAfter > timersBaseline + 20) problem(`timers: ${timersAfter} active after the run, ${timersBaseline} before`);

    // The bridge still serves normal sessions, both protocols.
    try {
      const seedWs = await openWs(url);
      seedWs.sendJson({ username: GOOD_USER, password: GOOD_PASSWORD });
      await seedWs.waitForOutput(FAKE_PROMPT);
      seedWs.sendText('size\r');
      await seedWs.waitForOutput('24 80');
      seedWs.sendText('exit 0\r');
      const c1 = await within(seedWs.closed, 10_000, 'seed session close after exit');
      if (c1.code !== 1000 || c1.reason !== 'SHELL_EXITED: shell exited: exit status 0') throw new Error(`seed session closed ${c1.code} ${c1.reason}`);
      const v1 = await openWs(url, { protocol: V1 });
      v1.sendJson({ type: 'auth', username: GOOD_USER, password: GOOD_PASSWORD, cols: 100, rows: 30 });
      await v1.waitForControl((m) => (m as { type?: unknown }).type === 'ready');
      v1.sendJson({ type: 'ping', payload: { n: 1 } });
      await v1.waitForControl((m) => JSON.stringify(m) === '{"type":"pong","payload":{"n":1}}');
      v1.sendBinary(Buffer.from('size\r'));
      await v1.waitForOutput('30 100');
      v1.sendBinary(Buffer.from('exit 5\r'));
      const c2 = await within(v1.closed, 10_000, 'v1 session close after exit');
      if (c2.code !== 1000 || JSON.stringify(v1.controls().at(-1)) !== '{"type":"exit","status":5,"signal":null}') throw new Error(`v1 session closed ${c2.code} ${c2.reason}`);
      finalSessions = 'ok';
    } catch (err) {
      finalSessions = `FAILED: ${err instanceof Error ? err.message : String(err)}`;
      problem(`normal session after the fuzz: ${finalSessions}`);
    }
    await waitUntil(() => app.manager.size === 0, 5000);
    heapAfter = await collect();
    const slack = opts.heapSlackBytes ?? 64 * 2 ** 20;
    if (heapAfter - heapBaseline > slack) problem(`heap grew ${((heapAfter - heapBaseline) / 2 ** 20).toFixed(1)} MiB (baseline ${(heapBaseline / 2 ** 20).toFixed(1)} MiB, after ${(heapAfter / 2 ** 20).toFixed(1)} MiB)`);
  } finally {
    // The bridge's own shutdown must finish too (drain, then every socket closed).
    await within(app.close(), 20_000, 'bridge app.close()').catch((err: unknown) => problem(err instanceof Error ? err.message : String(err)));
    await within(ssh.close(), 10_000, 'fake SSH server close').catch((err: unknown) => problem(err instanceof Error ? err.message : String(err)));
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }

  for (const c of crashes) problem(c);
  for (const e of logs.errors) problem(`error-level log: ${e}`);
  for (const l of logs.leaks) problem(`secret in a log line: ${l}`);
  const stats = app.manager.stats();
  if ((stats.outcomes.INTERNAL ?? 0) > 0) problem(`${stats.outcomes.INTERNAL} sessions ended INTERNAL`);
  if ((stats.rejections.INTERNAL ?? 0) > 0) problem(`${stats.rejections.INTERNAL} upgrades refused INTERNAL`);

  return {
    seed: opts.seed, cases, framesPlanned, framesSent, elapsedMs: performance.now() - started, scenarios, closeCodes, closeByScenario,
    durations: Object.fromEntries(Object.entries(durations).map(([k, v]) => [k, { n: v.n, meanMs: Math.round(v.meanMs), maxMs: Math.round(v.maxMs) }])), httpStatuses,
    outcomes: { ...stats.outcomes }, rejections: { ...stats.rejections }, logLevels: logs.levels, slowestCase,
    heap: { baseline: heapBaseline, after: heapAfter, peak: peakHeap, gc: gc !== undefined },
    tcpSockets: { baseline: tcpBaseline, after: tcpAfter }, timers: { baseline: timersBaseline, after: timersAfter },
    sshConnections: ssh.events.connections, finalSessions, problemCount, problems,
  };
}
