/**
 * The four workloads, each written once against an Opener so side A (direct) and side B
 * (bridge) run exactly the same code. Every wait has a timeout.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { activeSessions, cpuSeconds, rssKiB, selfCpuSeconds } from './bridge-proc.js';
import { MiB } from './stats.js';
import { withTimeout, type Opener, type Term } from './term.js';

export const CONNECT_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 10_000;

/** Close and wait for the transport to go (destroy when it does not). */
export async function closeTerm(term: Term): Promise<void> {
  term.close();
  try { await withTimeout(term.closed, CLOSE_TIMEOUT_MS, `${term.label} close`); } catch { term.destroy(); }
}

export interface ThroughputRun {
  seconds: number;
  mibPerS: number;
  /** Bytes the client received between sending the command and the marker (PTY turns LF into CRLF). */
  bytesOut: number;
  /** Output chunks received for those bytes (frames through the bridge, SSH data events direct). */
  chunks: number;
  /** CPU seconds of the bridge process during the transfer (0-ish on the direct side). */
  bridgeCpuS: number;
  /** CPU seconds of this benchmark process (the client) during the transfer. */
  clientCpuS: number;
}

/** `cat` the file at the prompt; time from sending the line to the marker printed after it. */
export async function throughput(open: Opener, file: { path: string; size: number }, bridgePid: number): Promise<ThroughputRun> {
  const term = await open(CONNECT_TIMEOUT_MS);
  try {
    await term.waitQuiet(100, 2000);
    term.mark();
    // The typed line echoes back too: spell the marker so that only printf's output contains it.
    const line = Buffer.from(`cat ${file.path}; printf '%s\\n' "__DO""NE__"\r`);
    const bytes0 = term.bytes;
    const chunks0 = term.chunks;
    const cpu0 = cpuSeconds(bridgePid);
    const self0 = selfCpuSeconds();
    const t0 = performance.now();
    term.write(line);
    const t1 = await term.waitFor('__DONE__', 60_000 + (file.size / MiB) * 2000);
    const seconds = (t1 - t0) / 1000;
    return {
      seconds,
      mibPerS: file.size / MiB / seconds,
      bytesOut: term.bytes - bytes0,
      chunks: term.chunks - chunks0,
      bridgeCpuS: cpuSeconds(bridgePid) - cpu0,
      clientCpuS: selfCpuSeconds() - self0,
    };
  } finally {
    await closeTerm(term);
  }
}

/**
 * Keystroke echo at the prompt: one printable character, wait for it to come back, `count`
 * times. Every `clearEvery` characters Ctrl-U clears the line and the redraw is let settle
 * (no output for 30 ms) before the next measured keystroke. Returns round trips in ms.
 */
export async function echo(open: Opener, count: number, clearEvery = 50): Promise<number[]> {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const term = await open(CONNECT_TIMEOUT_MS);
  const samples: number[] = [];
  try {
    await term.waitQuiet(100, 2000);
    for (let i = 0; i < count; i++) {
      if (i > 0 && i % clearEvery === 0) {
        term.write('\x15');
        await term.waitQuiet(30, 2000);
      }
      const c = letters[i % letters.length] ?? 'a';
      term.mark();
      const t0 = performance.now();
      term.write(c);
      const t1 = await term.waitFor(c, 5000);
      samples.push(t1 - t0);
    }
    term.write('\x15');
  } finally {
    await closeTerm(term);
  }
  return samples;
}

export interface SetupRuns { a: number[]; b: number[]; failuresA: number; failuresB: number; errors: string[] }

/** New connection to first prompt, alternating A and B connection by connection. */
export async function setup(openA: Opener, openB: Opener, n: number): Promise<SetupRuns> {
  const out: SetupRuns = { a: [], b: [], failuresA: 0, failuresB: 0, errors: [] };
  for (let i = 0; i < n; i++) {
    for (const side of ['a', 'b'] as const) {
      const open = side === 'a' ? openA : openB;
      const t0 = performance.now();
      try {
        const term = await open(CONNECT_TIMEOUT_MS);
        out[side].push(performance.now() - t0);
        await closeTerm(term);
      } catch (err) {
        if (side === 'a') out.failuresA++; else out.failuresB++;
        if (out.errors.length < 5) out.errors.push(`${side}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

export interface IdleRun {
  requested: number;
  opened: number;
  failures: number;
  openSeconds: number;
  echoFailures: number;
  closeSeconds: number;
  /** Bridge only: VmRSS before opening, with all sessions open, and after closing them. */
  rssBeforeKiB: number | null;
  rssOpenKiB: number | null;
  rssClosedKiB: number | null;
  kibPerSession: number | null;
  /** Bridge only: its /health active_sessions with all open, and 1 s after closing them (expect 0). */
  activeOpen: number | null;
  activeClosed: number | null;
  errors: string[];
}

/**
 * Open `count` sessions `batch` at a time (each batch concurrently, to the prompt), keep them
 * idle, read the bridge's RSS, check each one still echoes, close them all.
 */
export async function idle(open: Opener, count: number, batch: number, bridge: { pid: number; port: number } | null): Promise<IdleRun> {
  const errors: string[] = [];
  const note = (err: unknown): void => { if (errors.length < 5) errors.push((err as Error).message.slice(0, 400)); };
  const rss = (): number | null => (bridge === null ? null : rssKiB(bridge.pid));
  const active = async (): Promise<number | null> => (bridge === null ? null : activeSessions(bridge.port));
  const rssBeforeKiB = rss();
  const terms: Term[] = [];
  let failures = 0;
  const t0 = performance.now();
  for (let done = 0; done < count; done += batch) {
    const size = Math.min(batch, count - done);
    const results = await Promise.allSettled(Array.from({ length: size }, () => open(CONNECT_TIMEOUT_MS)));
    for (const r of results) {
      if (r.status === 'fulfilled') terms.push(r.value);
      else { failures++; note(r.reason); }
    }
  }
  const openSeconds = (performance.now() - t0) / 1000;
  await sleep(1000); // let the bridge settle before reading its RSS
  const rssOpenKiB = rss();
  const activeOpen = await active();

  const checks = await Promise.allSettled(terms.map(async (term, i) => {
    await term.waitQuiet(50, 2000);
    term.mark();
    term.write(`echo ok''${i}\r`); // the typed line reads ok''N, only the output reads okN
    await term.waitFor(`ok${i}\r\n`, 15_000);
  }));
  let echoFailures = 0;
  for (const c of checks) if (c.status === 'rejected') { echoFailures++; note(c.reason); }

  const t1 = performance.now();
  await Promise.all(terms.map((t) => closeTerm(t)));
  const closeSeconds = (performance.now() - t1) / 1000;
  await sleep(1000);
  const rssClosedKiB = rss();
  const activeClosed = await active();
  const kibPerSession = rssBeforeKiB !== null && rssOpenKiB !== null && terms.length > 0 ? (rssOpenKiB - rssBeforeKiB) / terms.length : null;
  return {
    requested: count, opened: terms.length, failures, openSeconds, echoFailures, closeSeconds,
    rssBeforeKiB, rssOpenKiB, rssClosedKiB, kibPerSession, activeOpen, activeClosed, errors,
  };
}
