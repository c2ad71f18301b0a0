/**
 * `npm run bench`: direct ssh2 client (A) vs the same client work through the bridge (B), against
 * a real OpenSSH sshd on loopback. Rounds interleave A and B; the table shows medians over rounds.
 * Knobs: BENCH_ROUNDS (3), BENCH_SESSIONS (200), BENCH_FILE_MB (64), BENCH_ECHO (500),
 * BENCH_SETUP (20), BENCH_TIMEOUT_S (1800, whole run). Writes bench/results/latest.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../test/helpers/sshd.js';
import { bridgeOpener } from './bridge-client.js';
import { busyCores, clockTicks, ROOT, spawnBridge, systemCpu, type BridgeProc } from './bridge-proc.js';
import { directOpener } from './direct.js';
import { formatTable, summarize, writeJson, type RoundData } from './report.js';
import { MiB, percentile } from './stats.js';
import type { Opener, Target } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS, echo, idle, setup, throughput } from './workloads.js';

function envInt(name: string, def: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  return v;
}

const ROUNDS = envInt('BENCH_ROUNDS', 3, 1);
const SESSIONS = envInt('BENCH_SESSIONS', 200, 1);
const FILE_MB = envInt('BENCH_FILE_MB', 64, 1);
const ECHO_N = envInt('BENCH_ECHO', 500, 1);
const SETUP_N = envInt('BENCH_SETUP', 20, 1);
const TIMEOUT_S = envInt('BENCH_TIMEOUT_S', 1800, 10);
const BATCH = 20;

const log = (msg: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };

let sshd: SshdHandle | undefined;
const bridges = new Set<BridgeProc>();
let dataDir: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...bridges].map((b) => b.stop()));
    if (sshd) await sshd.stop().catch(() => undefined);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  })();
  return cleaning;
}

process.once('exit', () => {
  for (const b of bridges) b.kill();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log(`whole run exceeded BENCH_TIMEOUT_S=${TIMEOUT_S}: cleaning up`);
  void cleanup().finally(() => process.exit(1));
}, TIMEOUT_S * 1000);
watchdog.unref();

/** A file of base64 text lines (76 columns) readable by the test user. */
function makeFile(mb: number): { path: string; size: number } {
  dataDir = mkdtempSync('/tmp/uwsb-bench-');
  chmodSync(dataDir, 0o755);
  const path = join(dataDir, 'data.b64');
  const raw = Math.floor((mb * MiB * 3) / 4);
  execFileSync('sh', ['-c', `head -c ${raw} /dev/urandom | base64 -w 76 > '${path}'`], { stdio: 'inherit' });
  chmodSync(path, 0o644);
  return { path, size: statSync(path).size };
}

