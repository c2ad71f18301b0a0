/**
 * Slow reader (bridge only): sessions whose client reads the bridge's output at a fixed, low
 * rate while the shell floods (`cat` of the big file). What the bridge buffers for such a client
 * is what its flow control lets through: the goal is at most 1 MiB per session.
 *
 * The slowness is real TCP backpressure: the ws client connects through SlowPipe, a loopback
 * TCP proxy in this process whose socket to the bridge is paused and resumed in steps of
 * `rate` bytes once a second. The proxy's kernel receive buffer fills, its TCP window closes,
 * the bridge's socket stops taking data, and the bridge's write callbacks stop, exactly as with
 * a far-away browser on a thin link. (Pausing the ws client's own socket would not do: ws
 * resumes it whenever its frame parser drains.) The client side of the proxy is not throttled.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bridgeOpener } from './bridge-client.js';
import { treeRssKiB } from './procfs.js';
import { median } from './stats.js';
import type { Target, Term } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS } from './workloads.js';

interface Conn {
  readonly up: Socket;
  readonly down: Socket;
  /** Bytes read from the bridge, and the budget: reading pauses once read >= allowed. */
  read: number;
  allowed: number;
  downFull: boolean;
}

/** Loopback TCP proxy to the bridge; throttle() caps each connection's bridge -> client rate. */
export class SlowPipe {
  readonly #server: Server;
  readonly #conns = new Set<Conn>();
  #rate: number | null = null;
  #ticker: NodeJS.Timeout | undefined;

