/**
 * The cluster row's workloads (bench/cluster.ts runs them): admissions per second (N resumable
 * sessions opened `batch` at a time to the prompt, held, closed) with what they cost the nodes
 * (RSS, CPU) and Redis (commands by name, memory, CPU); Redis's idle command rate (the nodes'
 * heartbeats); and resume latency on the owner node against through another node (the relay).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisHandle } from '../test/helpers/redis.js';
import { activeSessions, type BridgeProc } from './bridge-proc.js';
import { openResumable, resumeThrough } from './cluster-client.js';
import { keysBytes, parseInfo } from './cluster-procs.js';
import { treeCpuSeconds, treeRssKiB } from './procfs.js';
import { monitor, type Monitored } from './redis-monitor.js';
import type { Opener, Target, Term } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS } from './workloads.js';

/** Redis command calls by name (`INFO commandstats`: cmdstat_NAME:calls=N,...). */
export async function commandCalls(redis: RedisHandle): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of parseInfo(await redis.command('INFO', 'commandstats'))) {
    const m = /^calls=(\d+)/.exec(v);
    if (k.startsWith('cmdstat_') && m) out[k.slice(8)] = Number(m[1]);
  }
  return out;
}

/**
 * The sessions a node holds itself: /stats' cluster.sessions.own on a cluster node (its /health
 * counts the whole cluster's), /health's active_sessions otherwise.
 */
