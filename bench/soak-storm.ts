/**
 * The refusal storm: one real session holds the only slot `--conn-max-per-target 1` allows, and
 * rounds of WebSocket upgrades for the same target must each be refused by that limit. The
 * upgrades offer the v1 subprotocol, so the refusal is a completed upgrade, an `error` message
 * and close 1013 (docs/protocol.md, "HTTP rejections"); every outcome is counted by what the
 * client actually saw. At most `stormConcurrency` upgrades are in flight; each has its own
 * timeout and each round a time limit, so the storm ends by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { SshdHandle } from '../test/helpers/sshd.js';
import { asBuffer, connectBridge } from './bridge-client.js';
import type { BridgeProc } from './bridge-proc.js';
import type { SoakOptions } from './soak-options.js';
import { probe, settle } from './soak-probe.js';
import { stormReasons, type StormRow } from './soak-report.js';
import { withTimeout, type Target, type Term } from './term.js';

/** Longest one refused upgrade may take, handshake to close. */
const UPGRADE_MS = 10_000;
/** No upgrade starts in a round after this; the rest count as not sent. */
export const ROUND_MAX_S = 600;
const HELD_MS = 30_000;

/** One upgrade to `url`; resolves with what it came to (`close 1013 LIMIT_PER_TARGET`, `HTTP 503`, `timeout`, ...). */
function upgrade(url: string): Promise<string> {
  return new Promise((resolve) => {
    let errorCode = '';
    let status: number | null = null;
    let opened = false;
    const ws = new WebSocket(url, ['webssh-bridge.v1'], { perMessageDeflate: false, handshakeTimeout: UPGRADE_MS });
    const timer = setTimeout(() => { settleWith(opened ? 'timeout (open, no refusal)' : 'timeout'); ws.terminate(); }, UPGRADE_MS);
    let done = false;
    const settleWith = (what: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(what);
    };
    ws.on('open', () => { opened = true; });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        const msg = JSON.parse(asBuffer(data).toString('utf8')) as { type?: unknown; code?: unknown } | null;
        if (msg?.type === 'error' && typeof msg.code === 'string') errorCode = msg.code;
      } catch { /* counted by its close */ }
    });
    ws.once('unexpected-response', (_req, res) => {
      status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => undefined); // the close follows and says enough
    ws.once('close', (code) => settleWith(status !== null ? `HTTP ${status}` : `close ${code}${errorCode === '' ? '' : ` ${errorCode}`}`));
  });
}

/** `count` upgrades, `concurrency` at a time, none started after `maxS`: outcomes by kind. */
async function round(url: string, count: number, concurrency: number, maxS: number): Promise<{ byOutcome: Record<string, number>; sent: number; seconds: number }> {
  const byOutcome: Record<string, number> = {};
  const start = Date.now();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < count && Date.now() - start < maxS * 1000) {
      sent++;
      const what = await upgrade(url);
      byOutcome[what] = (byOutcome[what] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { byOutcome, sent, seconds: (Date.now() - start) / 1000 };
}

export interface StormResult {
  readonly rows: readonly StormRow[];
  readonly held: { readonly alive: boolean; readonly detail: string };
  readonly settle: { readonly settled: boolean; readonly waitedS: number };
  readonly reasons: readonly string[];
}

/** Does the held session still answer? Echo a marker through it. */
async function stillAnswers(term: Term, marker: string): Promise<string | null> {
  try {
    term.mark();
    term.write(`echo ${marker.slice(0, 5)}""${marker.slice(5)}\r`);
    await term.waitFor(`\n${marker}\r\n`, HELD_MS);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export async function runStorm(opts: SoakOptions, bridge: BridgeProc, sshd: SshdHandle, target: Target, log: (m: string) => void): Promise<StormResult> {
  const url = `ws://127.0.0.1:${bridge.port}/ws/${target.host}/${target.port}`;
  const { term } = await connectBridge(url, target, HELD_MS);
  const rows: StormRow[] = [];
  let heldDetail: string | null = null;
  try {
    heldDetail = await stillAnswers(term, 'soak-held-0');
    if (heldDetail !== null) throw new Error(`the held session does not answer: ${heldDetail}`);
    const row = async (n: number, r: { byOutcome: Record<string, number>; sent: number; seconds: number }): Promise<void> => {
      const p = await probe(bridge.pid, bridge.port, sshd);
      rows.push({ round: n, upgrades: r.sent, seconds: r.seconds, byOutcome: r.byOutcome, rssMiB: p.rssMiB, rssEachMiB: p.rssEachMiB, processes: p.processes, sessions: p.sessions });
      const rate = r.seconds > 0 ? ` (${(r.sent / r.seconds).toFixed(0)}/s)` : '';
      log(`round ${n}: ${r.sent} upgrades in ${r.seconds.toFixed(1)} s${rate} ${JSON.stringify(r.byOutcome)}; RSS ${p.rssMiB.toFixed(1)} MiB, ${p.sessions ?? '?'} sessions`);
    };
    await row(0, { byOutcome: {}, sent: 0, seconds: 0 });
    for (let n = 1; n <= opts.stormRounds; n++) {
      log(`round ${n}/${opts.stormRounds}: ${opts.stormRound} upgrades, ${opts.stormConcurrency} in flight`);
      const r = await round(url, opts.stormRound, opts.stormConcurrency, ROUND_MAX_S);
      await sleep(opts.stormPauseSeconds * 1000);
      await row(n, r);
      // Also keeps the held session from reaching the bridge's idle timeout during a long storm.
      heldDetail = await stillAnswers(term, `soak-held-${n}`);
      if (heldDetail !== null) break;
    }
  } finally {
    term.close();
    await withTimeout(term.closed, UPGRADE_MS, 'held session close').catch(() => term.destroy());
  }
  const settled = await settle(bridge.pid, bridge.port, sshd, opts.settleSeconds);
  const held = { alive: heldDetail === null, detail: heldDetail ?? 'answered after every round' };
  const reasons = stormReasons({ rows, heldAlive: held.alive, heldDetail: held.detail, settled: settled.settled, settleWaitS: settled.waitedS, final: settled.probe }, opts.stormRound * opts.stormRounds);
  return { rows, held, settle: { settled: settled.settled, waitedS: settled.waitedS }, reasons };
}
