/**
 * `npm run bench:tail`: where the slow keystrokes lose their time. Keystroke echo straight to
 * sshd (A) and through the bridge (B), interleaved, with the bridge traced by
 * bench/tail-tracer.ts (`node --import`), then every B round trip split into hops
 * (bench/tail-analysis.ts) and the slowest 1% looked at. Knobs: BENCH_TAIL_KEYS (2000 per side
 * per round), BENCH_TAIL_ROUNDS (3), BENCH_TAIL_WORKERS (the bridge's default when unset),
 * BENCH_TAIL_DUMP (a path: the raw samples and trace as JSON, for a closer look).
 * Writes bench/results/tail-latest.json. docs/performance.md, "Finding the tail".
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { resolveWorkers } from '../src/config/workers.js';
import { startSshd, TEST_PROMPT } from '../test/helpers/sshd.js';
import { bridgeOpener } from './bridge-client.js';
import { ROOT, spawnBridge } from './bridge-proc.js';
import { directOpener } from './direct.js';
import { writeJson } from './report.js';
import { HOPS, KIND, quantiles, splitSamples, tailReport, type Pause, type Quantiles, type Sample, type Trace } from './tail-analysis.js';
import type { Target } from './term.js';
import { echo } from './workloads.js';
import { envInt } from './env.js';

const KEYS = envInt('BENCH_TAIL_KEYS', 2000, 100);
const ROUNDS = envInt('BENCH_TAIL_ROUNDS', 3, 1);
const WORKERS = process.env['BENCH_TAIL_WORKERS'] === undefined || process.env['BENCH_TAIL_WORKERS'] === '' ? null : envInt('BENCH_TAIL_WORKERS', 1, 1);
const TRACER = fileURLToPath(new URL('./tail-tracer.js', import.meta.url));

const log = (msg: string): void => { process.stderr.write(`[tail ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };
/**
 * What to add to a performance.now() reading to put it on process.hrtime's clock (the tracer's).
 * The two drift apart by some µs per second, so it is taken afresh next to each reading.
 */
const offset = (): number => Number(process.hrtime.bigint()) / 1e6 - performance.now();

function readTrace(prefix: string): { trace: Trace; events: number; dropped: number } {
  const input: number[] = [];
  const output: number[] = [];
  const sent: number[] = [];
  const gc: Pause[] = [];
  let events = 0;
  let dropped = 0;
  const dir = join(prefix, '..');
  for (const name of readdirSync(dir).filter((f) => f.startsWith('trace.'))) {
    const rec = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { dropped: number; events: number[] };
    dropped += rec.dropped;
    for (let i = 0; i + 2 < rec.events.length; i += 3) {
      const [kind, t, v] = [rec.events[i], rec.events[i + 1] ?? 0, rec.events[i + 2] ?? 0];
      events++;
      if (kind === KIND.input) input.push(t);
      else if (kind === KIND.output) output.push(t);
      else if (kind === KIND.sent) sent.push(t);
      else if (kind === KIND.gc) gc.push({ start: t, ms: v });
    }
  }
  const asc = (a: number, b: number): number => a - b;
  return { trace: { input: input.sort(asc), output: output.sort(asc), sent: sent.sort(asc), gc: gc.sort((a, b) => a.start - b.start) }, events, dropped };
}

const f3 = (x: number): string => x.toFixed(3);
const q = (x: Quantiles): string => `p50 ${f3(x.p50)}  p99 ${f3(x.p99)}  p99.9 ${f3(x.p999)}  max ${f3(x.max)}`;

async function main(): Promise<void> {
  const workers = WORKERS ?? resolveWorkers('auto', availableParallelism());
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-tail-'));
  const prefix = join(dir, 'trace');
  process.env['BENCH_TAIL_TRACE_FILE'] = prefix;
  const clientGc: Pause[] = [];
  const gcObserver = new PerformanceObserver((list) => { const o = offset(); for (const e of list.getEntries()) clientGc.push({ start: e.startTime + o, ms: e.duration }); });
  gcObserver.observe({ entryTypes: ['gc'] });
  const sshd = await startSshd();
  const target: Target = { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password, prompt: TEST_PROMPT };
  const bridge = await spawnBridge({ workers: WORKERS, nodeArgs: ['--import', TRACER] });
  const load0 = loadavg()[0] ?? 0;
  log(`sshd 127.0.0.1:${sshd.port}, bridge pid ${bridge.pid} (${workers} process${workers === 1 ? '' : 'es'}${WORKERS === null ? ', the default' : ''}), ${KEYS} keys x ${ROUNDS} rounds per side, load ${load0.toFixed(2)}`);
  const A = directOpener(target);
  const B = bridgeOpener(bridge.port, target);
  const direct: number[] = [];
  const samples: Sample[] = [];
  try {
    await echo(A, 200);
    await echo(B, 200);
    for (let r = 1; r <= ROUNDS; r++) {
      direct.push(...await echo(A, KEYS));
      const b = await echo(B, KEYS, 50, (sent, back) => { const o = offset(); samples.push({ sent: sent + o, back: back + o }); });
      log(`round ${r}: A p50 ${f3(quantiles(direct.slice(-KEYS)).p50)} ms, B p50 ${f3(quantiles(b).p50)} ms`);
    }
  } finally {
    await bridge.stop();
    await sshd.stop();
    gcObserver.disconnect();
  }
  const { trace, events, dropped } = readTrace(prefix);
  rmSync(dir, { recursive: true, force: true });
  if (process.env['BENCH_TAIL_DUMP'] !== undefined) writeJson(process.env['BENCH_TAIL_DUMP'], { samples, trace });
  const { splits, unmatched } = splitSamples(samples, trace, clientGc);
  const report = tailReport(splits);
  if (report === null) throw new Error(`no keystroke matched the bridge's trace (${events} events, ${dropped} dropped, ${unmatched} unmatched): was the tracer loaded?`);
  const a = quantiles(direct);
  const lines = [
    `keystroke echo, ${samples.length} per side, load ${load0.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at end; ms`,
    `A direct         ${q(a)}`,
    `B bridge         ${q(report.rtt)}   (p50 +${f3(report.rtt.p50 - a.p50)} over A)`,
    ...HOPS.map((h) => `  ${h.padEnd(15)}${q(report.hops[h])}`),
    `slowest 1% of B (${report.slow.n}): mean hop ms ${HOPS.map((h) => `${h} ${f3(report.slow.meanHop[h])}`).join(', ')}`,
    `  largest hop: ${HOPS.map((h) => `${h} ${report.slow.largestHop[h]}`).join(', ')}; overlapping a GC pause: bridge ${report.slow.withBridgeGc}, client ${report.slow.withClientGc}`,
    `unmatched samples ${unmatched}, trace events ${events} (${dropped} dropped), bridge GC pauses ${trace.gc.length} (${f3(trace.gc.reduce((s, g) => s + g.ms, 0))} ms), client GC pauses ${clientGc.length}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeJson(join(ROOT, 'bench/results/tail-latest.json'), { when: new Date().toISOString(), keys: KEYS, rounds: ROUNDS, workers, load: load0, direct: a, bridge: report, unmatched, events, dropped });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
