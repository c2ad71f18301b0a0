/**
 * Pure part of bench/tail.ts: line up the client's send/arrival times of each keystroke with the
 * bridge's trace (bench/tail-tracer.ts) and split each round trip into hops:
 *
 * - **in**: client send -> the bridge hands the byte to the SSH channel (client ws write, kernel,
 *   bridge wake-up, ws parse, codec);
 * - **ssh**: the bridge's channel write -> the echo's chunk back from the channel (ssh2 encrypt,
 *   sshd, the shell, sshd, ssh2 decrypt): what a direct client pays for its whole round trip;
 * - **proc**: that chunk -> back from handing it to the WebSocket (the pump, taps, batcher, ws
 *   framing, and the socket write system call itself);
 * - **out**: back from that call -> the client's data handler (kernel, client wake-up, ws parse).
 *   It is negative when the client ran before the bridge returned from its write (the write woke
 *   the client, which took the bridge's core): the four still add up to the round trip.
 *
 * All times are ms on one monotonic clock shared by every process of the machine.
 */
import { percentile } from './stats.js';

/** Event kinds in a trace file of bench/tail-tracer.ts. */
export const KIND = { input: 1, output: 2, sent: 3, gc: 4 } as const;

export const HOPS = ['in', 'ssh', 'proc', 'out'] as const;
export type Hop = typeof HOPS[number];

export interface Sample { readonly sent: number; readonly back: number }
export interface Pause { readonly start: number; readonly ms: number }
export interface Trace {
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly sent: readonly number[];
  readonly gc: readonly Pause[];
}

export interface Split {
  readonly rtt: number;
  readonly hops: Readonly<Record<Hop, number>>;
  /** GC pause time overlapping the round trip, ms: in the bridge and in the client. */
  readonly bridgeGc: number;
  readonly clientGc: number;
}

/** The first index of ascending `xs` whose value is >= t (xs.length when none). */
function firstAtOrAfter(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] ?? Infinity) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const overlap = (pauses: readonly Pause[], a: number, b: number): number =>
  pauses.reduce((sum, p) => sum + Math.max(0, Math.min(b, p.start + p.ms) - Math.max(a, p.start)), 0);

/**
 * Split each sample; a sample whose input and output events are not in the trace inside its
 * round trip (the trace is full, or the keystroke was not traced) is left out and counted in
 * `unmatched`.
 */
export function splitSamples(samples: readonly Sample[], trace: Trace, clientGc: readonly Pause[]): { splits: Split[]; unmatched: number } {
  const splits: Split[] = [];
  let unmatched = 0;
  for (const s of samples) {
    const i = trace.input[firstAtOrAfter(trace.input, s.sent)];
    const o = i === undefined ? undefined : trace.output[firstAtOrAfter(trace.output, i)];
    const w = o === undefined ? undefined : trace.sent[firstAtOrAfter(trace.sent, o)];
    if (i === undefined || o === undefined || w === undefined || i > s.back || o > s.back) {
      unmatched++;
      continue;
    }
    splits.push({
      rtt: s.back - s.sent,
      hops: { in: i - s.sent, ssh: o - i, proc: w - o, out: s.back - w },
      bridgeGc: overlap(trace.gc, s.sent, s.back),
      clientGc: overlap(clientGc, s.sent, s.back),
    });
  }
  return { splits, unmatched };
}

export interface Quantiles { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number }

export const quantiles = (xs: readonly number[]): Quantiles =>
  ({ p50: percentile(xs, 50), p99: percentile(xs, 99), p999: percentile(xs, 99.9), max: percentile(xs, 100) });

export interface TailReport {
  readonly rtt: Quantiles;
  readonly hops: Readonly<Record<Hop, Quantiles>>;
  /** The slowest 1% of round trips (at least one). */
  readonly slow: {
    readonly n: number;
    /** How many of them had each hop as their largest part. */
    readonly largestHop: Readonly<Record<Hop, number>>;
    /** Mean of each hop over them, ms. */
    readonly meanHop: Readonly<Record<Hop, number>>;
    /** How many overlapped a GC pause of at least 0.1 ms, in the bridge and in the client. */
    readonly withBridgeGc: number;
    readonly withClientGc: number;
  };
}

export function tailReport(splits: readonly Split[]): TailReport | null {
  if (splits.length === 0) return null;
  const by = (hop: Hop): number[] => splits.map((s) => s.hops[hop]);
  const record = <T>(f: (hop: Hop) => T): Record<Hop, T> => ({ in: f('in'), ssh: f('ssh'), proc: f('proc'), out: f('out') });
  const slow = [...splits].sort((a, b) => b.rtt - a.rtt).slice(0, Math.max(1, Math.ceil(splits.length / 100)));
  const largest = (s: Split): Hop => HOPS.reduce((best, h) => (s.hops[h] > s.hops[best] ? h : best), HOPS[0] as Hop);
  return {
    rtt: quantiles(splits.map((s) => s.rtt)),
    hops: record((h) => quantiles(by(h))),
    slow: {
      n: slow.length,
      largestHop: record((h) => slow.filter((s) => largest(s) === h).length),
      meanHop: record((h) => slow.reduce((sum, s) => sum + s.hops[h], 0) / slow.length),
      withBridgeGc: slow.filter((s) => s.bridgeGc >= 0.1).length,
      withClientGc: slow.filter((s) => s.clientGc >= 0.1).length,
    },
  };
}
