/**
 * The cluster row of `npm run bench` (BENCH_CLUSTER=1 after the A/B rounds, BENCH_CLUSTER=only
 * alone): three bridge nodes as real CLI processes on one real Redis, behind a real HAProxy
 * running docs/examples/haproxy.cfg (bench/cluster-procs.ts), against the same sshd as A and B.
 * Per round, in an order that rotates: admissions per second for A (ssh2 straight to sshd),
 * straight to a node without Redis or HAProxy (the baseline), and through HAProxy with 1 node in
 * its pool (the others disabled on its runtime API) and with 3; keystroke
 * echo for A (ssh2 straight to sshd), a cluster node directly and HAProxy. Once: Redis's idle
 * command rate (heartbeats), and resume latency on the owner against through another node.
 * Knobs: BENCH_CLUSTER_ROUNDS (2), BENCH_CLUSTER_SESSIONS (200), BENCH_CLUSTER_BATCH (20),
 * BENCH_CLUSTER_RESUMES (50 of each kind), BENCH_CLUSTER_HOLD_S (5), BENCH_CLUSTER_IDLE_S (15),
 * BENCH_ECHO (keystrokes per echo run, as for A/B).
 */
import { bridgeOpener } from './bridge-client.js';
import { resumableOpener, sessionUrl } from './cluster-client.js';
import { NODE_IDS, startCluster } from './cluster-procs.js';
import { admissions, idleRate, resumeLatency, window, type AdmissionRun, type RedisWindow, type ResumeRun } from './cluster-workloads.js';
import { directOpener } from './direct.js';
import { pct } from './report.js';
import { median, percentile } from './stats.js';
import type { Target } from './term.js';
import { echo } from './workloads.js';

export interface ClusterKnobs { rounds: number; sessions: number; batch: number; resumes: number; holdS: number; idleS: number; echoN: number }

type Attempt = <T>(what: string, fn: () => Promise<T>) => Promise<T | null>;

interface ClusterRound { round: number; admissions: Record<string, AdmissionRun | null>; echo: Record<string, number[] | null> }

export interface ClusterResult { text: string; json: Record<string, unknown> }

const KINDS = ['direct', 'baseline', 'lb1', 'lb3'] as const;
const LABEL: Record<(typeof KINDS)[number], string> = {
  direct: 'A: ssh2 straight to sshd',
  baseline: 'one node, no HAProxy, no Redis',
  lb1: 'HAProxy, 1 node in the pool',
  lb3: 'HAProxy, 3 nodes',
};

