/**
 * Live fuzz with a fixed seed: a few thousand hostile connections and frames against a real
 * bridge in front of the fake SSH server (see live-fuzz.ts for scenarios and checks). Fails on
 * any crash, hang, leaked session, socket or SSH connection, heap growth over 64 MiB, secret in
 * the logs, close code outside the catalogue, or a broken normal session afterwards.
 * FUZZ_SEED replays another seed; the long run is `npm run fuzz` (test/fuzz/run.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reproduceRefusedUpgradeLeak, reproduceUrlCrash } from './regressions.js';
import { runLiveFuzz } from './live-fuzz.js';
import { parseSeed } from './rng.js';

const SEED = process.env.FUZZ_SEED !== undefined ? parseSeed(process.env.FUZZ_SEED) : 0x5eed_f00d;
const FRAMES = 12_000;

void test(`live fuzz: ${FRAMES} frames, seed ${SEED}`, { timeout: 240_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);
  const report = await runLiveFuzz({ seed: SEED, frames: FRAMES, concurrency: 20 });
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  t.diagnostic(`${report.cases} connections, ${report.framesSent} frames sent (${report.framesPlanned} planned) in ${(report.elapsedMs / 1000).toFixed(1)} s; slowest: ${report.slowestCase}`);
  t.diagnostic(`scenarios: ${JSON.stringify(report.scenarios)}`);
  t.diagnostic(`close codes: ${JSON.stringify(report.closeCodes)}`);
  t.diagnostic(`close codes by scenario: ${JSON.stringify(report.closeByScenario)}`);
  t.diagnostic(`durations: ${JSON.stringify(report.durations)}`);
  t.diagnostic(`HTTP statuses: ${JSON.stringify(report.httpStatuses)}`);
  t.diagnostic(`session outcomes: ${JSON.stringify(report.outcomes)}`);
  t.diagnostic(`upgrade rejections: ${JSON.stringify(report.rejections)}`);
  t.diagnostic(`log levels: ${JSON.stringify(report.logLevels)}; SSH connections: ${report.sshConnections}`);
  t.diagnostic(`heap: baseline ${mib(report.heap.baseline)}, peak ${mib(report.heap.peak)}, after ${mib(report.heap.after)} (gc ${report.heap.gc ? 'forced' : 'not available'}); TCP sockets ${report.tcpSockets.baseline} -> ${report.tcpSockets.after}; timers ${report.timers.baseline} -> ${report.timers.after}`);
  t.diagnostic(`normal sessions afterwards: ${report.finalSessions}`);
  for (const p of report.problems) t.diagnostic(`PROBLEM ${p}`);
  assert.equal(report.problemCount, 0, `${report.problemCount} problems; first: ${report.problems[0] ?? ''}`);
  assert.ok(report.cases > 500, `only ${report.cases} connections`);
});

// Defects the fuzzer found in src/ (see regressions.ts), fixed; kept as regression tests. The
// live fuzz above includes their inputs too.
void test('regression: a plain `GET //` request does not crash the bridge (src/http/routes.ts new URL)', async () => {
  for (const target of ['//', 'http://[']) assert.equal(await reproduceUrlCrash(target), null);
});

void test('regression: bytes after an upgrade refusal do not leak the bridge-side socket (src/http/respond.ts)', async () => {
  assert.equal(await reproduceRefusedUpgradeLeak(true), null);
});

void test('regression: a client that keeps a refused upgrade open does not hold a bridge socket', async () => {
  assert.equal(await reproduceRefusedUpgradeLeak(false), null);
});
