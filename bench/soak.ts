/**
 * `npm run soak`: a long run against a real OpenSSH sshd on loopback, for what a short benchmark
 * cannot see: memory that creeps, sessions or shells left behind, slow or wrong closes. Two modes:
 * the churn (default; bench/soak-churn.ts) and the refusal storm (`--storm`;
 * bench/soak-storm.ts). Prints a table and one JSON line; exit 0 when every check held, 1 with
 * the reasons otherwise, 2 for bad options. sshd and the bridge are stopped on every way out
 * (the end, an error, SIGINT/SIGTERM, the watchdog). Not part of `npm test`.
 */
import { cpus } from 'node:os';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../test/helpers/sshd.js';
import { spawnBridge, type BridgeProc } from './bridge-proc.js';
import { CHURN_TAIL_S, runChurn } from './soak-churn.js';
import { LogTally } from './soak-log.js';
import { helpText, parseSoakOptions, type SoakOptions } from './soak-options.js';
import { churnTable, stormTable } from './soak-report.js';
import { ROUND_MAX_S, runStorm } from './soak-storm.js';
import type { Target } from './term.js';

const log = (msg: string): void => { process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };

/** The bridge's default per-IP and per-target session limits (docs/configuration.md). */
const DEFAULT_PER_LIMIT = 10;

/**
 * The bridge's flags: its defaults (workers `auto`, one per core, and every limit) except what the
 * soak needs. sshd has a fresh host key every run, so `accept-new-insecure` (host key checks are
 * not what is soaked). All clients come from 127.0.0.1, one rate-limit bucket (10 attempts, refilled
 * in 2 s): loopback is whitelisted, or the churn would measure the limiter and the storm would be
 * refused as RATE_LIMITED before reaching the per-target limit. The churn raises the per-IP and
 * per-target limits only when it runs more clients than they allow; the storm sets the
 * per-target limit to 1, so the one held session fills it.
 */
function bridgeArgs(opts: SoakOptions): string[] {
  const args = ['--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure', '--rate-whitelist', '127.0.0.0/8'];
  if (opts.storm) return [...args, '--conn-max-per-target', '1'];
  if (opts.clients > DEFAULT_PER_LIMIT) args.push('--conn-max-per-host', String(opts.clients), '--conn-max-per-target', String(opts.clients));
  return args;
}

/** The whole run's upper bound, past which the watchdog stops everything. */
function boundSeconds(opts: SoakOptions): number {
  const run = opts.storm
    ? opts.stormRounds * (ROUND_MAX_S + opts.stormPauseSeconds + 60)
    : opts.minutes * 60 + CHURN_TAIL_S + opts.sampleSeconds;
  return run + opts.settleSeconds + 120;
}

let sshd: SshdHandle | undefined;
let bridge: BridgeProc | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (bridge !== undefined) await bridge.stop().catch(() => undefined);
    if (sshd !== undefined) await sshd.stop().catch(() => undefined);
  })();
  return cleaning;
}

process.once('exit', () => bridge?.kill()); // sshd's own exit hook kills it and its shells
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the bridge and sshd`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(opts: SoakOptions): Promise<boolean> {
  const watchdog = setTimeout(() => {
    log(`the run exceeded its bound of ${boundSeconds(opts)} s: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, boundSeconds(opts) * 1000);
  watchdog.unref();
  try {
    const started = new Date();
    sshd = await startSshd();
    const target: Target = { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password, prompt: TEST_PROMPT };
    // Every session logs host_key_unverified (a warning) under accept-new-insecure, by the soak's choice.
    const tally = new LogTally(['host_key_unverified']);
    bridge = await spawnBridge({ args: bridgeArgs(opts), onLine: tally.line });
    log(`sshd on 127.0.0.1:${sshd.port}; bridge pid ${bridge.pid} on 127.0.0.1:${bridge.port} (${bridge.args.join(' ')})`);
    const header = { started: started.toISOString(), cpus: cpus().length, node: process.version, options: opts, bridgeArgs: bridge.args };
    if (opts.storm) {
      const r = await runStorm(opts, bridge, sshd, target, log);
      const pass = r.reasons.length === 0;
      process.stdout.write(`\nwebssh-bridge soak, refusal storm: ${opts.stormRounds} x ${opts.stormRound} upgrades, ${opts.stormConcurrency} in flight, one held session (--conn-max-per-target 1)\n\n`);
      process.stdout.write(`${stormTable(r.rows)}\n\n${pass ? 'PASS' : `FAIL:\n${r.reasons.map((x) => `- ${x}`).join('\n')}`}\n`);
      process.stdout.write(`${JSON.stringify({ soak: 'storm', ...header, finished: new Date().toISOString(), rounds: r.rows, held: r.held, settle: r.settle, bridgeLog: tally.summary(), pass, reasons: r.reasons })}\n`);
      return pass;
    }
    log(`churn: ${opts.clients} clients for ${opts.minutes} min, a sample every ${opts.sampleSeconds} s`);
    const r = await runChurn(opts, bridge, sshd, target, log);
    const pass = r.reasons.length === 0;
    const band = r.band.applicable
      ? `RSS band from ${r.band.fromS} s on: ${r.band.bandMiB} MiB (${r.band.minMiB}..${r.band.maxMiB}, ${r.band.samples} samples), limit ${r.band.limitMiB} MiB`
      : `RSS band: ${r.band.note ?? 'not applicable'}`;
    process.stdout.write(`\nwebssh-bridge soak, churn: ${opts.clients} clients for ${r.churnSeconds.toFixed(0)} s, ${String(r.totals.sessionsPerMinute)} sessions/min\n\n`);
    process.stdout.write(`${churnTable(r.samples)}\n\n${band}\n${pass ? 'PASS' : `FAIL:\n${r.reasons.map((x) => `- ${x}`).join('\n')}`}\n`);
    process.stdout.write(`${JSON.stringify({ soak: 'churn', ...header, finished: new Date().toISOString(), churnSeconds: r.churnSeconds, samples: r.samples, totals: r.totals, rssBand: r.band, settle: r.settle, bridgeLog: tally.summary(), pass, reasons: r.reasons })}\n`);
    return pass;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

let opts: SoakOptions | null;
try {
  opts = parseSoakOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${helpText()}\n`);
  process.exit(2);
}
if (opts === null) {
  process.stdout.write(`${helpText()}\n`);
} else {
  try {
    process.exitCode = (await main(opts)) ? 0 : 1;
  } catch (err) {
    log(`FAILED: ${(err as Error).stack ?? String(err)}`);
    if (bridge !== undefined) log(`bridge log tail:\n${bridge.log().split('\n').slice(-20).join('\n')}`);
    process.exitCode = 1;
  }
  // Nothing should be left open; if a stray handle is, do not hang on it.
  setTimeout(() => process.exit(), 5000).unref();
}
