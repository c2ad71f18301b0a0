/** Per-round data -> medians, ratios, targets; the printed table and the JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ViewerOutcome } from './bridge-client.js';
import { median, MiB, percentile, round } from './stats.js';
import type { SlowRun } from './slow-reader.js';
import type { FloodRun, IdleRun, SetupRuns, ThroughputRun } from './workloads.js';

export interface Side<T> { direct: T | null; bridge: T | null }

/** B+viewer: the throughput workload on a shared session whose one viewer stopped reading. */
export interface ViewerRun {
  throughput: ThroughputRun;
  viewer: ViewerOutcome | null;
  /** Why the bridge says the viewer left (its `viewer_left` log line), when found. */
  bridgeCode: string | null;
}

export interface RoundData {
  round: number;
  throughput: Side<ThroughputRun>;
  /** B+viewer, run right after B's throughput (null: failed or BENCH_VIEWER=0). */
  viewer: ViewerRun | null;
  echo: Side<number[]>;
  /** Reference C (BENCH_RELAY=1): keystroke echo through the bare relay. */
  relayEcho: number[] | null;
  setup: SetupRuns | null;
  idle: Side<IdleRun>;
  /** Concurrent floods: A, the bridge as one process (`--workers 1`), and with `--workers 2`. */
  floods: { direct: FloodRun | null; w1: FloodRun | null; w2: FloodRun | null };
  /** Slow reader, bridge only: one session, and `slowSessions` at once (each on a fresh bridge). */
  slow: { one: SlowRun | null; many: SlowRun | null };
}

export function emptyRound(round: number): RoundData {
  return {
    round, throughput: { direct: null, bridge: null }, viewer: null, echo: { direct: null, bridge: null }, relayEcho: null, setup: null,
    idle: { direct: null, bridge: null }, floods: { direct: null, w1: null, w2: null }, slow: { one: null, many: null },
  };
}

/** n, p50, p90, p99, max of a sample (ms). */
export function pct(xs: number[] | null | undefined): Record<string, number> | null {
  return xs && xs.length > 0
    ? { n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), p999: percentile(xs, 99.9), max: percentile(xs, 100) }
    : null;
}

/** Per-round data for the JSON file: latency samples reduced to percentiles. */
export function roundsForJson(rounds: RoundData[]): unknown[] {
  return rounds.map((rd) => ({
    round: rd.round,
    throughput: rd.throughput,
    viewer: rd.viewer,
    echo: { direct: pct(rd.echo.direct), bridge: pct(rd.echo.bridge), relay: pct(rd.relayEcho) },
    setup: rd.setup && { direct: pct(rd.setup.a), bridge: pct(rd.setup.b), failuresDirect: rd.setup.failuresA, failuresBridge: rd.setup.failuresB },
    idle: rd.idle,
    floods: rd.floods,
    slow: rd.slow,
  }));
}

/** The reference line for side C, or null when the relay did not run. */
export function relayLine(rounds: RoundData[]): string | null {
  const p50 = med(rounds.map((r) => (r.relayEcho && r.relayEcho.length > 0 ? percentile(r.relayEcho, 50) : null)));
  const p99 = med(rounds.map((r) => (r.relayEcho && r.relayEcho.length > 0 ? percentile(r.relayEcho, 99) : null)));
  const a50 = med(rounds.map((r) => (r.echo.direct && r.echo.direct.length > 0 ? percentile(r.echo.direct, 50) : null)));
  if (p50 === null) return null;
  const delta = a50 === null ? '' : ` (${p50 - a50 >= 0 ? '+' : ''}${(p50 - a50).toFixed(3)} ms vs A)`;
  return `reference C, bare ws<->ssh2 relay process: echo p50 ${p50.toFixed(3)} ms${delta}, p99 ${fmt(p99, 3)} ms`;
}

export interface Row {
  metric: string;
  direct: number | null;
  bridge: number | null;
  /** Bridge relative to direct: a ratio or a difference, per `compare`. */
  compare: 'ratio' | 'delta' | 'none';
  vs: number | null;
  /** Decimals when printed. */
  digits: number;
  /** Shown in the target column instead of a pass/fail, e.g. why a row is empty. */
  note?: string;
  target?: string;
  pass?: boolean;
}

const finite = (xs: Array<number | null | undefined>): number[] => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
const med = (xs: Array<number | null | undefined>): number | null => { const f = finite(xs); return f.length === 0 ? null : median(f); };
const sum = (xs: Array<number | null | undefined>): number => finite(xs).reduce((a, b) => a + b, 0);