export async function ownSessions(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/stats`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { cluster?: { sessions?: { own?: unknown } } };
    const own = body.cluster?.sessions?.own;
    if (typeof own === 'number') return own;
  } catch { /* not there: /health */ }
  return activeSessions(port);
}

/** Calls of everything but the benchmark's own look at Redis (INFO, CONFIG, KEYS, MEMORY, PING). */
const OWN = /^(info|config|keys|memory|ping)(\||$)/;
const total = (c: Record<string, number>): number => Object.entries(c).reduce((a, [k, n]) => (OWN.test(k) ? a : a + n), 0);

interface RedisNumbers { usedMemory: number; keys: number; keyBytes: number; cpuS: number }

async function redisCpuS(redis: RedisHandle): Promise<number> {
  const cpu = parseInfo(await redis.command('INFO', 'cpu'));
  return Number(cpu.get('used_cpu_user') ?? NaN) + Number(cpu.get('used_cpu_sys') ?? NaN);
}

async function redisNumbers(redis: RedisHandle): Promise<RedisNumbers> {
  const mem = parseInfo(await redis.command('INFO', 'memory'));
  const cpuS = await redisCpuS(redis);
  const kb = await keysBytes(redis);
  return {
    usedMemory: Number(mem.get('used_memory') ?? NaN), keys: kb.keys, keyBytes: kb.bytes,
    cpuS,
  };
}

/** What Redis did over a stretch: calls by name (and in all), and how long the stretch was. */
export interface RedisWindow {
  seconds: number;
  /** Commands executed (INFO commandstats: those scripts ran included), by name, and in all. */
  calls: Record<string, number>;
  total: number;
  /** With MONITOR on: requests the nodes sent and commands their scripts ran (bench/redis-monitor.ts). */
  monitored: Monitored | null;
  /** Redis's CPU seconds (INFO cpu, user + sys) over the window (MONITOR's own cost included when on). */
  cpuS: number;
}

export async function window(redis: RedisHandle, fn: () => Promise<void>, watch: boolean): Promise<RedisWindow> {
  const mon = watch ? await monitor(redis.port) : null;
  await redis.command('CONFIG', 'RESETSTAT');
  const cpu0 = await redisCpuS(redis);
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpuS = (await redisCpuS(redis)) - cpu0;
  const calls = await commandCalls(redis);
  return { seconds, calls, total: total(calls), monitored: mon === null ? null : await mon.stop(), cpuS };
}

/** Redis commands per second with the cluster's nodes up and nothing happening: their heartbeats (MONITOR on). */
export async function idleRate(redis: RedisHandle, seconds: number, watch: boolean): Promise<RedisWindow> {
  return window(redis, () => sleep(seconds * 1000), watch);
}

export interface AdmissionRun {
  label: string;
  requested: number;
  opened: number;
  failures: number;
  /** From the first open to the last prompt. */
  openSeconds: number;
  perSecond: number;
  /** Sessions each node counted (its /health) with all open: how HAProxy spread them. */
  perNode: (number | null)[];
  /** CPU seconds of all the nodes while opening, and that per admission in ms. */
  nodeCpuS: number;
  nodeCpuMsPerSession: number;
  /** RSS of HAProxy (when it is in the path) before and with all open, KiB; per session. */
  lbRssBeforeKiB: number | null;
  lbRssOpenKiB: number | null;
  lbKibPerSession: number | null;
  /** RSS of all the nodes before and with all open (after 1 s), KiB; per session. */
  rssBeforeKiB: number;
  rssOpenKiB: number;
  kibPerSession: number;
  closeSeconds: number;
  /**
   * With Redis only: commands while opening, while holding them `holdSeconds`, while closing;
   * memory (INFO's used_memory, and the sum of MEMORY USAGE over every key); CPU.
   */
  redis: {
    admit: RedisWindow; hold: RedisWindow; release: RedisWindow;
    before: RedisNumbers; open: RedisNumbers; after: RedisNumbers;
    bytesPerSession: number; keyBytesPerSession: number;
    cpuS: number; cpuMsPerSession: number;
  } | null;
  errors: string[];
}

/**
 * Open `count` sessions `batch` at a time through `open`, hold them, close them all and wait
 * until every node counts 0. `nodes` are the processes that hold sessions (RSS, CPU, /health).
 * No `nodes`: side A, ssh2 straight to sshd (nothing to wait for after the closes).
 * `watch`: MONITOR on Redis throughout (requests apart from scripted commands; costs Redis CPU).
 */
export async function admissions(label: string, open: Opener, count: number, batch: number, nodes: readonly BridgeProc[], ends: () => number, redis: RedisHandle | null, holdSeconds: number, lbPid: number | null, watch = false): Promise<AdmissionRun> {
  const errors: string[] = [];
  const rss = (): number => nodes.reduce((a, n) => a + treeRssKiB(n.pid), 0);
  const cpu = (): number => nodes.reduce((a, n) => a + treeCpuSeconds(n.pid), 0);
  const rssBeforeKiB = rss();
  const lbRssBeforeKiB = lbPid === null ? null : treeRssKiB(lbPid);
  let lbRssOpenKiB: number | null = null;
  const r0 = redis === null ? null : await redisNumbers(redis);
  const terms: Term[] = [];
  let failures = 0;
  let openSeconds = 0;
  let nodeCpuS = 0;
  const openAll = async (): Promise<void> => {
    const c0 = cpu();
    const t0 = performance.now();
    for (let done = 0; done < count; done += batch) {
      const results = await Promise.allSettled(Array.from({ length: Math.min(batch, count - done) }, () => open(CONNECT_TIMEOUT_MS)));
      for (const r of results) {
        if (r.status === 'fulfilled') terms.push(r.value);
        else { failures++; if (errors.length < 5) errors.push((r.reason as Error).message.slice(0, 400)); }
      }
    }
    openSeconds = (performance.now() - t0) / 1000;
    nodeCpuS = cpu() - c0;
  };
  let rssOpenKiB = 0;
  let perNode: (number | null)[] = [];
  let r1: RedisNumbers | null = null;
  // Outside every Redis window: /stats asks Redis (the cluster's figures).
  const snapshot = async (): Promise<void> => {
    await sleep(1000);
    rssOpenKiB = rss();
    lbRssOpenKiB = lbPid === null ? null : treeRssKiB(lbPid);
    perNode = await Promise.all(nodes.map((n) => ownSessions(n.port)));
    r1 = redis === null ? null : await redisNumbers(redis);
  };
  const hold = (): Promise<void> => sleep(holdSeconds * 1000);
  let closeSeconds = 0;
  // Until every node logged the end of every session (its log, not its /health, which asks
  // Redis), then 500 ms for the releases that follow the log line.
  const closeAll = async (): Promise<void> => {
    const t1 = performance.now();
    const target = ends() + terms.length;
    await Promise.all(terms.map((t) => closeTerm(t)));
    while (nodes.length > 0 && ends() < target && performance.now() - t1 < 30_000) await sleep(50);
    if (nodes.length > 0 && ends() < target) errors.push(`only ${ends() - target + terms.length} of ${terms.length} session ends logged after 30 s`);
    closeSeconds = (performance.now() - t1) / 1000;
    await sleep(500);
  };
  const checkClosed = async (): Promise<void> => {
    const left = await Promise.all(nodes.map((n) => ownSessions(n.port)));
    if (!left.every((x) => x === 0)) errors.push(`sessions left after closing: ${left.join(',')}`);
  };
  let redisPart: AdmissionRun['redis'] = null;
  if (redis === null) {
    await openAll();
    await snapshot();
    await hold();
    await closeAll();
  } else {
    const admit = await window(redis, openAll, watch);
    await snapshot();
    const held = await window(redis, hold, watch);
    const release = await window(redis, closeAll, watch);
    const r2 = await redisNumbers(redis);
    const before = r0 ?? r2;
    const open = r1 ?? r2;
    redisPart = {
      admit, hold: held, release, before, open, after: r2,
      bytesPerSession: terms.length > 0 ? (open.usedMemory - before.usedMemory) / terms.length : NaN,
      keyBytesPerSession: terms.length > 0 ? (open.keyBytes - before.keyBytes) / terms.length : NaN,
      cpuS: r2.cpuS - before.cpuS, cpuMsPerSession: terms.length > 0 ? ((r2.cpuS - before.cpuS) * 1000) / terms.length : NaN,
    };
  }
  await checkClosed();
  const opened = terms.length;
  return {
    label, requested: count, opened, failures, openSeconds, perSecond: opened / openSeconds, perNode,
    nodeCpuS, nodeCpuMsPerSession: opened > 0 ? (nodeCpuS * 1000) / opened : NaN,
    lbRssBeforeKiB, lbRssOpenKiB, lbKibPerSession: lbRssBeforeKiB !== null && lbRssOpenKiB !== null && opened > 0 ? (lbRssOpenKiB - lbRssBeforeKiB) / opened : null,
    rssBeforeKiB, rssOpenKiB, kibPerSession: opened > 0 ? (rssOpenKiB - rssBeforeKiB) / opened : NaN,
    closeSeconds, redis: redisPart, errors,
  };
}

export interface ResumeRun { owner: number[]; relayed: number[]; errors: string[] }

/**
 * One resumable session on the owner node; then `n` resumes on the owner and `n` through another
 * node, interleaved (owner, other, other, owner, ...: each kind goes first as often), each taking
 * the previous socket over. Times in ms, socket creation to `resumed`.
 */
export async function resumeLatency(ownerUrl: string, otherUrl: string, target: Target, n: number): Promise<ResumeRun> {
  const out: ResumeRun = { owner: [], relayed: [], errors: [] };
  const s = await openResumable(ownerUrl, target, CONNECT_TIMEOUT_MS);
  try {
    await s.term.waitQuiet(100, 2000);
    for (let i = 0; i < 2 * n; i++) {
      const relayed = (i % 4 === 1 || i % 4 === 2);
      try {
        const ms = await resumeThrough(relayed ? otherUrl : ownerUrl, s, 10_000);
        (relayed ? out.relayed : out.owner).push(ms);
      } catch (err) {
        if (out.errors.length < 5) out.errors.push((err as Error).message);
        break; // the token is spent or unknown now: nothing more to resume
      }
      await sleep(20);
    }
  } finally {
    s.ws.close(1000);
    await sleep(200);
    s.ws.terminate();
  }
  return out;
}
