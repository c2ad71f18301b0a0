/**
 * The churn: `clients` loops, each running one session after another until the deadline (ending
 * them by `exit`, client close and cut, in turn), and a sampler reading the bridge and the target
 * every `sampleSeconds`. Bounded in time: no session starts after the deadline and each one
 * settles within its step timeouts, so the clients are done at most CHURN_TAIL_S after it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SshdHandle } from '../test/helpers/sshd.js';
import type { BridgeProc } from './bridge-proc.js';
import { churnSession, ENDINGS, type Ending } from './soak-client.js';
import type { SoakOptions } from './soak-options.js';
import { probe, settle, type Probe } from './soak-probe.js';
import { churnReasons, rssBand, spread, type BandCheck, type ChurnSample } from './soak-report.js';
import type { Target } from './term.js';

/** Longest a session can take past the deadline (login 30 s + echo 10 s + end 10 s, and slack). */
export const CHURN_TAIL_S = 60;
/** Pause after a refusal or a failure before the client tries again, so a broken bridge is not hammered. */
const RETRY_PAUSE_MS = 250;
/** Failure texts kept for the report. */
const KEEP_FAILURES = 20;

export interface ChurnResult {
  readonly samples: readonly ChurnSample[];
  readonly churnSeconds: number;
  readonly totals: Record<string, unknown>;
  readonly band: BandCheck;
  readonly settle: { readonly settled: boolean; readonly waitedS: number };
  readonly reasons: readonly string[];
}

class Tally {
  done = 0;
  failed = 0;
  refused = 0;
  readonly refusedBy: Record<string, number> = {};
  /** Refusals by how the same client's previous session ended: which ending leaves its slot taken longest. */
  readonly refusedAfter: Record<string, number> = {};
  readonly failures: string[] = [];
  readonly loginMs: number[] = [];
  readonly byEnding: Record<Ending, { done: number; failed: number; endMs: number[] }> = {
    exit: { done: 0, failed: 0, endMs: [] }, close: { done: 0, failed: 0, endMs: [] }, cut: { done: 0, failed: 0, endMs: [] },
  };
}

export async function runChurn(opts: SoakOptions, bridge: BridgeProc, sshd: SshdHandle, target: Target, log: (m: string) => void): Promise<ChurnResult> {
  const t = new Tally();
  const start = Date.now();
  const deadline = start + opts.minutes * 60_000;
  const elapsed = (): number => (Date.now() - start) / 1000;
  const samples: ChurnSample[] = [];
  const take = async (phase: ChurnSample['phase'], reading?: Probe): Promise<void> => {
    const p = reading ?? await probe(bridge.pid, bridge.port, sshd);
    const s: ChurnSample = { ...p, elapsedS: elapsed(), phase, done: t.done, failed: t.failed, refused: t.refused };
    samples.push(s);
    log(`${s.elapsedS.toFixed(0)} s ${phase}: RSS ${s.rssMiB.toFixed(1)} MiB, ${s.sessions ?? '?'} sessions, ${s.shells} shells, ${s.done} done, ${s.failed} failed, ${s.refused} refused`);
  };

  let next = 0;
  const client = async (): Promise<void> => {
    let last = 'none';
    while (Date.now() < deadline) {
      const n = next++;
      const how = ENDINGS[n % ENDINGS.length] ?? 'exit';
      const o = await churnSession(bridge.port, target, n, how);
      const previous = last;
      last = o.kind === 'done' ? how : o.kind;
      if (o.kind === 'done') {
        t.done++;
        t.loginMs.push(o.loginMs);
        t.byEnding[how].done++;
        t.byEnding[how].endMs.push(o.endMs);
        continue;
      }
      if (o.kind === 'refused') {
        t.refused++;
        t.refusedBy[o.code] = (t.refusedBy[o.code] ?? 0) + 1;
        t.refusedAfter[previous] = (t.refusedAfter[previous] ?? 0) + 1;
      } else {
        t.failed++;
        t.byEnding[how].failed++;
        const text = `session ${n} (${how}) at ${elapsed().toFixed(1)} s, ${o.stage}: ${o.detail}`;
        if (t.failures.length < KEEP_FAILURES) t.failures.push(text);
        log(`FAILED ${text}`);
      }
      await sleep(RETRY_PAUSE_MS);
    }
  };

  // The sampler: one reading now and one every sampleSeconds, until the clients are done.
  const stop = new AbortController();
  const sampler = (async (): Promise<void> => {
    for (let i = 0; !stop.signal.aborted; i++) {
      await take('churn');
      const wait = start + (i + 1) * opts.sampleSeconds * 1000 - Date.now();
      try { await sleep(Math.max(0, wait), undefined, { signal: stop.signal }); } catch { return; }
      if (Date.now() >= deadline) return; // the `end` row follows
    }
  })();
  await Promise.all(Array.from({ length: opts.clients }, client));
  const churnSeconds = elapsed();
  stop.abort();
  await sampler;
  await take('end');
  log(`clients stopped at ${churnSeconds.toFixed(1)} s; settling (up to ${opts.settleSeconds} s)`);
  const settled = await settle(bridge.pid, bridge.port, sshd, opts.settleSeconds);
  await take('settled', settled.probe);

  const band = rssBand(samples, opts.minutes * 60, opts.steadyAfterMinutes * 60, opts.rssBandMiB);
  const reasons = churnReasons({ done: t.done, failed: t.failed, firstFailures: t.failures, settled: settled.settled, settleWaitS: settled.waitedS, final: settled.probe, band });
  const totals = {
    sessionsDone: t.done, sessionsFailed: t.failed, refusedByLimit: t.refused, refusedBy: t.refusedBy, refusedAfter: t.refusedAfter,
    sessionsPerMinute: Math.round((t.done / Math.max(1e-9, churnSeconds)) * 60 * 10) / 10,
    loginMs: spread(t.loginMs),
    byEnding: Object.fromEntries(ENDINGS.map((e) => [e, { done: t.byEnding[e].done, failed: t.byEnding[e].failed, endMs: spread(t.byEnding[e].endMs) }])),
    failures: t.failures,
  };
  return { samples, churnSeconds, totals, band, settle: { settled: settled.settled, waitedS: settled.waitedS }, reasons };
}
