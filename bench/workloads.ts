/**
 * The workloads run for both sides, each written once against an Opener so side A (direct) and
 * side B (bridge) run exactly the same code: throughput, keystroke echo, connect to prompt, idle
 * sessions, concurrent floods. (The slow reader is bridge-only: bench/slow-reader.ts.) Every wait
 * has a timeout. Bridge RSS and CPU are summed over its process tree (cluster workers included).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { activeSessions } from './bridge-proc.js';
import { cpuSeconds, processTree, selfCpuSeconds, treeCpuSeconds, treeRssKiB } from './procfs.js';
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
  /** CPU seconds of the bridge (all its processes) during the transfer (0-ish on the direct side). */
  bridgeCpuS: number;
  /** CPU seconds of this benchmark process (the client) during the transfer. */
  clientCpuS: number;
}

/** The command line that prints the file, then a marker only printf's output contains (the typed line echoes too). */
const catLine = (path: string): Buffer => Buffer.from(`cat ${path}; printf '%s\\n' "__DO""NE__"\r`);

/** `cat` the file at the prompt; time from sending the line to the marker printed after it. */
export async function throughput(open: Opener, file: { path: string; size: number }, bridgePid: number): Promise<ThroughputRun> {
  const term = await open(CONNECT_TIMEOUT_MS);
  try {
    await term.waitQuiet(100, 2000);
    term.mark();
    const line = catLine(file.path);
    const bytes0 = term.bytes;
    const chunks0 = term.chunks;
    const cpu0 = treeCpuSeconds(bridgePid);
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
      bridgeCpuS: treeCpuSeconds(bridgePid) - cpu0,
      clientCpuS: selfCpuSeconds() - self0,
    };
  } finally {
    await closeTerm(term);
  }
}

/**
 * Keystroke echo at the prompt: one printable character, wait for it to come back, `count`
 * times. Every `clearEvery` characters Ctrl-U clears the line and the redraw is let settle
 * (no output for 30 ms) before the next measured keystroke. Returns round trips in ms;
 * `onSample` also gets each keystroke's send and arrival times (`performance.now()`).
 */
export async function echo(open: Opener, count: number, clearEvery = 50, onSample?: (sent: number, back: number) => void): Promise<number[]> {
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
      onSample?.(t0, t1);
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
  /** Bridge only: VmRSS (summed over its processes) before opening, with all sessions open, and after closing them. */
  rssBeforeKiB: number | null;
  rssOpenKiB: number | null;
  rssClosedKiB: number | null;
  kibPerSession: number | null;
  /** Bridge only: its /health active_sessions with all open, and once it reached 0 after closing them (or after 30 s). */
  activeOpen: number | null;
  activeClosed: number | null;
  /** Bridge only: from starting to close all sessions until the bridge counted 0 (or gave up at 30 s). */
  drainSeconds: number | null;
  errors: string[];
}

/**
 * Open `count` sessions `batch` at a time (each batch concurrently, to the prompt), keep them
 * idle, read the bridge's RSS, check each one still echoes, close them all.
 */
export async function idle(open: Opener, count: number, batch: number, bridge: { pid: number; port: number } | null): Promise<IdleRun> {
  const errors: string[] = [];
  const note = (err: unknown): void => { if (errors.length < 5) errors.push((err as Error).message.slice(0, 400)); };
  const rss = (): number | null => (bridge === null ? null : treeRssKiB(bridge.pid));
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

  // A marker unique to this run and session: the typed line reads ok''-<run>-<i>, only the
  // output reads ok-<run>-<i>, and its CRLF keeps ok-x-1 from matching ok-x-10.
  const run = randomBytes(4).toString('hex');
  const checks = await Promise.allSettled(terms.map(async (term, i) => {
    await term.waitQuiet(50, 2000);
    term.mark();
    term.write(`echo ok''-${run}-${i}\r`);
    await term.waitFor(`ok-${run}-${i}\r\n`, 30_000);
  }));
  let echoFailures = 0;
  for (const c of checks) if (c.status === 'rejected') { echoFailures++; note(c.reason); }

  const t1 = performance.now();
  await Promise.all(terms.map((t) => closeTerm(t)));
  const closeSeconds = (performance.now() - t1) / 1000;
  // The bridge tears down its SSH legs after the WebSockets are gone: wait (up to 30 s) for its
  // own count to reach 0, then give it 1 s more before reading RSS.
  let activeClosed = await active();
  while (activeClosed !== null && activeClosed > 0 && performance.now() - t1 < 30_000) {
    await sleep(250);
    activeClosed = await active();
  }
  const drainSeconds = bridge === null ? null : (performance.now() - t1) / 1000;
  await sleep(1000);
  const rssClosedKiB = rss();
  const kibPerSession = rssBeforeKiB !== null && rssOpenKiB !== null && terms.length > 0 ? (rssOpenKiB - rssBeforeKiB) / terms.length : null;
  return {
    requested: count, opened: terms.length, failures, openSeconds, echoFailures, closeSeconds, drainSeconds,
    rssBeforeKiB, rssOpenKiB, rssClosedKiB, kibPerSession, activeOpen, activeClosed, errors,
  };
}

export interface FloodRun {
  sessions: number;
  /** From sending the command on every session to the last session's marker. */
  seconds: number;
  /** All sessions' bytes together (file size x sessions) per second. */
  mibPerS: number;
  /** Time of the fastest and the slowest session. */
  firstS: number;
  lastS: number;
  /** CPU seconds of the bridge (all its processes) during the run; null on the direct side. */
  bridgeCpuS: number | null;
  /** The same per bridge process (primary first), to see how the work spread over workers. */
  bridgeCpuByProcessS: number[] | null;
  /** CPU seconds of this benchmark process (the client side) during the run. */
  clientCpuS: number;
}

/**
 * `sessions` sessions `cat` the file at the same moment: open them all (concurrently, to the
 * prompt), send the command on each in one go, wait for every marker.
 */
export async function floods(open: Opener, sessions: number, file: { path: string; size: number }, bridgePid: number | null): Promise<FloodRun> {
  const opened = await Promise.allSettled(Array.from({ length: sessions }, () => open(CONNECT_TIMEOUT_MS)));
  const terms = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new Error(`${sessions - terms.length} of ${sessions} sessions did not open: ${(failed.reason as Error).message}`);
    await Promise.all(terms.map((t) => t.waitQuiet(100, 2000)));
    const line = catLine(file.path);
    const pids = bridgePid === null ? [] : processTree(bridgePid);
    const cpu0 = pids.map(cpuSeconds);
    const self0 = selfCpuSeconds();
    for (const t of terms) t.mark();
    const t0 = performance.now();
    for (const t of terms) t.write(line);
    const limit = 60_000 + ((sessions * file.size) / MiB) * 2000;
    const ends = await Promise.all(terms.map((t) => t.waitFor('__DONE__', limit)));
    const times = ends.map((t) => (t - t0) / 1000);
    const seconds = Math.max(...times);
    const byProcess = pids.map((p, i) => cpuSeconds(p) - (cpu0[i] ?? 0));
    return {
      sessions, seconds, mibPerS: (sessions * file.size) / MiB / seconds,
      firstS: Math.min(...times), lastS: seconds,
      bridgeCpuS: bridgePid === null ? null : byProcess.reduce((a, b) => a + b, 0),
      bridgeCpuByProcessS: bridgePid === null ? null : byProcess,
      clientCpuS: selfCpuSeconds() - self0,
    };
  } finally {
    await Promise.all(terms.map((t) => closeTerm(t)));
  }
}