async function attempt<T>(what: string, errors: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${(err as Error).message}`;
    errors.push(msg.slice(0, 2000));
    log(`ERROR ${msg.slice(0, 600)}`);
    return null;
  }
}

/** Fresh bridge per idle run: its RSS baseline is not inflated by earlier bulk transfers. */
async function idleThroughFreshBridge(target: Target): Promise<Awaited<ReturnType<typeof idle>>> {
  const b = await spawnBridge();
  bridges.add(b);
  try {
    const open = bridgeOpener(b.port, target);
    await closeTerm(await open(CONNECT_TIMEOUT_MS)); // warm-up: load and JIT the session path once
    await sleep(1000);
    return await idle(open, SESSIONS, BATCH, b.pid);
  } finally {
    await b.stop();
    bridges.delete(b);
  }
}

const pct = (xs: number[] | null | undefined): Record<string, number> | null => (xs && xs.length > 0
  ? { n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: percentile(xs, 100) }
  : null);

async function main(): Promise<void> {
  const started = new Date();
  log(`rounds=${ROUNDS} sessions=${SESSIONS} file=${FILE_MB} MiB echo=${ECHO_N} setup=${SETUP_N}`);
  sshd = await startSshd();
  const target: Target = { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password, prompt: TEST_PROMPT };
  log(`sshd on 127.0.0.1:${sshd.port}`);
  const file = makeFile(FILE_MB);
  log(`data file ${file.path}: ${file.size} bytes`);
  const bridge = await spawnBridge();
  bridges.add(bridge);
  log(`bridge pid ${bridge.pid} on 127.0.0.1:${bridge.port}`);

  const load0 = loadavg();
  const sys0 = systemCpu();
  const A: Opener = directOpener(target);
  const B: Opener = bridgeOpener(bridge.port, target);
  const errors: string[] = [];
  // Warm-up, not recorded: the first bulk transfer and the first keystrokes through a fresh
  // bridge (and this process) run cold JIT code and would skew round 1.
  log('warm-up (not recorded)');
  for (const open of [A, B]) {
    await attempt('warm-up throughput', errors, () => throughput(open, file, bridge.pid));
    await attempt('warm-up echo', errors, () => echo(open, 200));
  }
  const rounds: RoundData[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const rd: RoundData = { round: r, throughput: { direct: null, bridge: null }, echo: { direct: null, bridge: null }, setup: null, idle: { direct: null, bridge: null } };
    rounds.push(rd);
    log(`round ${r}/${ROUNDS}: throughput`);
    rd.throughput.direct = await attempt(`round ${r} throughput direct`, errors, () => throughput(A, file, bridge.pid));
    rd.throughput.bridge = await attempt(`round ${r} throughput bridge`, errors, () => throughput(B, file, bridge.pid));
    log(`  A ${rd.throughput.direct?.mibPerS.toFixed(1) ?? '-'} MiB/s, B ${rd.throughput.bridge?.mibPerS.toFixed(1) ?? '-'} MiB/s`);
    log(`round ${r}/${ROUNDS}: keystroke echo x${ECHO_N}`);
    rd.echo.direct = await attempt(`round ${r} echo direct`, errors, () => echo(A, ECHO_N));
    rd.echo.bridge = await attempt(`round ${r} echo bridge`, errors, () => echo(B, ECHO_N));
    log(`  p50 A ${pct(rd.echo.direct)?.p50?.toFixed(3) ?? '-'} ms, B ${pct(rd.echo.bridge)?.p50?.toFixed(3) ?? '-'} ms`);
    log(`round ${r}/${ROUNDS}: connect to prompt x${SETUP_N} each`);
    rd.setup = await attempt(`round ${r} setup`, errors, () => setup(A, B, SETUP_N));
    if (rd.setup) errors.push(...rd.setup.errors.map((e) => `round ${r} setup ${e}`));
    log(`  p50 A ${pct(rd.setup?.a)?.p50?.toFixed(1) ?? '-'} ms, B ${pct(rd.setup?.b)?.p50?.toFixed(1) ?? '-'} ms`);
    log(`round ${r}/${ROUNDS}: ${SESSIONS} idle sessions, ${BATCH} at a time`);
    rd.idle.direct = await attempt(`round ${r} idle direct`, errors, () => idle(A, SESSIONS, BATCH, null));
    await sleep(1000);
    rd.idle.bridge = await attempt(`round ${r} idle bridge`, errors, () => idleThroughFreshBridge(target));
    for (const [side, i] of [['direct', rd.idle.direct], ['bridge', rd.idle.bridge]] as const) {
      if (i) errors.push(...i.errors.map((e) => `round ${r} idle ${side}: ${e}`));
    }
    log(`  A ${rd.idle.direct?.openSeconds.toFixed(2) ?? '-'} s (${rd.idle.direct?.failures ?? '-'} failed), B ${rd.idle.bridge?.openSeconds.toFixed(2) ?? '-'} s (${rd.idle.bridge?.failures ?? '-'} failed), ${rd.idle.bridge?.kibPerSession?.toFixed(1) ?? '-'} KiB/session`);
    if (!bridge.alive()) { errors.push(`bridge process died:\n${bridge.log()}`); break; }
  }

  // How busy the machine was: all CPUs during the run (this benchmark's own tree included), and
  // while everything of ours sits idle at the end: that part is other work on the machine.
  const busyRun = busyCores(sys0, systemCpu());
  const idle0 = systemCpu();
  await sleep(3000);
  const machine = { loadavgStart: load0, loadavgEnd: loadavg(), busyCoresDuringRun: busyRun, busyCoresWhileIdleAtEnd: busyCores(idle0, systemCpu()) };

  const rows = summarize(rounds, file.size);
  const table = formatTable(rows);
  process.stdout.write(`\nwebssh-bridge benchmark: ${ROUNDS} rounds, medians; A = ssh2 client straight to sshd, B = ws client through the bridge\n`);
  process.stdout.write(`machine: ${cpus().length} CPUs, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start; ${busyRun.toFixed(2)} cores busy during the run (all processes), ${machine.busyCoresWhileIdleAtEnd.toFixed(2)} busy with the benchmark idle at the end (other work)\n\n${table}\n`);
  if (errors.length > 0) process.stdout.write(`\n${errors.length} error(s):\n${errors.map((e) => `- ${e.slice(0, 500)}`).join('\n')}\n`);

  const sshdVersion = spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' }).stderr.trim().split('\n')[0] ?? '';
  const out = join(ROOT, 'bench', 'results', 'latest.json');
  writeJson(out, {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    environment: {
      node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), sshd: sshdVersion, clkTck: clockTicks(),
    },
    machine,
    config: { rounds: ROUNDS, sessions: SESSIONS, batch: BATCH, fileMiB: FILE_MB, fileBytes: file.size, echoKeystrokes: ECHO_N, setupConnections: SETUP_N },
    summary: rows,
    rounds: rounds.map((rd) => ({
      round: rd.round,
      throughput: rd.throughput,
      echo: { direct: pct(rd.echo.direct), bridge: pct(rd.echo.bridge) },
      setup: rd.setup && { direct: pct(rd.setup.a), bridge: pct(rd.setup.b), failuresDirect: rd.setup.failuresA, failuresBridge: rd.setup.failuresB },
      idle: rd.idle,
    })),
    errors,
    bridgeLogTail: bridge.log().split('\n').slice(-20),
  });
  process.stdout.write(`\nwrote ${out}\n`);
  process.exitCode = errors.length > 0 ? 1 : 0;
}

try {
  await main();
} catch (err) {
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
  // Nothing should be left open; if a stray handle is, do not hang on it.
  setTimeout(() => process.exit(), 5000).unref();
}