/** The largest of the values that were measured (a failed /health probe under load gives null), or null. */
function maxKnown(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}

function row(metric: string, direct: number | null, bridge: number | null, compare: Row['compare'], target?: { text: string; ok: (r: Row) => boolean }, digitsOverride?: number): Row {
  const vs = direct === null || bridge === null ? null : compare === 'ratio' ? bridge / direct : compare === 'delta' ? bridge - direct : null;
  const digits = digitsOverride ?? (/failures|left|alive|closed/.test(metric) ? 0 : / s$/.test(metric) ? 2 : /MiB\/s|KiB|RSS MiB|connect|ms\/MiB/.test(metric) ? 1 : 3);
  const r: Row = { metric, direct, bridge, compare, vs, digits };
  if (target) {
    r.target = target.text;
    r.pass = r.vs !== null || compare === 'none' ? target.ok(r) : false;
  }
  return r;
}

export interface SummaryContext {
  fileBytes: number;
  /** Does the bridge have `--workers`? Without it the 2-worker rows stay empty (pending). */
  workersFlag: boolean;
  floodSessions: number;
  slowSessions: number;
  slowRateBytesPerS: number;
  slowSeconds: number;
  /** The bridge's SSH window, KiB (null: unknown); the slow-reader goal is 1 MiB plus one window. */
  sshWindowKiB?: number | null;
  /** `--workers` of the idle-session bridge (null: flag unsupported, one process). */
  idleWorkers: number | null;
  /** Did the B+viewer workload run (BENCH_VIEWER)? */
  viewer: boolean;
}

/**
 * What one more slow session costs: the RSS growth with many slow sessions less the growth with
 * one, per extra session. This removes the part that does not scale with sessions (V8's heap
 * growing once under the allocation rate of any flood).
 */
export function marginalKiB(one: SlowRun, many: SlowRun, at: 'peak' | 'end' = 'peak'): number | null {
  const g = (r: SlowRun): number => (at === 'peak' ? r.peakGrowthKiB : r.endKiB - r.baselineKiB);
  return many.sessions > one.sessions ? (g(many) - g(one)) / (many.sessions - one.sessions) : null;
}

