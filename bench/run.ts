/**
 * `npm run bench`: a plain ssh2 client straight to sshd (A) against the same client work through
 * the bridge (B), both to a real OpenSSH sshd on loopback. Rounds interleave A and B; the table
 * shows medians over rounds. Knobs: BENCH_ROUNDS (3), BENCH_SESSIONS (1000), BENCH_FILE_MB (64),
 * BENCH_ECHO (2000), BENCH_SETUP (20), BENCH_FLOODS (8), BENCH_SLOW_SESSIONS (8), BENCH_SLOW_KIB
 * (10), BENCH_SLOW_S (20), BENCH_IDLE_WORKERS (1), BENCH_RELAY (0; 1 adds reference C, a bare
 * relay, to the echo workload), BENCH_VIEWER (1; 0 skips B+viewer, the throughput run on a
 * shared session with one stalled viewer), BENCH_CLUSTER (0; 1 adds the cluster row after the
 * rounds, `only` runs the cluster row alone: bench/cluster.ts, with its own knobs), BENCH_FILES
 * (0; 1 adds the files row after the rounds, `only` runs it alone: bench/files.ts; BENCH_FILES_MB
 * 64, BENCH_FILES_ROUNDS 3), BENCH_JUMP (0; 1 adds the jump row after the rounds, `only` runs it
 * alone: bench/jump.ts, ssh -J against the bridge with auth.jump; BENCH_JUMP_ROUNDS 3,
 * BENCH_JUMP_SETUP 10, BENCH_JUMP_SSH_KEX curve25519-sha256 or `default`, echo BENCH_ECHO),
 * BENCH_TIMEOUT_S (1800, whole run). Writes bench/results/latest.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/loader.js';
import { resolveWorkers } from '../src/config/workers.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../test/helpers/sshd.js';
import { clusterRow, type ClusterKnobs, type ClusterResult } from './cluster.js';
import { filesRow, makeSftpKey, type FilesKnobs, type FilesResult } from './files.js';
import { jumpRow, type JumpKnobs, type JumpResult } from './jump.js';
import { bridgeOpener, sharedBridgeOpener, type SharedBridge } from './bridge-client.js';
import { BRIDGE_ARGS, bridgeHasWorkersFlag, ROOT, spawnBridge, spawnRelay, type BridgeOptions, type BridgeProc } from './bridge-proc.js';
import { directOpener } from './direct.js';
import { busyCores, clockTicks, openFileLimit, processTree, systemCpu } from './procfs.js';
import { emptyRound, formatTable, marginalKiB, pct, relayLine, roundsForJson, summarize, writeJson, type RoundData, type ViewerRun } from './report.js';
import { slowReader, type SlowRun } from './slow-reader.js';
import { MiB } from './stats.js';
import type { Opener, Target } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS, echo, floods, idle, setup, throughput, type IdleRun, type ThroughputRun } from './workloads.js';
import { envInt } from './env.js';

const ROUNDS = envInt('BENCH_ROUNDS', 3, 1);
const SESSIONS = envInt('BENCH_SESSIONS', 1000, 1);
const FILE_MB = envInt('BENCH_FILE_MB', 64, 1);
const ECHO_N = envInt('BENCH_ECHO', 2000, 1);
const SETUP_N = envInt('BENCH_SETUP', 20, 1);
const FLOODS = envInt('BENCH_FLOODS', 8, 1);
const SLOW_N = envInt('BENCH_SLOW_SESSIONS', 8, 2);
const SLOW_RATE = envInt('BENCH_SLOW_KIB', 10, 1) * 1024;
const SLOW_S = envInt('BENCH_SLOW_S', 20, 2);
const IDLE_WORKERS = envInt('BENCH_IDLE_WORKERS', 1, 1);
const RELAY = envInt('BENCH_RELAY', 0, 0) > 0;
const VIEWER = envInt('BENCH_VIEWER', 1, 0) > 0;
const TIMEOUT_S = envInt('BENCH_TIMEOUT_S', 1800, 10);
const CLUSTER = ((raw) => {
  if (raw === '' || raw === '0') return 'no';
  if (raw === '1' || raw === 'only') return raw === '1' ? 'yes' : 'only';
  throw new Error(`BENCH_CLUSTER=${raw}: expected 0, 1 or only`);
})(process.env.BENCH_CLUSTER ?? '');
const FILES = ((raw) => {
  if (raw === '' || raw === '0') return 'no';
  if (raw === '1' || raw === 'only') return raw === '1' ? 'yes' : 'only';
  throw new Error(`BENCH_FILES=${raw}: expected 0, 1 or only`);
})(process.env.BENCH_FILES ?? '');
const JUMP = ((raw) => {
  if (raw === '' || raw === '0') return 'no';
  if (raw === '1' || raw === 'only') return raw === '1' ? 'yes' : 'only';
  throw new Error(`BENCH_JUMP=${raw}: expected 0, 1 or only`);
})(process.env.BENCH_JUMP ?? '');
const JUMP_KNOBS: JumpKnobs = {
  rounds: envInt('BENCH_JUMP_ROUNDS', 3, 1), setup: envInt('BENCH_JUMP_SETUP', 10, 1), echoN: ECHO_N,
  sshKex: ((raw) => {
    if (raw === 'default') return null;
    if (raw === '') return 'curve25519-sha256';
    if (!/^[A-Za-z0-9@.,+-]+$/.test(raw)) throw new Error(`BENCH_JUMP_SSH_KEX=${raw}: expected a KexAlgorithms list or default`);
    return raw;
  })(process.env.BENCH_JUMP_SSH_KEX ?? ''),
};
const FILES_KNOBS: FilesKnobs = { rounds: envInt('BENCH_FILES_ROUNDS', 3, 1), mib: envInt('BENCH_FILES_MB', 64, 1) };
const CLUSTER_KNOBS: ClusterKnobs = {
  rounds: envInt('BENCH_CLUSTER_ROUNDS', 2, 1), sessions: envInt('BENCH_CLUSTER_SESSIONS', 200, 1), batch: envInt('BENCH_CLUSTER_BATCH', 20, 1),
  resumes: envInt('BENCH_CLUSTER_RESUMES', 50, 1), holdS: envInt('BENCH_CLUSTER_HOLD_S', 5, 1), idleS: envInt('BENCH_CLUSTER_IDLE_S', 15, 1), echoN: ECHO_N,
};
const BATCH = 20;

const log = (msg: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); };

let sshd: SshdHandle | undefined;
const children = new Set<BridgeProc>();
let dataDir: string | undefined;
/** The files row's key and local files (BENCH_FILES). */
let filesDir: string | undefined;
/** The jump row's key, known_hosts and ssh_config (BENCH_JUMP). */
let jumpDir: string | undefined;
let cleaning: Promise<void> | undefined;
let closeCluster: (() => Promise<void>) | undefined;
let closeJump: (() => Promise<void>) | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await closeCluster?.().catch(() => undefined);
    await closeJump?.().catch(() => undefined);
    await Promise.allSettled([...children].map((b) => b.stop()));
    if (sshd) await sshd.stop().catch(() => undefined);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    if (filesDir !== undefined) rmSync(filesDir, { recursive: true, force: true });
    if (jumpDir !== undefined) rmSync(jumpDir, { recursive: true, force: true });
  })();
  return cleaning;
}

