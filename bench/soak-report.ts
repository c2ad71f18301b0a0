/**
 * The soak's judgement and its table, pure: values in, verdict and text out. Each check returns
 * its reason in words, so the exit code and the printed "why" come from the same place.
 */
import type { Probe } from './soak-probe.js';
import { percentile, round } from './stats.js';

/** A row of the churn table: a reading plus the clients' counts at that moment. */
export interface ChurnSample extends Probe {
  readonly elapsedS: number;
  /** `churn` while the clients run, `end` just after they stopped, `settled` after the settle wait. */
  readonly phase: 'churn' | 'end' | 'settled';
  readonly done: number;
  readonly failed: number;
  readonly refused: number;
}

export interface BandCheck {
  readonly applicable: boolean;
  /** Why not, when not applicable. */
  readonly note: string | null;
  readonly fromS: number;
  readonly samples: number;
  readonly minMiB: number | null;
  readonly maxMiB: number | null;
  readonly bandMiB: number | null;
  readonly limitMiB: number;
  readonly ok: boolean;
}

/** Max-min of the RSS over the churn samples from `steadyAfterS` on (the settled row is after the load and not counted). */
export function rssBand(samples: readonly ChurnSample[], churnS: number, steadyAfterS: number, limitMiB: number): BandCheck {
  const base = { fromS: steadyAfterS, limitMiB };
  if (churnS <= steadyAfterS) {
    return { ...base, applicable: false, note: `not applicable: the churn (${churnS} s) is not longer than the steady point (${steadyAfterS} s)`, samples: 0, minMiB: null, maxMiB: null, bandMiB: null, ok: true };
  }
  const rss = samples.filter((s) => s.phase !== 'settled' && s.elapsedS >= steadyAfterS).map((s) => s.rssMiB);
  if (rss.length < 2) {
    return { ...base, applicable: false, note: `not applicable: ${rss.length} sample(s) from ${steadyAfterS} s on; lower --sample-seconds`, samples: rss.length, minMiB: null, maxMiB: null, bandMiB: null, ok: true };
  }
  const min = Math.min(...rss);
  const max = Math.max(...rss);
  return { ...base, applicable: true, note: null, samples: rss.length, minMiB: round(min, 1), maxMiB: round(max, 1), bandMiB: round(max - min, 1), ok: max - min <= limitMiB };
}

/** Spread of a list of milliseconds, for the JSON. */
export function spread(ms: readonly number[]): { n: number; p50: number | null; p99: number | null; max: number | null } {
  return { n: ms.length, p50: round(percentile(ms, 50), 1), p99: round(percentile(ms, 99), 1), max: ms.length === 0 ? null : round(Math.max(...ms), 1) };
}

export interface ChurnFacts {
  readonly done: number;
  readonly failed: number;
  readonly firstFailures: readonly string[];
  readonly settled: boolean;
  readonly settleWaitS: number;
  readonly final: Probe;
  readonly band: BandCheck;
}

/** Why the churn failed; empty when it passed. */
export function churnReasons(f: ChurnFacts): string[] {
  const why: string[] = [];
  if (f.done === 0) why.push('no session completed');
  if (f.failed > 0) why.push(`${f.failed} session(s) failed; first: ${f.firstFailures[0] ?? '?'}`);
  if (!f.settled) {
    why.push(`not settled after ${f.settleWaitS.toFixed(1)} s: ${f.final.sessions ?? 'unknown (no /health)'} sessions in /health, ${f.final.shells} shells, ${f.final.targetProcs} target processes`);
  }
  if (f.band.applicable && !f.band.ok) {
    why.push(`RSS band ${f.band.bandMiB} MiB (${f.band.minMiB}..${f.band.maxMiB}) from ${f.band.fromS} s on exceeds ${f.band.limitMiB} MiB`);
  }
  return why;
}

const cell = (x: number | string | null, width: number): string => String(x ?? '-').padStart(width);

/** One row per sample. */
export function churnTable(samples: readonly ChurnSample[]): string {
  const head = ['elapsed s', 'phase', 'RSS MiB', 'procs', 'sessions', 'shells', 'done', 'failures', 'refused'];
  const w = head.map((h) => Math.max(h.length, 7));
  const line = (cols: (number | string | null)[]): string => cols.map((c, i) => cell(c, w[i] ?? 7)).join('  ');
  return [line(head), ...samples.map((s) => line([s.elapsedS.toFixed(0), s.phase, s.rssMiB.toFixed(1), s.processes, s.sessions, s.shells, s.done, s.failed, s.refused]))].join('\n');
}

/** A row of the storm table: the reading after a round (round 0: before the first). */
export interface StormRow {
  readonly round: number;
  readonly upgrades: number;
  readonly seconds: number;
  readonly byOutcome: Record<string, number>;
  readonly rssMiB: number;
  readonly rssEachMiB: readonly number[];
  readonly processes: number;
  readonly sessions: number | null;
}

/** The one outcome every storm upgrade must have. */
export const STORM_EXPECTED = 'close 1013 LIMIT_PER_TARGET';

export function stormTable(rows: readonly StormRow[]): string {
  const head = ['round', 'upgrades', 'seconds', 'refusals/s', 'expected', 'other', 'RSS MiB', 'procs', 'sessions'];
  const w = head.map((h) => Math.max(h.length, 7));
  const line = (cols: (number | string | null)[]): string => cols.map((c, i) => cell(c, w[i] ?? 7)).join('  ');
  return [line(head), ...rows.map((r) => {
    const expected = r.byOutcome[STORM_EXPECTED] ?? 0;
    const rate = r.seconds > 0 ? (expected / r.seconds).toFixed(0) : '-';
    return line([r.round, r.upgrades, r.seconds.toFixed(1), rate, expected, r.upgrades - expected, r.rssMiB.toFixed(1), r.processes, r.sessions]);
  })].join('\n');
}

export interface StormFacts {
  readonly rows: readonly StormRow[];
  readonly heldAlive: boolean;
  readonly heldDetail: string;
  readonly settled: boolean;
  readonly settleWaitS: number;
  readonly final: Probe;
}

/** Why the storm failed; empty when it passed. */
export function stormReasons(f: StormFacts, expectedUpgrades: number): string[] {
  const why: string[] = [];
  const counted = f.rows.reduce((sum, r) => sum + r.upgrades, 0);
  if (counted !== expectedUpgrades) why.push(`${counted} of ${expectedUpgrades} upgrades were sent within the round time limit`);
  const other: Record<string, number> = {};
  for (const r of f.rows) for (const [k, v] of Object.entries(r.byOutcome)) if (k !== STORM_EXPECTED) other[k] = (other[k] ?? 0) + v;
  if (Object.keys(other).length > 0) why.push(`upgrades not refused as ${STORM_EXPECTED}: ${JSON.stringify(other)}`);
  if (!f.heldAlive) why.push(`the held session did not survive the storm: ${f.heldDetail}`);
  if (!f.settled) why.push(`not settled after ${f.settleWaitS.toFixed(1)} s: ${f.final.sessions ?? 'unknown (no /health)'} sessions in /health, ${f.final.targetProcs} target processes`);
  return why;
}
