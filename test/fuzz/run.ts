/**
 * The long fuzz run: the same fuzzers as test/fuzz/*.fuzz.test.ts with bigger counts and a seed
 * of your choice. `npm run fuzz` builds and runs `node dist/test/fuzz/run.js`.
 *
 *   node dist/test/fuzz/run.js [--seed S] [--iterations N] [--live-frames N] [--concurrency N]
 *                              [--only codec|live] [--case I]
 *
 * Environment: FUZZ_SEED, FUZZ_ITERATIONS (codec inputs, default 1,000,000), FUZZ_LIVE_FRAMES
 * (default 20,000, or FUZZ_ITERATIONS / 50 when only FUZZ_ITERATIONS is given),
 * FUZZ_CONCURRENCY (default 20). Flags win over the environment. Without a seed a random one
 * is drawn and printed. `--case I` replays case I of the seed (with `--only`) and prints it.
 * At the end (except for a replay) the defects found earlier (regressions.ts, all fixed) are
 * re-checked; a regression counts as a problem.
 * Exit status: 0 clean, 1 problems found, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { runCodecFuzz } from './codec-fuzz.js';
import { reproduceRefusedUpgradeLeak, reproduceUrlCrash } from './regressions.js';
import { runLiveFuzz } from './live-fuzz.js';
import { parseSeed, randomSeed } from './rng.js';

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`${name} must be a non-negative integer, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seed: { type: 'string' },
        iterations: { type: 'string' },
        'live-frames': { type: 'string' },
        concurrency: { type: 'string' },
        only: { type: 'string' },
        case: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write('usage: node dist/test/fuzz/run.js [--seed S] [--iterations N] [--live-frames N] [--concurrency N] [--only codec|live] [--case I]\n');
    return 0;
  }
  const env = process.env;
  const seedText = values.seed ?? env.FUZZ_SEED;
  const seed = seedText !== undefined ? parseSeed(seedText) : randomSeed();
  const iterationsText = values.iterations ?? env.FUZZ_ITERATIONS;
  const iterations = positive('iterations', iterationsText, 1_000_000);
  const liveText = values['live-frames'] ?? env.FUZZ_LIVE_FRAMES;
  const liveFrames = positive('live-frames', liveText, iterationsText !== undefined ? Math.floor(iterations / 50) : 20_000);
  const concurrency = positive('concurrency', values.concurrency ?? env.FUZZ_CONCURRENCY, 20);
  const only = values.only;
  if (only !== undefined && only !== 'codec' && only !== 'live') {
    process.stderr.write('--only must be codec or live\n');
    return 2;
  }
  const replay = values.case !== undefined ? positive('case', values.case, 0) : undefined;
  if (replay !== undefined && only === undefined) {
    process.stderr.write('--case needs --only codec or --only live\n');
    return 2;
  }
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out(`fuzz seed ${seed} (replay: --seed ${seed}); codec inputs ${replay ?? iterations}, live frames ${replay ?? liveFrames}, concurrency ${concurrency}`);

  let problems = 0;
  if (only !== 'live') {
    const report = runCodecFuzz({
      seed, iterations, maxFailures: 50, ...(replay !== undefined ? { only: replay } : {}),
      onProgress: (done, ms) => {
        if (done % 100_000 === 0) out(`  codec: ${done} inputs, ${(ms / 1000).toFixed(1)} s`);
      },
    });
    out(`codec: ${report.iterations} inputs, ${report.calls} calls in ${(report.elapsedMs / 1000).toFixed(1)} s; slowest call ${report.maxCallMs.toFixed(1)} ms (${report.slowest})`);
    out(`codec generators: ${JSON.stringify(report.kinds)}`);
    out(`codec outcomes: ${JSON.stringify(report.outcomes)}`);
    for (const f of report.failures) out(`CODEC FAILURE ${JSON.stringify(f)}`);
    out(`codec: ${report.failureCount} failures`);
    problems += report.failureCount;
  }
  if (only !== 'codec') {
    const report = await runLiveFuzz({
      seed, frames: liveFrames, concurrency, log: out,
      ...(replay !== undefined ? { only: replay } : {}),
    });
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    out(`live: ${report.cases} connections, ${report.framesSent} frames sent (${report.framesPlanned} planned) in ${(report.elapsedMs / 1000).toFixed(1)} s; slowest ${report.slowestCase}`);
    out(`live scenarios: ${JSON.stringify(report.scenarios)}`);
    out(`live close codes: ${JSON.stringify(report.closeCodes)}`);
    out(`live close codes by scenario: ${JSON.stringify(report.closeByScenario)}`);
    out(`live durations: ${JSON.stringify(report.durations)}`);
    out(`live HTTP statuses: ${JSON.stringify(report.httpStatuses)}`);
    out(`live session outcomes: ${JSON.stringify(report.outcomes)}`);
    out(`live upgrade rejections: ${JSON.stringify(report.rejections)}`);
    out(`live logs: ${JSON.stringify(report.logLevels)}; SSH connections ${report.sshConnections}`);
    out(`live heap: baseline ${mib(report.heap.baseline)}, peak ${mib(report.heap.peak)}, after ${mib(report.heap.after)} (gc ${report.heap.gc ? 'forced' : 'unavailable'}); TCP sockets ${report.tcpSockets.baseline} -> ${report.tcpSockets.after}; timers ${report.timers.baseline} -> ${report.timers.after}`);
    out(`live normal sessions afterwards: ${report.finalSessions}`);
    for (const p of report.problems) out(`LIVE PROBLEM ${p}`);
    out(`live: ${report.problemCount} problems`);
    problems += report.problemCount;
  }
  if (replay === undefined) {
    // The defects found earlier (regressions.ts), all fixed: a regression is reported and counted.
    const checks: Array<[string, () => Promise<string | null>]> = [
      ['1 crash on `GET //` (src/http/routes.ts)', () => reproduceUrlCrash('//')],
      ['2a refused-upgrade socket leak, late bytes (src/http/respond.ts)', () => reproduceRefusedUpgradeLeak(true)],
      ['2b refused-upgrade socket held open (src/http/respond.ts)', () => reproduceRefusedUpgradeLeak(false)],
    ];
    for (const [name, check] of checks) {
      const failure = await check().catch((err: unknown) => `check failed: ${err instanceof Error ? err.message : String(err)}`);
      out(failure === null ? `fixed defect ${name}: still fixed` : `REGRESSION ${name}: ${failure}`);
      if (failure !== null) problems++;
    }
  }
  out(problems === 0 ? `fuzz: clean (seed ${seed})` : `fuzz: ${problems} problems (seed ${seed})`);
  return problems === 0 ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