process.once('exit', () => {
  for (const b of children) b.kill();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  if (filesDir !== undefined) rmSync(filesDir, { recursive: true, force: true });
  if (jumpDir !== undefined) rmSync(jumpDir, { recursive: true, force: true });
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

async function track(p: Promise<BridgeProc>): Promise<BridgeProc> {
  const child = await p;
  children.add(child);
  return child;
}

/** Base64 text in 76-column lines, world-readable in a 755 dir so the test user can cat it. */
function makeFile(mb: number): { path: string; size: number } {
  dataDir = mkdtempSync('/tmp/uwsb-bench-');
  chmodSync(dataDir, 0o755);
  const path = join(dataDir, 'data.b64');
  const raw = Math.floor((mb * MiB * 3) / 4);
  execFileSync('sh', ['-c', `head -c ${raw} /dev/urandom | base64 -w 76 > '${path}'`], { stdio: 'inherit' });
  chmodSync(path, 0o644);
  return { path, size: statSync(path).size };
}

const errors: string[] = [];
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${(err as Error).message}`;
    errors.push(msg.slice(0, 2000));
    log(`ERROR ${msg.slice(0, 600)}`);
    return null;
  }
}

/** The SSH window the benchmark's bridges grant (they run with the default `--ssh-window`), KiB. */
function defaultSshWindowKiB(): number | null {
  const loaded = loadConfig([], {});
  return loaded.kind === 'config' ? loaded.config.sshWindow / 1024 : null;
}

/** Whether B (one process) is what the bridge runs by default on this machine. */
function defaultWorkersNote(): string {
  const auto = resolveWorkers('auto', availableParallelism());
  return auto === 1 ? 'the default --workers auto is 1 here too, so B runs with default settings' : `WARNING: the default --workers auto is ${auto} here, B is not the default`;
}

/** Open files a bridge needs for `sessions` sessions (a WebSocket and an SSH socket each, plus its own). */
const nofileFor = (sessions: number): number => 2 * sessions + 512;

/** Spawn a bridge; with several workers, wait until all of them are up (the primary logs before they are). */
async function bridgeWith(opts: BridgeOptions): Promise<BridgeProc> {
  const b = await track(spawnBridge({ nofile: nofileFor(Math.max(SESSIONS, FLOODS)), ...opts }));
  const n = bridgeHasWorkersFlag() ? opts.workers ?? 1 : 1;
  for (let i = 0; i < 100 && n > 1 && processTree(b.pid).length < n + 1; i++) await sleep(100);
  if (n > 1) await sleep(1000);
  return b;
}

/** A fresh bridge per idle run, so its RSS baseline is not inflated by earlier bulk transfers. */
async function idleThroughFreshBridge(target: Target): Promise<IdleRun> {
  const b = await bridgeWith({ workers: IDLE_WORKERS });
  try {
    const open = bridgeOpener(b.port, target);
    await closeTerm(await open(CONNECT_TIMEOUT_MS)); // warm-up: load and JIT the session path once
    await sleep(1000);
    return await idle(open, SESSIONS, BATCH, b);
  } finally {
    await b.stop();
    children.delete(b);
  }
}

/** A fresh single-process bridge per slow-reader run: its RSS baseline is its own. */
async function slowThroughFreshBridge(target: Target, file: { path: string }, sessions: number): Promise<SlowRun> {
  // --metrics-enabled for /stats, whose `buffered` is the bridge's own count of what it holds.
  const b = await bridgeWith({ workers: 1, args: [...BRIDGE_ARGS, '--metrics-enabled'] });
  try {
    return await slowReader(b, target, file, sessions, SLOW_RATE, SLOW_S);
  } finally {
    await b.stop();
    children.delete(b);
  }
}

/** Why the bridge's log says viewer `id` left (`viewer_left` line), or null when the line is not in the kept tail. */
function viewerLeftCode(bridge: BridgeProc, id: string | null): string | null {
  if (id === null) return null;
  for (const line of bridge.log().split('\n').reverse()) {
    if (!line.includes('"viewer_left"') || !line.includes(`"viewer":"${id}"`)) continue;
    return /"code":"([A-Z_]+)"/.exec(line)?.[1] ?? null;
  }
  return null;
}

/** B+viewer: the throughput workload through a shared session whose one viewer stopped reading. */
async function throughputWithViewer(BV: SharedBridge, file: { path: string; size: number }, bridge: BridgeProc): Promise<ViewerRun> {
  let tp: ThroughputRun;
  try {
    tp = await throughput(BV.open, file, bridge.pid);
  } catch (err) {
    await BV.settle();
    throw err;
  }
  const [viewer] = await BV.settle();
  return { throughput: tp, viewer: viewer ?? null, bridgeCode: viewerLeftCode(bridge, viewer?.viewerId ?? null) };
}

const f = (x: number | null | undefined, d: number): string => (typeof x === 'number' ? x.toFixed(d) : '-');

interface Sides { A: Opener; B: Opener; BV: SharedBridge | null; C: Opener | null; W2: { open: Opener; bridge: BridgeProc } | null }

async function round(rd: RoundData, { A, B, BV, C, W2 }: Sides, file: { path: string; size: number }, bridge: BridgeProc, target: Target): Promise<void> {
  const r = `round ${rd.round}/${ROUNDS}`;
  log(`${r}: throughput`);
  rd.throughput.direct = await attempt(`${r} throughput direct`, () => throughput(A, file, bridge.pid));
  rd.throughput.bridge = await attempt(`${r} throughput bridge`, () => throughput(B, file, bridge.pid));
  if (BV) rd.viewer = await attempt(`${r} throughput bridge+viewer`, () => throughputWithViewer(BV, file, bridge));
  const v = rd.viewer;
  const vs = v && rd.throughput.bridge ? ` (${f(v.throughput.mibPerS / rd.throughput.bridge.mibPerS, 3)}x B)` : '';
  const fate = v === null ? '' : v.viewer === null ? ', no viewer outcome'
    : `, viewer ${v.viewer.droppedByBridge ? `dropped at ${f((v.viewer.droppedAtOwnerBytes ?? 0) / MiB, 1)} MiB of owner output` : 'NOT dropped'}, close ${v.viewer.closeCode ?? 'none (terminated)'}${v.bridgeCode === null ? '' : ` ${v.bridgeCode}`}`;
  log(`  A ${f(rd.throughput.direct?.mibPerS, 1)} MiB/s, B ${f(rd.throughput.bridge?.mibPerS, 1)} MiB/s${BV ? `, B+viewer ${f(v?.throughput.mibPerS, 1)} MiB/s${vs}${fate}` : ''}`);
  log(`${r}: keystroke echo x${ECHO_N}`);
  rd.echo.direct = await attempt(`${r} echo direct`, () => echo(A, ECHO_N));
  rd.echo.bridge = await attempt(`${r} echo bridge`, () => echo(B, ECHO_N));
  if (C) rd.relayEcho = await attempt(`${r} echo relay`, () => echo(C, ECHO_N));
  log(`  p50 A ${f(pct(rd.echo.direct)?.p50, 3)} ms, B ${f(pct(rd.echo.bridge)?.p50, 3)} ms${C ? `, C ${f(pct(rd.relayEcho)?.p50, 3)} ms` : ''}`);
  log(`${r}: connect to prompt x${SETUP_N} each`);
  rd.setup = await attempt(`${r} setup`, () => setup(A, B, SETUP_N));
  errors.push(...(rd.setup?.errors ?? []).map((e) => `${r} setup ${e}`));
  log(`  p50 A ${f(pct(rd.setup?.a)?.p50, 1)} ms, B ${f(pct(rd.setup?.b)?.p50, 1)} ms`);
  log(`${r}: ${FLOODS} concurrent floods`);
  rd.floods.direct = await attempt(`${r} floods direct`, () => floods(A, FLOODS, file, null));
  rd.floods.w1 = await attempt(`${r} floods bridge 1 worker`, () => floods(B, FLOODS, file, bridge.pid));
  if (W2) rd.floods.w2 = await attempt(`${r} floods bridge 2 workers`, () => floods(W2.open, FLOODS, file, W2.bridge.pid));
  log(`  A ${f(rd.floods.direct?.mibPerS, 1)} MiB/s, B1 ${f(rd.floods.w1?.mibPerS, 1)} MiB/s, B2 ${W2 ? f(rd.floods.w2?.mibPerS, 1) : 'pending'} MiB/s`);
  log(`${r}: slow reader at ${SLOW_RATE / 1024} KiB/s for ${SLOW_S} s, 1 session, then ${SLOW_N}`);
  rd.slow.one = await attempt(`${r} slow reader x1`, () => slowThroughFreshBridge(target, file, 1));
  rd.slow.many = await attempt(`${r} slow reader x${SLOW_N}`, () => slowThroughFreshBridge(target, file, SLOW_N));
  const [s1, sn] = [rd.slow.one, rd.slow.many];
  log(`  peak growth x1 ${f(s1?.peakGrowthKiB, 0)} KiB, x${SLOW_N} ${f(sn?.peakGrowthKiB, 0)} KiB: ${f(s1 && sn ? marginalKiB(s1, sn) : null, 0)} KiB per extra session; read ${f(sn?.readKiBPerSPerSession, 1)} KiB/s, ${sn?.alive ?? '-'} alive`);
  log(`${r}: ${SESSIONS} idle sessions, ${BATCH} at a time`);
  rd.idle.direct = await attempt(`${r} idle direct`, () => idle(A, SESSIONS, BATCH, null));
  await sleep(1000);
  rd.idle.bridge = await attempt(`${r} idle bridge`, () => idleThroughFreshBridge(target));
  for (const [side, i] of [['direct', rd.idle.direct], ['bridge', rd.idle.bridge]] as const) {
    errors.push(...(i?.errors ?? []).map((e) => `${r} idle ${side}: ${e}`));
  }
  const [d, b] = [rd.idle.direct, rd.idle.bridge];
  log(`  A ${f(d?.openSeconds, 2)} s (${d?.failures ?? '-'} failed), B ${f(b?.openSeconds, 2)} s (${b?.failures ?? '-'} failed), ${f(b?.kibPerSession, 1)} KiB/session`);
}

async function main(): Promise<void> {
  const started = new Date();
  log(`rounds=${ROUNDS} sessions=${SESSIONS} file=${FILE_MB} MiB echo=${ECHO_N} setup=${SETUP_N} floods=${FLOODS} slow=${SLOW_N}x${SLOW_RATE / 1024}KiB/s/${SLOW_S}s relay=${RELAY} viewer=${VIEWER}`);
  const workersFlag = bridgeHasWorkersFlag();
  log(`bridge --workers: ${workersFlag ? 'supported' : 'not supported yet (2-worker rows pending)'}`);
  const nofileSelf = openFileLimit();
  if (nofileSelf !== null && nofileSelf.soft < SESSIONS + 512) log(`WARNING: this process may open only ${nofileSelf.soft} files; ${SESSIONS} direct sessions need more (raise ulimit -n)`);
  // The files row's sftp client logs in with a key: sshd gets its public half (ssh2 and the bridge still use the password).
  const sftpKey = FILES === 'no' ? null : makeSftpKey();
  filesDir = sftpKey?.dir;
  sshd = await startSshd(sftpKey ? { authorizedKey: sftpKey.pub } : {});
  const target: Target = { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password, prompt: TEST_PROMPT };
  log(`sshd on 127.0.0.1:${sshd.port}`);
  if (CLUSTER === 'only') { await clusterOnly(target, started); return; }
  if (FILES === 'only' && sftpKey) { await filesOnly(target, sftpKey, started); return; }
  if (JUMP === 'only') { await jumpOnly(started); return; }
  const file = makeFile(FILE_MB);
  log(`data file ${file.path}: ${file.size} bytes`);
  const bridge = await bridgeWith({ workers: 1 });
  log(`bridge pid ${bridge.pid} on 127.0.0.1:${bridge.port} (${bridge.args.join(' ')}), open files ${bridge.nofile ?? '?'}`);
  const w2 = workersFlag ? await bridgeWith({ workers: 2 }) : null;
  if (w2) log(`bridge --workers 2: pid ${w2.pid} on 127.0.0.1:${w2.port}, processes ${processTree(w2.pid).join(',')}`);
  const relay = RELAY ? await track(spawnRelay(sshd.port)) : null;

  const load0 = loadavg();
  const loads: number[] = [load0[0] ?? 0];
  const loadTimer = setInterval(() => loads.push(loadavg()[0] ?? 0), 10_000);
  loadTimer.unref();
  const sys0 = systemCpu();
  const A: Opener = directOpener(target);
  const B: Opener = bridgeOpener(bridge.port, target);
  const BV: SharedBridge | null = VIEWER ? sharedBridgeOpener(bridge.port, target) : null;
  const C: Opener | null = relay ? bridgeOpener(relay.port, target) : null;
  const W2 = w2 ? { open: bridgeOpener(w2.port, target), bridge: w2 } : null;
  // Warm-up, not recorded: the first bulk transfer and keystrokes through a fresh process run
  // cold JIT code and would skew round 1.
  log('warm-up (not recorded)');
  for (const open of [A, B, C]) {
    if (open === null) continue;
    await attempt('warm-up throughput', () => throughput(open, file, bridge.pid));
    await attempt('warm-up echo', () => echo(open, 200));
  }
  if (BV) await attempt('warm-up throughput bridge+viewer', () => throughputWithViewer(BV, file, bridge));
  // One flood per worker, so each has run the output path before it is measured.
  if (W2) await attempt('warm-up floods 2 workers', () => floods(W2.open, 2, file, W2.bridge.pid));
  const rounds: RoundData[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const rd = emptyRound(r);
    rounds.push(rd);
    await round(rd, { A, B, BV, C, W2 }, file, bridge, target);
    if (!bridge.alive()) { errors.push(`bridge process died:\n${bridge.log()}`); break; }
    if (w2 && !w2.alive()) { errors.push(`bridge --workers 2 died:\n${w2.log()}`); break; }
  }

  const cluster = CLUSTER === 'yes' ? await attempt('cluster row', () => runClusterRow(target)) : null;
  const files = FILES === 'yes' && sftpKey ? await attempt('files row', () => runFilesRow(target, sftpKey)) : null;
  const jump = JUMP === 'yes' ? await attempt('jump row', runJumpRow) : null;

  // How busy the machine was: all CPUs during the run (this benchmark's own tree included), and
  // for 3 s at the end with all of ours idle: that part is other work on the machine.
  const busyRun = busyCores(sys0, systemCpu());
  clearInterval(loadTimer);
  loads.push(loadavg()[0] ?? 0);
  const idle0 = systemCpu();
  await sleep(3000);
  const loadRun = { min: Math.min(...loads), mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads), samples: loads.length };
  const machine = {
    loadavgStart: load0, loadavgEnd: loadavg(), loadavg1mDuringRun: loadRun,
    busyCoresDuringRun: busyRun, busyCoresWhileIdleAtEnd: busyCores(idle0, systemCpu()),
  };

  const ctx = { fileBytes: file.size, workersFlag, floodSessions: FLOODS, slowSessions: SLOW_N, slowRateBytesPerS: SLOW_RATE, slowSeconds: SLOW_S, idleWorkers: workersFlag ? IDLE_WORKERS : null, viewer: VIEWER, sshWindowKiB: defaultSshWindowKiB() };
  const rows = summarize(rounds, ctx);
  const reference = relayLine(rounds);
  process.stdout.write(`\nwebssh-bridge benchmark: ${ROUNDS} rounds, medians; A = ssh2 client straight to sshd, B = ws client through the bridge${VIEWER ? ', B+viewer = B on a shared session with one stalled viewer' : ''}\n`);
  process.stdout.write(`machine: ${cpus().length} CPUs, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, 1-min load ${loadRun.min.toFixed(2)}-${loadRun.max.toFixed(2)} (mean ${loadRun.mean.toFixed(2)}) during the run; ${busyRun.toFixed(2)} cores busy during the run (all processes), ${machine.busyCoresWhileIdleAtEnd.toFixed(2)} busy with the benchmark idle at the end (other work)\n`);
  process.stdout.write(`bridge --workers: ${workersFlag ? `yes (B = --workers 1 unless a row says otherwise; ${defaultWorkersNote()})` : 'not supported by this build: single process, 2-worker rows pending'}\n\n`);
  process.stdout.write(`${formatTable(rows)}\n${reference === null ? '' : `\n${reference}\n`}`);
  if (cluster !== null) process.stdout.write(`\n${cluster.text}\n`);
  if (files !== null) process.stdout.write(`\n${files.text}\n`);
  if (jump !== null) process.stdout.write(`\n${jump.text}\n`);
  if (errors.length > 0) process.stdout.write(`\n${errors.length} error(s):\n${errors.map((e) => `- ${e.slice(0, 500)}`).join('\n')}\n`);

  const sshdVersion = spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' }).stderr.trim().split('\n')[0] ?? '';
  const out = join(ROOT, 'bench', 'results', 'latest.json');
  writeJson(out, {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    environment: {
      node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), sshd: sshdVersion, clkTck: clockTicks(),
      openFilesBench: nofileSelf, openFilesBridge: bridge.nofile, bridgeArgs: bridge.args, workersFlag,
    },
    machine,
    config: {
      rounds: ROUNDS, sessions: SESSIONS, batch: BATCH, idleWorkers: workersFlag ? IDLE_WORKERS : null, fileMiB: FILE_MB, fileBytes: file.size,
      echoKeystrokes: ECHO_N, setupConnections: SETUP_N, floodSessions: FLOODS,
      slowSessions: SLOW_N, slowRateBytesPerS: SLOW_RATE, slowSeconds: SLOW_S, relay: RELAY, viewer: VIEWER,
    },
    summary: rows,
    reference,
    rounds: roundsForJson(rounds),
    cluster: cluster?.json ?? null,
    files: files?.json ?? null,
    jump: jump?.json ?? null,
    errors,
    bridgeLogTail: bridge.log().split('\n').slice(-20),
  });
  process.stdout.write(`\nwrote ${out}\n`);
  process.exitCode = errors.length > 0 ? 1 : 0;
}

function runClusterRow(target: Target): Promise<ClusterResult> {
  log(`cluster row: ${JSON.stringify(CLUSTER_KNOBS)}`);
  return clusterRow(target, CLUSTER_KNOBS, log, attempt, (close) => { closeCluster = close; });
}

/** BENCH_CLUSTER=only: the cluster row alone, with the load around it; bench/results/cluster.json. */
async function clusterOnly(target: Target, started: Date): Promise<void> {
  const load0 = loadavg();
  const sys0 = systemCpu();
  const cluster = await attempt('cluster row', () => runClusterRow(target));
  const machine = { loadavgStart: load0, loadavgEnd: loadavg(), busyCoresDuringRun: busyCores(sys0, systemCpu()) };
  process.stdout.write(`\nmachine: ${cpus().length} CPUs, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${machine.loadavgEnd.map((l) => l.toFixed(2)).join(' ')} at the end; ${machine.busyCoresDuringRun.toFixed(2)} cores busy during the run (all processes)\n\n`);
  if (cluster !== null) process.stdout.write(`${cluster.text}\n`);
  if (errors.length > 0) process.stdout.write(`\n${errors.length} error(s):\n${errors.map((e) => `- ${e.slice(0, 500)}`).join('\n')}\n`);
  const out = join(ROOT, 'bench', 'results', 'cluster.json');
  writeJson(out, { started: started.toISOString(), finished: new Date().toISOString(), machine, cluster: cluster?.json ?? null, errors });
  process.stdout.write(`\nwrote ${out}\n`);
  process.exitCode = errors.length > 0 ? 1 : 0;
}

/** The files row on a fresh single-process bridge of its own (its RSS baseline not inflated by the other rows). */
async function runFilesRow(target: Target, key: { dir: string; key: string }): Promise<FilesResult> {
  if (!sshd) throw new Error('files row: no sshd');
  log(`files row: ${JSON.stringify(FILES_KNOBS)}`);
  const b = await bridgeWith({ workers: 1 });
  try {
    return await filesRow(target, sshd, key, b, FILES_KNOBS, log, attempt);
  } finally {
    await b.stop();
    children.delete(b);
  }
}

/**
 * A row run alone (BENCH_FILES=only, BENCH_JUMP=only), with the load around it: its table, then
 * bench/results/NAME.json with the row's JSON under NAME beside `environment`.
 */
async function rowAlone(name: 'files' | 'jump', run: () => Promise<{ text: string; json: unknown }>, started: Date, environment: () => Record<string, unknown>): Promise<void> {
  const load0 = loadavg();
  const loads: number[] = [load0[0] ?? 0];
  const loadTimer = setInterval(() => loads.push(loadavg()[0] ?? 0), 10_000);
  loadTimer.unref();
  const sys0 = systemCpu();
  const row = await attempt(`${name} row`, run);
  clearInterval(loadTimer);
  loads.push(loadavg()[0] ?? 0);
  const machine = { loadavgStart: load0, loadavgEnd: loadavg(), loadavg1mDuringRun: { min: Math.min(...loads), max: Math.max(...loads) }, busyCoresDuringRun: busyCores(sys0, systemCpu()) };
  process.stdout.write(`\nmachine: ${cpus().length} CPUs, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${machine.loadavgEnd.map((l) => l.toFixed(2)).join(' ')} at the end, 1-min load ${machine.loadavg1mDuringRun.min.toFixed(2)}-${machine.loadavg1mDuringRun.max.toFixed(2)} during the run; ${machine.busyCoresDuringRun.toFixed(2)} cores busy during the run (all processes)\n\n`);
  if (row !== null) process.stdout.write(`${row.text}\n`);
  if (errors.length > 0) process.stdout.write(`\n${errors.length} error(s):\n${errors.map((e) => `- ${e.slice(0, 500)}`).join('\n')}\n`);
  const out = join(ROOT, 'bench', 'results', `${name}.json`);
  writeJson(out, { started: started.toISOString(), finished: new Date().toISOString(), environment: environment(), machine, [name]: row?.json ?? null, errors });
  process.stdout.write(`\nwrote ${out}\n`);
  process.exitCode = errors.length > 0 ? 1 : 0;
}

/** BENCH_FILES=only: the files row alone; bench/results/files.json. */
function filesOnly(target: Target, key: { dir: string; key: string }, started: Date): Promise<void> {
  return rowAlone('files', () => runFilesRow(target, key), started, () => ({
    node: process.version, openssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
  }));
}

/** The jump row on a fresh single-process bridge of its own, with its own bastion and target sshd and key. */
async function runJumpRow(): Promise<JumpResult> {
  const key = makeSftpKey();
  jumpDir = key.dir;
  const b = await bridgeWith({ workers: 1 });
  try {
    return await jumpRow(key, b, JUMP_KNOBS, log, attempt, (close) => { closeJump = close; });
  } finally {
    await b.stop();
    children.delete(b);
  }
}

/** BENCH_JUMP=only: the jump row alone; bench/results/jump.json. */
function jumpOnly(started: Date): Promise<void> {
  return rowAlone('jump', runJumpRow, started, () => ({
    node: process.version, openssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
    sshd: spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' }).stderr.trim().split('\n')[0] ?? '', cpus: cpus().length,
  }));
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