/** Medians over rounds (per-round percentiles first for echo and setup). */
export function summarize(rounds: RoundData[], ctx: SummaryContext): Row[] {
  const fileMiB = ctx.fileBytes / MiB;
  const tp = (s: keyof Side<ThroughputRun>): Array<ThroughputRun | null> => rounds.map((r) => r.throughput[s]);
  const echoP = (s: keyof Side<number[]>, p: number): Array<number | null> => rounds.map((r) => { const e = r.echo[s]; return e && e.length > 0 ? percentile(e, p) : null; });
  const setupP = (s: 'a' | 'b'): Array<number | null> => rounds.map((r) => (r.setup && r.setup[s].length > 0 ? percentile(r.setup[s], 50) : null));
  const idle = (s: keyof Side<IdleRun>): IdleRun[] => rounds.map((r) => r.idle[s]).filter((x): x is IdleRun => x !== null);
  const idleD = idle('direct');
  const idleB = idle('bridge');
  const n = idleB[0]?.requested ?? idleD[0]?.requested ?? 0;
  const fl = (s: 'direct' | 'w1' | 'w2'): Array<FloodRun | null> => rounds.map((r) => r.floods[s]);
  const floodMiB = ctx.floodSessions * fileMiB;
  const flCpu = (s: 'direct' | 'w1' | 'w2'): number | null => med(fl(s).map((f) => {
    if (f === null) return null;
    const cpu = s === 'direct' ? f.clientCpuS : f.bridgeCpuS;
    return cpu === null ? null : (cpu * 1000) / floodMiB;
  }));
  const gain = med(rounds.map((r) => (r.floods.w1 && r.floods.w2 ? r.floods.w2.mibPerS / r.floods.w1.mibPerS : null)));
  const slowOne = rounds.map((r) => r.slow.one).filter((x): x is SlowRun => x !== null);
  const slowMany = rounds.map((r) => r.slow.many).filter((x): x is SlowRun => x !== null);
  const marginal = med(rounds.map((r) => (r.slow.one && r.slow.many ? marginalKiB(r.slow.one, r.slow.many) : null)));
  const marginalEnd = med(rounds.map((r) => (r.slow.one && r.slow.many ? marginalKiB(r.slow.one, r.slow.many, 'end') : null)));
  const rate = Math.round(ctx.slowRateBytesPerS / 1024);
  // The pump's bound (src/session/pump.ts): HIGH_WATER (1 MiB), the SSH window, and the one
  // chunk (at most an SSH packet, 32 KiB) that crossed HIGH_WATER.
  const slowGoalKiB = 1024 + (ctx.sshWindowKiB ?? 0) + 32;
  const vr = rounds.map((r) => r.viewer).filter((x): x is ViewerRun => x !== null);
  const joined = vr.filter((x) => x.viewer !== null).length;
  const codes = [...new Set(vr.map((x) => `${x.viewer?.closeCode ?? '-'}${x.bridgeCode === null ? '' : ` ${x.bridgeCode}`}`))].join(', ');
  const viewerRows = ctx.viewer ? [
    row('throughput with a stalled viewer MiB/s (B+viewer)', med(tp('direct').map((t) => t?.mibPerS)), med(vr.map((x) => x.throughput.mibPerS)), 'ratio'),
    row('  B+viewer / B of the same round x', null, med(rounds.map((r) => (r.viewer && r.throughput.bridge ? r.viewer.throughput.mibPerS / r.throughput.bridge.mibPerS : null))), 'none',
      { text: 'reported', ok: (r) => r.bridge !== null }, 3),
    row('  bridge CPU ms/MiB with the viewer', null, med(vr.map((x) => (x.throughput.bridgeCpuS * 1000) / fileMiB)), 'none'),
    row(`  stalled viewers dropped by the bridge (sum; ${joined} joined; close ${codes || '-'})`, null, sum(vr.map((x) => (x.viewer?.droppedByBridge ? 1 : 0))), 'none',
      { text: 'all joined', ok: (r) => joined > 0 && r.bridge === joined }, 0),
  ] : [];
  const pending = (r: Row): Row => (ctx.workersFlag ? r : { ...r, note: 'pending: bridge has no --workers' });
  return [
    row('throughput MiB/s', med(tp('direct').map((t) => t?.mibPerS)), med(tp('bridge').map((t) => t?.mibPerS)), 'ratio',
      { text: '>= 0.95x', ok: (r) => (r.vs ?? 0) >= 0.95 }),
    row('CPU ms/MiB (A: client ssh2, B: bridge)', med(tp('direct').map((t) => (t ? (t.clientCpuS * 1000) / fileMiB : null))),
      med(tp('bridge').map((t) => (t ? (t.bridgeCpuS * 1000) / fileMiB : null))), 'ratio'),
    row('output chunks per MiB (A: SSH data events, B: WS frames)', med(tp('direct').map((t) => (t ? t.chunks / (t.bytesOut / MiB) : null))),
      med(tp('bridge').map((t) => (t ? t.chunks / (t.bytesOut / MiB) : null))), 'ratio', undefined, 0),
    ...viewerRows,
    row('echo p50 ms', med(echoP('direct', 50)), med(echoP('bridge', 50)), 'delta',
      { text: '<= +0.15 ms', ok: (r) => (r.vs ?? Infinity) <= 0.15 }),
    row('echo p99 ms', med(echoP('direct', 99)), med(echoP('bridge', 99)), 'delta',
      { text: 'B <= 2 ms', ok: (r) => (r.bridge ?? Infinity) <= 2 }),
    row('echo p99.9 ms', med(echoP('direct', 99.9)), med(echoP('bridge', 99.9)), 'delta', { text: 'reported', ok: (r) => r.bridge !== null }),
    row('connect to prompt p50 ms', med(setupP('a')), med(setupP('b')), 'ratio',
      { text: '<= 1.05x', ok: (r) => (r.vs ?? Infinity) <= 1.05 }),
    row(`open ${n} idle sessions s${(ctx.idleWorkers ?? 1) > 1 ? ` (B: --workers ${ctx.idleWorkers}, RSS summed)` : ''}`, med(idleD.map((i) => i.openSeconds)), med(idleB.map((i) => i.openSeconds)), 'ratio'),
    row('  open failures (sum of rounds)', sum(idleD.map((i) => i.failures)), sum(idleB.map((i) => i.failures)), 'none',
      { text: '0', ok: (r) => r.direct === 0 && r.bridge === 0 }),
    row('  echo check failures (sum)', sum(idleD.map((i) => i.echoFailures)), sum(idleB.map((i) => i.echoFailures)), 'none',
      { text: '0', ok: (r) => r.direct === 0 && r.bridge === 0 }),
    row('  bridge sessions left after close (max; waits <= 30 s)', null, maxKnown(idleB.map((i) => i.activeClosed)), 'none',
      { text: '0', ok: (r) => r.bridge === 0 }),
    row('  close all, until the bridge counts 0 s', med(idleD.map((i) => i.closeSeconds)), med(idleB.map((i) => i.drainSeconds)), 'ratio'),
    row('  bridge RSS KiB per idle session', null, med(idleB.map((i) => i.kibPerSession)), 'none',
      { text: '<= 64 KiB', ok: (r) => (r.bridge ?? Infinity) <= 64 }),
    row('  bridge RSS MiB before opening', null, med(idleB.map((i) => (i.rssBeforeKiB ?? NaN) / 1024)), 'none'),
    row(`  bridge RSS MiB with ${n} open`, null, med(idleB.map((i) => (i.rssOpenKiB ?? NaN) / 1024)), 'none'),
    row('  bridge RSS MiB after closing', null, med(idleB.map((i) => (i.rssClosedKiB ?? NaN) / 1024)), 'none'),
    row(`slow reader at ${rate} KiB/s, ${ctx.slowSeconds} s: 1 session, peak RSS growth KiB`, null, med(slowOne.map((x) => x.peakGrowthKiB)), 'none'),
    row(`  ${ctx.slowSessions} sessions at once, peak RSS growth MiB`, null, med(slowMany.map((x) => x.peakGrowthKiB / 1024)), 'none', undefined, 2),
    row(`  held per slow session KiB, the bridge's own count (/stats buffered, peak max_session)`, null, med(slowMany.map((x) => x.heldMaxSessionKiB)), 'none',
      { text: `<= ${slowGoalKiB} KiB (1 MiB + window + packet)`, ok: (r) => (r.bridge ?? Infinity) <= slowGoalKiB }),
    row(`  RSS growth per extra slow session KiB (growth ${ctx.slowSessions} - growth 1) / ${ctx.slowSessions - 1}`, null, marginal, 'none'),
    row('  the same at the end of the window KiB', null, marginalEnd, 'none'),
    row(`  ${ctx.slowSessions} sessions: peak growth / sessions KiB`, null, med(slowMany.map((x) => x.peakGrowthPerSessionKiB)), 'none'),
    row('  client read rate KiB/s per session', null, med([...slowOne, ...slowMany].map((x) => x.readKiBPerSPerSession)), 'none'),
    row('  slow sessions closed by the bridge (sum)', null, sum([...slowOne, ...slowMany].map((x) => x.sessions - x.alive)), 'none',
      { text: '0', ok: (r) => r.bridge === 0 }),
    row(`${ctx.floodSessions} concurrent floods MiB/s (B: --workers 1)`, med(fl('direct').map((f) => f?.mibPerS)), med(fl('w1').map((f) => f?.mibPerS)), 'ratio'),
    row('  CPU ms/MiB (A: client ssh2, B: bridge, 1 worker)', flCpu('direct'), flCpu('w1'), 'ratio'),
    pending(row(`${ctx.floodSessions} concurrent floods MiB/s (B: --workers 2)`, med(fl('direct').map((f) => f?.mibPerS)), med(fl('w2').map((f) => f?.mibPerS)), 'ratio')),
    pending(row('  CPU ms/MiB (B: bridge, 2 workers, all processes)', flCpu('direct'), flCpu('w2'), 'ratio')),
    pending(row('  2-worker gain (B workers 2 / B workers 1) x', null, gain, 'none', { text: 'reported', ok: (r) => r.bridge !== null }, 3)),
  ];
}

function fmt(x: number | null, digits = 2): string {
  if (x === null || !Number.isFinite(x)) return '-';
  return x.toFixed(Math.abs(x) >= 1000 ? 0 : digits);
}

/** Fixed-width table; `(A)` = direct ssh2 client, `(B)` = through the bridge. */
export function formatTable(rows: Row[]): string {
  const head = ['metric', 'direct (A)', 'bridge (B)', 'B vs A', 'target', ''];
  const body = rows.map((r) => [
    r.metric, fmt(r.direct, r.digits), fmt(r.bridge, r.digits),
    r.vs === null ? '' : r.compare === 'ratio' ? `${fmt(r.vs, 3)}x` : `${r.vs >= 0 ? '+' : ''}${fmt(r.vs, 3)} ms`,
    r.note ?? r.target ?? '', r.note !== undefined || r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Round numbers in the per-round data so the JSON stays readable. */
function tidy(value: unknown): unknown {
  if (typeof value === 'number') return round(value, 4);
  if (Array.isArray(value)) return value.map(tidy);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)]));
  return value;
}

export function writeJson(path: string, data: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(tidy(data), null, 2) + '\n');
}
