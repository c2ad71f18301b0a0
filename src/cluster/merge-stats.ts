/**
 * Sum the workers' statistics into the gateway's (pure). Slots are not summed: a worker reports
 * none, the primary's ledger counts them (ClusterStats.gate).
 */
import type { ManagerStats } from '../manager/stats.js';

function sumMaps(maps: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export const EMPTY_STATS: ManagerStats = Object.freeze({
  detached: 0, viewers: 0, resumes: 0, total: 0, successful: 0, failed: 0, routes: {}, outcomes: {}, rejections: {}, bytesToSsh: 0, bytesToClient: 0, buffered: 0, bufferedMax: 0,
  pausesSshOutput: 0, pausesClientInput: 0, draining: false,
});

/** `extraOutcomes` adds what no live worker can report (sessions lost with a dead worker). */
export function mergeStats(all: readonly ManagerStats[], extraOutcomes: Readonly<Record<string, number>> = {}): ManagerStats {
  const sum = (f: (s: ManagerStats) => number): number => all.reduce((n, s) => n + f(s), 0);
  return {
    detached: sum((s) => s.detached),
    viewers: sum((s) => s.viewers),
    resumes: sum((s) => s.resumes),
    total: sum((s) => s.total),
    successful: sum((s) => s.successful),
    failed: sum((s) => s.failed),
    routes: sumMaps(all.map((s) => s.routes)),
    outcomes: sumMaps([...all.map((s) => s.outcomes), extraOutcomes]),
    rejections: sumMaps(all.map((s) => s.rejections)),
    bytesToSsh: sum((s) => s.bytesToSsh),
    bytesToClient: sum((s) => s.bytesToClient),
    buffered: sum((s) => s.buffered),
    bufferedMax: Math.max(0, ...all.map((s) => s.bufferedMax)),
    pausesSshOutput: sum((s) => s.pausesSshOutput),
    pausesClientInput: sum((s) => s.pausesClientInput),
    draining: all.some((s) => s.draining),
  };
}
