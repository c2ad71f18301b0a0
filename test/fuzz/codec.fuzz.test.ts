/**
 * Pure-codec fuzz with a fixed seed: 100,000 random and mutated frames through both codecs
 * (decodeAuth and decode) and 100,000 paths through parseWsPath. Every call returns a valid
 * value or throws a BridgeError with an allowed code (see codec-fuzz.ts for the invariants).
 * FUZZ_SEED replays another seed; the long run is `npm run fuzz` (test/fuzz/run.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCodecFuzz } from './codec-fuzz.js';
import { parseSeed } from './rng.js';

const SEED = process.env.FUZZ_SEED !== undefined ? parseSeed(process.env.FUZZ_SEED) : 0x5eed_c0de;
const ITERATIONS = 100_000;

void test(`codec fuzz: ${ITERATIONS} inputs, seed ${SEED}`, (t) => {
  t.diagnostic(`seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);
  const report = runCodecFuzz({ seed: SEED, iterations: ITERATIONS });
  t.diagnostic(`${report.calls} calls in ${report.elapsedMs.toFixed(0)} ms; slowest call ${report.maxCallMs.toFixed(1)} ms: ${report.slowest}`);
  t.diagnostic(`generators: ${JSON.stringify(report.kinds)}`);
  t.diagnostic(`outcomes: ${JSON.stringify(report.outcomes)}`);
  for (const f of report.failures) t.diagnostic(`FAILURE ${JSON.stringify(f)}`);
  assert.equal(report.failureCount, 0, `${report.failureCount} failures; first: ${JSON.stringify(report.failures[0])}`);
  // The run must have exercised both sides of every entry point.
  for (const key of ['seed.decodeAuth:ok', 'v1.decodeAuth:ok', 'seed.decode:ok:resize', 'seed.decode:ok:ping', 'seed.decode:ok:ignored',
    'v1.decode:ok:resize', 'v1.decode:ok:ping', 'v1.decode:ok:ack', 'v1.decode:ok:ignored', 'v1.decode:ok:hostkey-reply', 'v1.decode:ok:prompt-reply', 'v1.decode:err:PROTOCOL_ERROR',
    'seed.decodeAuth:err:PROTOCOL_ERROR', 'v1.decodeAuth:err:PROTOCOL_ERROR', 'parseWsPath:ok', 'parseWsPath:err:BAD_PATH', 'parseWsPath:err:BAD_PORT']) {
    assert.ok((report.outcomes[key] ?? 0) > 0, `no ${key} outcome`);
  }
});
