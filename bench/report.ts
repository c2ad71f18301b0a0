/** Per-round data -> medians, ratios, targets; the printed table and the JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { median, MiB, percentile, round } from './stats.js';
import type { IdleRun, SetupRuns, ThroughputRun } from './workloads.js';

export interface Side<T> { direct: T | null; bridge: T | null }

export interface RoundData {
  round: number;
  throughput: Side<ThroughputRun>;
  echo: Side<number[]>;
  /** Reference C (BENCH_RELAY=1): keystroke echo through the bare relay. */
  relayEcho: number[] | null;
  setup: SetupRuns | null;
  idle: Side<IdleRun>;
}

export function emptyRound(round: number): RoundData {
  return { round, throughput: { direct: null, bridge: null }, echo: { direct: null, bridge: null }, relayEcho: null, setup: null, idle: { direct: null, bridge: null } };
}

/** n, p50, p90, p99, max of a sample (ms). */
export function pct(xs: number[] | null | undefined): Record<string, number> | null {
  return xs && xs.length > 0
    ? { n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: percentile(xs, 100) }
    : null;
}

/** Per-round data for the JSON file: latency samples reduced to percentiles. */
export function roundsForJson(rounds: RoundData[]): unknown[] {
  return rounds.map((rd) => ({
    round: rd.round,
    throughput: rd.throughput,
    echo: { direct: pct(rd.echo.direct), bridge: pct(rd.echo.bridge), relay: pct(rd.relayEcho) },
    setup: rd.setup && { direct: pct(rd.setup.a), bridge: pct(rd.setup.b), failuresDirect: rd.setup.failuresA, failuresBridge: rd.setup.failuresB },
    idle: rd.idle,
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
  target?: string;
  pass?: boolean;
}

const finite = (xs: Array<number | null | undefined>): number[] => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
const med = (xs: Array<number | null | undefined>): number | null => { const f = finite(xs); return f.length === 0 ? null : median(f); };
const sum = (xs: Array<number | null | undefined>): number => finite(xs).reduce((a, b) => a + b, 0);

function row(metric: string, direct: number | null, bridge: number | null, compare: Row['compare'], target?: { text: string; ok: (r: Row) => boolean }): Row {
  const vs = direct === null || bridge === null ? null : compare === 'ratio' ? bridge / direct : compare === 'delta' ? bridge - direct : null;
  const digits = /failures|left/.test(metric) ? 0 : / s$/.test(metric) ? 2 : /MiB\/s|KiB|RSS MiB|connect/.test(metric) ? 1 : 3;
  const r: Row = { metric, direct, bridge, compare, vs, digits };
  if (target) {
    r.target = target.text;
    r.pass = r.vs !== null || compare === 'none' ? target.ok(r) : false;
  }
  return r;
}

/** Medians over rounds (per-round percentiles first for echo and setup). */
export function summarize(rounds: RoundData[], fileBytes: number): Row[] {
  const fileMiB = fileBytes / MiB;
  const tp = (s: keyof Side<ThroughputRun>): Array<ThroughputRun | null> => rounds.map((r) => r.throughput[s]);
  const echoP = (s: keyof Side<number[]>, p: number): Array<number | null> => rounds.map((r) => { const e = r.echo[s]; return e && e.length > 0 ? percentile(e, p) : null; });
  const setupP = (s: 'a' | 'b'): Array<number | null> => rounds.map((r) => (r.setup && r.setup[s].length > 0 ? percentile(r.setup[s], 50) : null));
  const idle = (s: keyof Side<IdleRun>): IdleRun[] => rounds.map((r) => r.idle[s]).filter((x): x is IdleRun => x !== null);
  const idleD = idle('direct');
  const idleB = idle('bridge');
  const n = idleB[0]?.requested ?? idleD[0]?.requested ?? 0;
  return [
    row('throughput MiB/s', med(tp('direct').map((t) => t?.mibPerS)), med(tp('bridge').map((t) => t?.mibPerS)), 'ratio',
      { text: '>= 0.95x', ok: (r) => (r.vs ?? 0) >= 0.95 }),
    row('CPU ms/MiB (A: client ssh2, B: bridge)', med(tp('direct').map((t) => (t ? (t.clientCpuS * 1000) / fileMiB : null))),
      med(tp('bridge').map((t) => (t ? (t.bridgeCpuS * 1000) / fileMiB : null))), 'ratio'),
    row('echo p50 ms', med(echoP('direct', 50)), med(echoP('bridge', 50)), 'delta',
      { text: '<= +0.15 ms', ok: (r) => (r.vs ?? Infinity) <= 0.15 }),
    row('echo p99 ms', med(echoP('direct', 99)), med(echoP('bridge', 99)), 'delta',
      { text: 'B <= 2 ms', ok: (r) => (r.bridge ?? Infinity) <= 2 }),
    row('connect to prompt p50 ms', med(setupP('a')), med(setupP('b')), 'ratio'),
    row(`open ${n} idle sessions s`, med(idleD.map((i) => i.openSeconds)), med(idleB.map((i) => i.openSeconds)), 'ratio'),
    row('  open failures (sum of rounds)', sum(idleD.map((i) => i.failures)), sum(idleB.map((i) => i.failures)), 'none',
      { text: '0', ok: (r) => r.direct === 0 && r.bridge === 0 }),
    row('  echo check failures (sum)', sum(idleD.map((i) => i.echoFailures)), sum(idleB.map((i) => i.echoFailures)), 'none',
      { text: '0', ok: (r) => r.direct === 0 && r.bridge === 0 }),
    row('  bridge sessions left after close (max)', null, idleB.length === 0 ? null : Math.max(...idleB.map((i) => i.activeClosed ?? NaN)), 'none',
      { text: '0', ok: (r) => r.bridge === 0 }),
    row('  bridge RSS KiB per idle session', null, med(idleB.map((i) => i.kibPerSession)), 'none', { text: 'reported', ok: (r) => r.bridge !== null }),
    row('  bridge RSS MiB before opening', null, med(idleB.map((i) => (i.rssBeforeKiB ?? NaN) / 1024)), 'none'),
    row(`  bridge RSS MiB with ${n} open`, null, med(idleB.map((i) => (i.rssOpenKiB ?? NaN) / 1024)), 'none'),
    row('  bridge RSS MiB after closing', null, med(idleB.map((i) => (i.rssClosedKiB ?? NaN) / 1024)), 'none'),
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
    r.target ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
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