const f = (x: number | null | undefined, d: number): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const med = (xs: (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : median(v);
};

/** `onStarted`: the cluster's close, for a caller that must stop it on a signal. */
export async function clusterRow(target: Target, k: ClusterKnobs, log: (msg: string) => void, attempt: Attempt, onStarted: (close: () => Promise<void>) => void): Promise<ClusterResult> {
  const c = await startCluster(log);
  onStarted(() => c.close());
  try {
    const [n1, n2] = c.nodes;
    if (n1 === undefined || n2 === undefined) throw new Error('cluster: fewer than 2 nodes');
    log('cluster: warm-up (not recorded)');
    await c.pool(3);
    for (const port of [c.haproxy.port, c.plain.port, ...c.nodes.map((n) => n.port)]) {
      await attempt('cluster warm-up', () => echo(resumableOpener(sessionUrl(port, target), target), 50));
    }
    log(`cluster: Redis idle for ${k.idleS} s (the heartbeats of ${c.nodes.length} nodes)`);
    const idle = await attempt('cluster idle rate', () => idleRate(c.redis, k.idleS, true));
    // Redis's own CPU at rest (its cron) with the heartbeats, MONITOR off: subtracted from the runs'.
    const idleCpu = await attempt('cluster idle cpu', () => idleRate(c.redis, k.idleS, false));
    if (idle) log(`  ${f(idle.total / idle.seconds, 2)} commands/s: ${JSON.stringify(idle.calls)}`);

    const rounds: ClusterRound[] = [];
    for (let r = 1; r <= k.rounds; r++) {
      const rd: ClusterRound = { round: r, admissions: {}, echo: {} };
      rounds.push(rd);
      const order = KINDS.map((_, i) => KINDS[(i + r - 1) % KINDS.length] ?? 'baseline');
      for (const kind of order) {
        log(`cluster round ${r}/${k.rounds}: ${k.sessions} admissions, ${k.batch} at a time, ${LABEL[kind]}`);
        if (kind === 'lb1' || kind === 'lb3') await c.pool(kind === 'lb1' ? 1 : 3);
        const port = kind === 'baseline' ? c.plain.port : c.haproxy.port;
        const nodes = kind === 'direct' ? [] : kind === 'baseline' ? [c.plain] : c.nodes;
        const ends = (): number => nodes.reduce((a, n) => a + c.ends(n), 0);
        const open = kind === 'direct' ? directOpener(target) : resumableOpener(sessionUrl(port, target), target);
        const run = await attempt(`cluster round ${r} admissions ${kind}`, () =>
          admissions(LABEL[kind], open, k.sessions, k.batch, nodes, ends, kind === 'lb1' || kind === 'lb3' ? c.redis : null, k.holdS, kind === 'lb1' || kind === 'lb3' ? c.haproxyPid : null));
        rd.admissions[kind] = run;
        if (run) log(`  ${f(run.perSecond, 1)} sessions/s (${run.failures} failed), per node ${run.perNode.join('/')}, ${f(run.kibPerSession, 1)} KiB/session, ${f(run.nodeCpuMsPerSession, 2)} node CPU ms/session${run.redis ? `, Redis ${run.redis.admit.total}+${run.redis.release.total} commands, ${f(run.redis.bytesPerSession, 0)} B/session` : ''}`);
      }
      await c.pool(3);
      log(`cluster round ${r}/${k.rounds}: keystroke echo x${k.echoN}: A, a node directly, HAProxy`);
      rd.echo.direct = await attempt(`cluster round ${r} echo A`, () => echo(directOpener(target), k.echoN));
      rd.echo.node = await attempt(`cluster round ${r} echo node`, () => echo(bridgeOpener(n1.port, target), k.echoN));
      rd.echo.haproxy = await attempt(`cluster round ${r} echo haproxy`, () => echo(bridgeOpener(c.haproxy.port, target), k.echoN));
      log(`  p50 A ${f(pct(rd.echo.direct)?.p50, 3)} ms, node ${f(pct(rd.echo.node)?.p50, 3)} ms, HAProxy ${f(pct(rd.echo.haproxy)?.p50, 3)} ms`);
      const dead = c.dead();
      if (dead.length > 0) throw new Error(`cluster: ${dead.join(', ')} died:\n${c.nodes.map((n) => n.log()).join('\n')}`);
    }

    log(`cluster: ${k.sessions} admissions through HAProxy, 3 nodes, with MONITOR on Redis (requests apart from scripted commands)`);
    await c.pool(3);
    const watched = await attempt('cluster monitored admissions', () =>
      admissions('HAProxy, 3 nodes, MONITOR', resumableOpener(sessionUrl(c.haproxy.port, target), target), k.sessions, k.batch, c.nodes, () => c.nodes.reduce((a, n) => a + c.ends(n), 0), c.redis, k.holdS, c.haproxyPid, true));
    if (watched?.redis) log(`  requests: admission ${JSON.stringify(watched.redis.admit.monitored?.requests)}, release ${JSON.stringify(watched.redis.release.monitored?.requests)}`);

    log(`cluster: ${k.resumes} resumes on the owner (${NODE_IDS[0]}) and ${k.resumes} through ${NODE_IDS[1]} (relayed), interleaved`);
    const got: { run: ResumeRun | null } = { run: null };
    const resumeRedis = await attempt('cluster resumes', () => window(c.redis, async () => {
      got.run = await resumeLatency(sessionUrl(n1.port, target), sessionUrl(n2.port, target), target, k.resumes);
    }, true));
    const resumes = got.run;
    if (resumes) log(`  p50 owner ${f(percentile(resumes.owner, 50), 2)} ms, relayed ${f(percentile(resumes.relayed, 50), 2)} ms${resumes.errors.length > 0 ? `; ${resumes.errors.join('; ')}` : ''}`);
    return { text: report(rounds, idle, idleCpu, watched, resumes, resumeRedis, k), json: { knobs: k, idle, idleCpu, resumeRedis, rounds: roundsJson(rounds), monitored: watched, resumes: resumes && { owner: pct(resumes.owner), relayed: pct(resumes.relayed), errors: resumes.errors } } };
  } finally {
    await c.close();
  }
}

function roundsJson(rounds: ClusterRound[]): unknown[] {
  return rounds.map((rd) => ({ round: rd.round, admissions: rd.admissions, echo: Object.fromEntries(Object.entries(rd.echo).map(([k, v]) => [k, pct(v)])) }));
}

/** The cluster row's table: medians over rounds. */
function report(rounds: ClusterRound[], idle: RedisWindow | null, idleCpu: RedisWindow | null, watched: AdmissionRun | null, resumes: ResumeRun | null, resumeRedis: RedisWindow | null, k: ClusterKnobs): string {
  const adm = (kind: string, pick: (a: AdmissionRun) => number | null | undefined): number | null => med(rounds.map((r) => { const a = r.admissions[kind]; return a ? pick(a) : null; }));
  const ech = (side: string, p: number): number | null => med(rounds.map((r) => { const e = r.echo[side]; return e && e.length > 0 ? percentile(e, p) : null; }));
  const rate = (kind: string): number | null => adm(kind, (a) => a.perSecond);
  const base = rate('baseline');
  const ratio = (x: number | null, y: number | null): string => (x !== null && y !== null && y > 0 ? `${(x / y).toFixed(2)}x` : '-');
  const idleRate = idle ? idle.total / idle.seconds : null;
  const net = (kind: string, w: 'admit' | 'release'): number | null => adm(kind, (a) => (a.redis && idleRate !== null ? (a.redis[w].total - idleRate * a.redis[w].seconds) / a.opened : null));
  const holdExtra = (kind: string): number | null => adm(kind, (a) => (a.redis && idleRate !== null ? (a.redis.hold.total / a.redis.hold.seconds - idleRate) / a.opened : null));
  const restCpu = idleCpu ? idleCpu.cpuS / idleCpu.seconds : null;
  const netCpu = (kind: string): number | null => adm(kind, (a) => {
    const w = a.redis;
    if (!w || restCpu === null) return null;
    const s = w.admit.seconds + w.hold.seconds + w.release.seconds;
    return ((w.admit.cpuS + w.hold.cpuS + w.release.cpuS - restCpu * s) * 1000) / a.opened;
  });
  const failures = KINDS.map((kind) => rounds.reduce((s, r) => s + (r.admissions[kind]?.failures ?? 0), 0));
  const lines = [
    `cluster row: ${k.rounds} rounds, medians; ${k.sessions} resumable sessions per admission run, ${k.batch} at a time; 3 nodes = real CLI processes (--workers 1) on one redis-server, behind HAProxy (docs/examples/haproxy.cfg)`,
    `| Metric | A: ssh2 straight to sshd | baseline: one node, no HAProxy/Redis | HAProxy, 1 node | HAProxy, 3 nodes | 3 nodes / 1 node |`,
    `|---|---:|---:|---:|---:|---:|`,
    `| Admissions per second (failures, all rounds) | ${f(rate('direct'), 1)} (${failures[0]}) | ${f(base, 1)} (${failures[1]}) | ${f(rate('lb1'), 1)} (${failures[2]}) | ${f(rate('lb3'), 1)} (${failures[3]}) | ${ratio(rate('lb3'), rate('lb1'))} |`,
    `| vs A | 1.00x | ${ratio(base, rate('direct'))} | ${ratio(rate('lb1'), rate('direct'))} | ${ratio(rate('lb3'), rate('direct'))} | |`,
    `| vs the baseline | | 1.00x | ${ratio(rate('lb1'), base)} | ${ratio(rate('lb3'), base)} | |`,
    `| Node CPU ms per admission (all nodes) | | ${f(adm('baseline', (a) => a.nodeCpuMsPerSession), 2)} | ${f(adm('lb1', (a) => a.nodeCpuMsPerSession), 2)} | ${f(adm('lb3', (a) => a.nodeCpuMsPerSession), 2)} | |`,
    `| Node RSS per open session, KiB (all nodes) | | ${f(adm('baseline', (a) => a.kibPerSession), 1)} | ${f(adm('lb1', (a) => a.kibPerSession), 1)} | ${f(adm('lb3', (a) => a.kibPerSession), 1)} | |`,
    `| Redis commands per session: admission | | | ${f(net('lb1', 'admit'), 2)} | ${f(net('lb3', 'admit'), 2)} | |`,
    `| Redis commands per session: release | | | ${f(net('lb1', 'release'), 2)} | ${f(net('lb3', 'release'), 2)} | |`,
    `| Redis commands per open session per second (held, over idle) | | | ${f(holdExtra('lb1'), 4)} | ${f(holdExtra('lb3'), 4)} | |`,
    `| Redis used_memory per open session, bytes | | | ${f(adm('lb1', (a) => a.redis?.bytesPerSession), 0)} | ${f(adm('lb3', (a) => a.redis?.bytesPerSession), 0)} | |`,
    `| Redis keys' MEMORY USAGE per open session, bytes | | | ${f(adm('lb1', (a) => a.redis?.keyBytesPerSession), 0)} | ${f(adm('lb3', (a) => a.redis?.keyBytesPerSession), 0)} | |`,
    `| Redis CPU ms per session (admit, hold, release) | | | ${f(adm('lb1', (a) => a.redis?.cpuMsPerSession), 3)} | ${f(adm('lb3', (a) => a.redis?.cpuMsPerSession), 3)} | |`,
    `| the same, Redis's CPU at rest subtracted | | | ${f(netCpu('lb1'), 3)} | ${f(netCpu('lb3'), 3)} | |`,
    `| HAProxy RSS per open session, KiB | | | ${f(adm('lb1', (a) => a.lbKibPerSession), 1)} | ${f(adm('lb3', (a) => a.lbKibPerSession), 1)} | |`,
    '',
    `Redis idle, ${k.idleS} s, 3 nodes, no session: ${f(idleRate, 2)} commands/s (${f(idleRate === null ? null : idleRate / 3, 2)} per node) ${idle ? JSON.stringify(idle.calls) : ''}`,
  ];
  const im = idle?.monitored;
  if (idle && im) lines.push(`  of which requests (round trips from the nodes) ${f(im.requestsTotal / idle.seconds, 2)}/s (${f(im.requestsTotal / idle.seconds / 3, 2)} per node), commands run by scripts ${f(im.scriptedTotal / idle.seconds, 2)}/s; requests ${JSON.stringify(im.requests)}`);
  if (restCpu !== null) lines.push(`Redis CPU at rest (cron and heartbeats, MONITOR off): ${f(restCpu * 1000, 2)} ms per s`);
  const rm = resumeRedis?.monitored;
  if (resumeRedis && rm && resumes) {
    const n = resumes.owner.length + resumes.relayed.length;
    lines.push(`Redis during the ${n} resumes (half relayed), per resume: ${f(rm.requestsTotal / n, 2)} requests, ${f(rm.scriptedTotal / n, 2)} scripted commands (heartbeats included); requests ${JSON.stringify(rm.requests)}`);
  }
  const w = watched?.redis;
  if (watched && w && idle && im) {
    const per = (x: RedisWindow, of: 'requestsTotal' | 'scriptedTotal'): string => f(((x.monitored?.[of] ?? NaN) - ((im[of] / idle.seconds) * x.seconds)) / watched.opened, 2);
    lines.push(`MONITOR run (3 nodes, ${watched.opened} sessions, idle rate subtracted): per session, admission ${per(w.admit, 'requestsTotal')} requests + ${per(w.admit, 'scriptedTotal')} scripted commands, release ${per(w.release, 'requestsTotal')} + ${per(w.release, 'scriptedTotal')}; held, per open session per second ${f(((w.hold.monitored?.requestsTotal ?? NaN) / w.hold.seconds - im.requestsTotal / idle.seconds) / watched.opened, 4)} requests`);
    lines.push(`  admission requests ${JSON.stringify(w.admit.monitored?.requests)}; release requests ${JSON.stringify(w.release.monitored?.requests)}`);
  }
  const last = rounds.at(-1)?.admissions.lb3?.redis;
  if (last) lines.push(`Redis keys before / with ${k.sessions} open / after, last 3-node run: ${last.before.keys} / ${last.open.keys} / ${last.after.keys} keys, ${last.before.keyBytes} / ${last.open.keyBytes} / ${last.after.keyBytes} bytes; used_memory ${last.before.usedMemory} / ${last.open.usedMemory} / ${last.after.usedMemory}`);
  if (last) lines.push(`Redis commands, last 3-node run (${k.sessions} sessions, heartbeats included): admission ${JSON.stringify(last.admit.calls)}, release ${JSON.stringify(last.release.calls)}`);
  const a50 = ech('direct', 50);
  const row = (name: string, side: string): string => `| ${name} | ${f(ech(side, 50), 3)} | ${f(ech(side, 99), 3)} | ${a50 === null || ech(side, 50) === null ? '-' : `${((ech(side, 50) ?? 0) - a50 >= 0 ? '+' : '')}${((ech(side, 50) ?? 0) - a50).toFixed(3)}`} |`;
  lines.push('', `| Keystroke echo, ms (x${k.echoN} per round) | p50 | p99 | p50 vs A |`, '|---|---:|---:|---:|',
    row('A: ssh2 straight to sshd', 'direct'), row('a cluster node directly', 'node'), row('through HAProxy', 'haproxy'));
  if (resumes) {
    const p = (xs: number[], q: number): string => f(xs.length > 0 ? percentile(xs, q) : null, 2);
    lines.push('', `| Resume, socket to \`resumed\`, ms | n | p50 | p99 |`, '|---|---:|---:|---:|',
      `| on the owner node | ${resumes.owner.length} | ${p(resumes.owner, 50)} | ${p(resumes.owner, 99)} |`,
      `| through another node (relayed) | ${resumes.relayed.length} | ${p(resumes.relayed, 50)} | ${p(resumes.relayed, 99)} |`);
    const d = resumes.owner.length > 0 && resumes.relayed.length > 0 ? percentile(resumes.relayed, 50) - percentile(resumes.owner, 50) : null;
    lines.push(`relay's extra latency at p50: ${f(d, 2)} ms`);
  }
  return lines.join('\n');
}
