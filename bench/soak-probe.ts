/**
 * What the soak reads while it runs, each from its own source of truth: the RSS of the bridge's
 * whole process tree (/proc), the bridge's own session counts (GET /health), and the target's
 * side (the processes of sshd's test account that belong to the soak's sshd). A read that fails
 * gives null, never a guess.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshdHandle } from '../test/helpers/sshd.js';
import { processTree, rssKiB } from './procfs.js';

/** One reading of the bridge and the target. */
export interface Probe {
  /** Sum of VmRSS over the bridge's tree (primary and workers), MiB. */
  readonly rssMiB: number;
  /** Processes in the bridge's tree. */
  readonly processes: number;
  /** VmRSS of each of them, MiB, the primary first: which one grows. */
  readonly rssEachMiB: readonly number[];
  /** `/health` `active_sessions` (the whole gateway under workers), null when unreachable. */
  readonly sessions: number | null;
  /** `/health` `total_sessions`, null when unreachable. */
  readonly totalSessions: number | null;
  /** The test account's processes that are not sshd's own (the login shells and what they run). */
  readonly shells: number;
  /** Every process of the test account under the soak's sshd (shells plus sshd's per-session user side). */
  readonly targetProcs: number;
}

const HEALTH_TIMEOUT_MS = 5000;

async function health(port: number): Promise<{ active: number; total: number } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json()) as { active_sessions?: unknown; total_sessions?: unknown };
    if (typeof body.active_sessions !== 'number' || typeof body.total_sessions !== 'number') return null;
    return { active: body.active_sessions, total: body.total_sessions };
  } catch {
    return null;
  }
}

function comm(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

/** Read the bridge tree (`bridgePid`, listening on `port`) and the target. */
export async function probe(bridgePid: number, port: number, sshd: SshdHandle): Promise<Probe> {
  const tree = processTree(bridgePid);
  const each = tree.map((p) => rssKiB(p) / 1024);
  const rssMiB = each.reduce((sum, x) => sum + x, 0);
  const h = await health(port);
  // sshd's privilege-separated child per session runs as the user too: `sshd` or `sshd-session`.
  const procs = await sshd.userProcesses();
  const shells = procs.filter((p) => !comm(p).startsWith('sshd')).length;
  return { rssMiB, processes: tree.length, rssEachMiB: each.map((x) => Math.round(x * 10) / 10), sessions: h?.active ?? null, totalSessions: h?.total ?? null, shells, targetProcs: procs.length };
}

export interface Settled {
  /** The last reading. */
  readonly probe: Probe;
  /** 0 sessions in /health and 0 target processes were seen. */
  readonly settled: boolean;
  /** Seconds until they were (or until the wait gave up). */
  readonly waitedS: number;
}

const SETTLE_POLL_MS = 500;

/** Poll until the bridge reports 0 sessions and the target has 0 processes of the test account, at most `seconds`. */
export async function settle(bridgePid: number, port: number, sshd: SshdHandle, seconds: number): Promise<Settled> {
  const start = Date.now();
  const polls = Math.max(1, Math.ceil((seconds * 1000) / SETTLE_POLL_MS));
  let last = await probe(bridgePid, port, sshd);
  for (let i = 0; i < polls; i++) {
    if (last.sessions === 0 && last.targetProcs === 0) return { probe: last, settled: true, waitedS: (Date.now() - start) / 1000 };
    if (Date.now() - start >= seconds * 1000) break;
    await sleep(SETTLE_POLL_MS);
    last = await probe(bridgePid, port, sshd);
  }
  const settled = last.sessions === 0 && last.targetProcs === 0;
  return { probe: last, settled, waitedS: (Date.now() - start) / 1000 };
}