  private constructor(server: Server) { this.#server = server; }

  static async start(upstreamPort: number): Promise<SlowPipe> {
    const server = createServer();
    const pipe = new SlowPipe(server);
    server.on('connection', (down) => pipe.#accept(down, upstreamPort));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    return pipe;
  }

  get port(): number {
    const addr = this.#server.address();
    if (addr === null || typeof addr === 'string') throw new Error('SlowPipe is not listening');
    return addr.port;
  }

  /** From now on every connection reads at most `bytesPerSecond` from the bridge, in one step per second. */
  throttle(bytesPerSecond: number): void {
    this.#rate = bytesPerSecond;
    for (const c of this.#conns) { c.allowed = c.read + bytesPerSecond; this.#update(c); }
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => {
      for (const c of this.#conns) { c.allowed += bytesPerSecond; this.#update(c); }
    }, 1000);
  }

  close(): Promise<void> {
    clearInterval(this.#ticker);
    for (const c of this.#conns) { c.up.destroy(); c.down.destroy(); }
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(down: Socket, upstreamPort: number): void {
    const up = connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
    down.setNoDelay(true);
    const c: Conn = { up, down, read: 0, allowed: Infinity, downFull: false };
    this.#conns.add(c);
    if (this.#rate !== null) c.allowed = this.#rate;
    const end = (): void => { up.destroy(); down.destroy(); this.#conns.delete(c); };
    up.on('error', end).on('close', end);
    down.on('error', end).on('close', end);
    down.on('data', (d: Buffer) => up.write(d));
    down.on('drain', () => { c.downFull = false; this.#update(c); });
    up.on('data', (d: Buffer) => {
      c.read += d.length;
      if (!down.write(d)) c.downFull = true;
      this.#update(c);
    });
  }

  #update(c: Conn): void {
    if (c.up.destroyed) return;
    if (c.read < c.allowed && !c.downFull) c.up.resume(); else c.up.pause();
  }
}

export interface SlowRun {
  sessions: number;
  rateBytesPerS: number;
  seconds: number;
  /** Bridge RSS (its process tree) with the sessions open and idle: median of 2 s of samples. */
  baselineKiB: number;
  peakKiB: number;
  endKiB: number;
  peakGrowthKiB: number;
  peakGrowthPerSessionKiB: number;
  endGrowthPerSessionKiB: number;
  /** Growth over the baseline, the highest sample of each second. */
  growthBySecondKiB: number[];
  /** What each client actually received per second during the flood (checks the throttle). */
  readKiBPerSPerSession: number;
  /**
   * The bridge's own count of output held for clients (/stats `buffered`, sampled with the RSS;
   * null when the bridge has no /stats: an older build, or metrics off): the most one session held,
   * and the most held in all divided by the sessions.
   */
  heldMaxSessionKiB: number | null;
  heldPerSessionKiB: number | null;
  /** Sessions still open at the end (the bridge closes a client that makes no progress). */
  alive: number;
}

const HEAD = 4_000_000;

/** /stats `buffered` of the bridge (null when it has none: metrics off or an older build). */
async function bufferedStats(port: number): Promise<{ bytes: number; max_session: number } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/stats`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    const body = await res.json() as { buffered?: { bytes?: unknown; max_session?: unknown } };
    const b = body.buffered;
    return typeof b?.bytes === 'number' && typeof b.max_session === 'number' ? { bytes: b.bytes, max_session: b.max_session } : null;
  } catch {
    return null;
  }
}

/**
 * Warm up the bridge's output path (one unthrottled 4 MB flood), open `sessions` sessions through
 * a SlowPipe, take the RSS baseline, then throttle, start `cat <file>` on all of them and sample
 * the bridge's RSS every 200 ms for `seconds`.
 */
export async function slowReader(bridge: { pid: number; port: number }, target: Target, file: { path: string }, sessions: number, rateBytesPerS: number, seconds: number): Promise<SlowRun> {
  const warm = await bridgeOpener(bridge.port, target)(CONNECT_TIMEOUT_MS);
  try {
    await warm.waitQuiet(100, 2000);
    warm.mark();
    warm.write(`head -c ${HEAD} ${file.path}; printf '%s\\n' "__DO""NE__"\r`);
    await warm.waitFor('__DONE__', 60_000);
  } finally {
    await closeTerm(warm);
  }
  await sleep(1000);

  const pipe = await SlowPipe.start(bridge.port);
  const terms: Term[] = [];
  try {
    const open = bridgeOpener(pipe.port, target);
    const opened = await Promise.allSettled(Array.from({ length: sessions }, () => open(CONNECT_TIMEOUT_MS)));
    for (const r of opened) if (r.status === 'fulfilled') terms.push(r.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new Error(`${sessions - terms.length} of ${sessions} slow sessions did not open: ${(failed.reason as Error).message}`);
    await Promise.all(terms.map((t) => t.waitQuiet(100, 2000)));
    await sleep(500);
    const base: number[] = [];
    for (let i = 0; i < 10; i++) { base.push(treeRssKiB(bridge.pid)); await sleep(200); }
    const baselineKiB = median(base);

    pipe.throttle(rateBytesPerS);
    const bytes0 = terms.map((t) => t.bytes);
    for (const t of terms) t.write(`cat ${file.path}\r`);
    const t0 = Date.now();
    let peakKiB = baselineKiB;
    let endKiB = baselineKiB;
    let heldMax: number | null = null;
    let heldAll: number | null = null;
    const bySecond: number[] = [];
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(200);
      const held = await bufferedStats(bridge.port);
      if (held !== null) {
        heldMax = Math.max(heldMax ?? 0, held.max_session);
        heldAll = Math.max(heldAll ?? 0, held.bytes);
      }
      endKiB = treeRssKiB(bridge.pid);
      peakKiB = Math.max(peakKiB, endKiB);
      const s = Math.floor((Date.now() - t0) / 1000);
      bySecond[s] = Math.max(bySecond[s] ?? -Infinity, endKiB - baselineKiB);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const received = terms.reduce((sum, t, i) => sum + t.bytes - (bytes0[i] ?? 0), 0);
    return {
      sessions, rateBytesPerS, seconds: elapsed, baselineKiB, peakKiB, endKiB,
      peakGrowthKiB: peakKiB - baselineKiB,
      peakGrowthPerSessionKiB: (peakKiB - baselineKiB) / sessions,
      endGrowthPerSessionKiB: (endKiB - baselineKiB) / sessions,
      growthBySecondKiB: Array.from(bySecond, (g) => g ?? 0),
      readKiBPerSPerSession: received / 1024 / elapsed / sessions,
      heldMaxSessionKiB: heldMax === null ? null : heldMax / 1024,
      heldPerSessionKiB: heldAll === null ? null : heldAll / 1024 / sessions,
      alive: terms.filter((t) => !t.isClosed).length,
    };
  } finally {
    // A close handshake would queue behind the backlog at the slow rate: tear down instead.
    for (const t of terms) t.destroy();
    await pipe.close();
  }
}
