/**
 * The jump row of `npm run bench` (BENCH_JUMP=1 after the A/B rounds, BENCH_JUMP=only alone):
 * a session through one jump host, two real OpenSSH sshd (the bastion on 127.0.0.1, the target
 * on 127.0.0.2), key auth on both. Sides, all in the same run, interleaved:
 * - A: OpenSSH's own client, `ssh -tt -J user@bastion:port user@target` (bench/ssh-client.ts);
 * - B: the bridge, v1, `?jump=bastion:port` and `auth.jump` (publickey for both hops);
 * - C: the bridge straight to the target (no jump), a reference;
 * - D: OpenSSH's client straight to the target (no -J), a reference.
 * Per round: connect to prompt, BENCH_JUMP_SETUP connections per side, alternating A B C D
 * connection by connection; then keystroke echo (the main rounds' echo workload, BENCH_ECHO
 * keystrokes) for A, B, C, D. BENCH_JUMP_ROUNDS rounds (3) after an unrecorded warm-up.
 * Figures are medians over rounds of per-round p50/p99; ratios B/A (and C/D, B/C, A/D).
 * OpenSSH's key exchange is held to BENCH_JUMP_SSH_KEX (curve25519-sha256, the bridge's).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../test/helpers/sshd.js';
import { bridgeUrl, connectBridge, type BridgeLogin } from './bridge-client.js';
import type { BridgeProc } from './bridge-proc.js';
import { pct } from './report.js';
import { sshOpener, writeSshConfig } from './ssh-client.js';
import { median, round } from './stats.js';
import type { Opener, Target } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS, echo } from './workloads.js';

/**
 * `sshKex`: the key exchange OpenSSH's client is held to (BENCH_JUMP_SSH_KEX), by default the one
 * the bridge's ssh2 negotiates with this sshd (curve25519-sha256), so A and B do the same work
 * per login; null leaves OpenSSH's default (sntrup761x25519-sha512 first, about 150 ms more per
 * login on this machine, client and server together).
 */
export interface JumpKnobs { rounds: number; setup: number; echoN: number; sshKex: string | null }

type Attempt = <T>(what: string, fn: () => Promise<T>) => Promise<T | null>;

/** The target's address: another loopback address than the bastion's, as a host behind it would be. */
export const JUMP_TARGET_ADDRESS = '127.0.0.2';

const SIDES = ['A', 'B', 'C', 'D'] as const;
type SideName = typeof SIDES[number];
const LABEL: Record<SideName, string> = {
  A: 'A ssh -J', B: 'B bridge, jump', C: 'C bridge, direct', D: 'D ssh, direct',
};

interface Lat { n: number; p50: number; p90: number; p99: number; max: number }
interface JumpRound {
  round: number;
  connect: Record<SideName, Lat | null>;
  /** B and C: from the WebSocket's `open` (upgrade done) to the prompt; null for A and D. */
  connectFromOpen: Record<SideName, Lat | null>;
  connectFailures: Record<SideName, number>;
  echo: Record<SideName, Lat | null>;
}

export interface JumpResult { text: string; json: Record<string, unknown> }

const f = (x: number | null | undefined, d: number): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const med = (xs: (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : median(v);
};
const lat = (xs: number[]): Lat | null => pct(xs) as Lat | null;
const perSide = <T>(fn: (s: SideName) => T): Record<SideName, T> => ({ A: fn('A'), B: fn('B'), C: fn('C'), D: fn('D') });

/**
 * Start the bastion and the target (the key's public half authorized on both), run the row
 * against `bridge`, stop both. `onClose` gets the servers' teardown for a signal mid-run.
 */
export async function jumpRow(
  key: { dir: string; key: string; pub: string }, bridge: BridgeProc, k: JumpKnobs,
  log: (msg: string) => void, attempt: Attempt, onClose: (close: () => Promise<void>) => void,
): Promise<JumpResult> {
  const servers: SshdHandle[] = [];
  const close = async (): Promise<void> => { await Promise.allSettled(servers.map((s) => s.stop())); };
  onClose(close);
  try {
    const bastion = await startSshd({ authorizedKey: key.pub });
    servers.push(bastion);
    const target = await startSshd({ authorizedKey: key.pub, listenAddress: JUMP_TARGET_ADDRESS });
    servers.push(target);
    log(`jump row: bastion ${bastion.host}:${bastion.port}, target ${target.host}:${target.port}, ${JSON.stringify(k)}`);
    return await measure(key, bridge, bastion, target, k, log, attempt);
  } finally {
    await close();
  }
}

async function measure(
  key: { dir: string; key: string }, bridge: BridgeProc, bastion: SshdHandle, target: SshdHandle, k: JumpKnobs,
  log: (msg: string) => void, attempt: Attempt,
): Promise<JumpResult> {
  const config = writeSshConfig(key.dir, key.key, [bastion, target], k.sshKex);
  const privateKey = readFileSync(key.key, 'utf8');
  const login = { method: 'publickey', privateKey } as const;
  const t: Target = { host: target.host, port: target.port, username: target.username, password: target.password, prompt: TEST_PROMPT };
  const B = timedBridge(bridge.port, t, { query: `jump=${bastion.host}:${bastion.port}`, login, jump: [{ username: bastion.username, ...login }] });
  const C = timedBridge(bridge.port, t, { login });
  const open: Record<SideName, Opener> = { A: sshOpener(config, t, bastion), B: B.open, C: C.open, D: sshOpener(config, t, null) };
  const opened: Partial<Record<SideName, () => number | null>> = { B: B.openedAt, C: C.openedAt };
  // The shell must be on the target, through the bastion for A and B only: checked once, not timed.
  for (const s of SIDES) await whereIsTheShell(open[s], s, target.host, bastion, s === 'A' || s === 'B');

  log('jump: warm-up (not recorded)');
  for (const s of SIDES) {
    await attempt(`jump warm-up connect ${s}`, async () => { await closeTerm(await open[s](CONNECT_TIMEOUT_MS)); });
    await attempt(`jump warm-up echo ${s}`, () => echo(open[s], Math.min(100, k.echoN)));
  }
  const rounds: JumpRound[] = [];
  for (let r = 1; r <= k.rounds; r++) {
    const what = `jump round ${r}/${k.rounds}`;
    log(`${what}: connect to prompt x${k.setup} per side, alternating`);
    const samples = perSide((): number[] => []);
    const fromOpen = perSide((): number[] => []);
    const failures = perSide(() => 0);
    for (let i = 0; i < k.setup; i++) {
      for (const s of SIDES) {
        const ok = await attempt(`${what} connect ${s}`, async () => {
          const t0 = performance.now();
          const term = await open[s](CONNECT_TIMEOUT_MS);
          const t1 = performance.now();
          samples[s].push(t1 - t0);
          const at = opened[s]?.() ?? null;
          if (at !== null) fromOpen[s].push(t1 - at);
          await closeTerm(term);
        });
        if (ok === null) failures[s]++;
      }
    }
    const rd: JumpRound = {
      round: r, connect: perSide((s) => lat(samples[s])), connectFromOpen: perSide((s) => lat(fromOpen[s])), connectFailures: failures, echo: perSide(() => null),
    };
    rounds.push(rd);
    log(`  p50 ms: ${SIDES.map((s) => `${s} ${f(rd.connect[s]?.p50, 1)}`).join(', ')}`);
    log(`${what}: keystroke echo x${k.echoN} per side`);
    for (const s of SIDES) {
      const xs = await attempt(`${what} echo ${s}`, () => echo(open[s], k.echoN));
      rd.echo[s] = xs === null ? null : lat(xs);
    }
    log(`  p50/p99 ms: ${SIDES.map((s) => `${s} ${f(rd.echo[s]?.p50, 3)}/${f(rd.echo[s]?.p99, 3)}`).join(', ')}`);
  }
  return summarize(rounds, k, { bastion: `${bastion.host}:${bastion.port}`, target: `${target.host}:${target.port}` });
}

/**
 * A bridge side whose last connection's WebSocket `open` time (performance.now()) is kept, for
 * the connect time from the upgrade on (the brief's "from socket open"); the opener's own time
 * includes the upgrade, as A's includes ssh's TCP connect.
 */
function timedBridge(port: number, target: Target, how: BridgeLogin): { open: Opener; openedAt: () => number | null } {
  const url = bridgeUrl(port, target, how);
  let at: number | null = null;
  const open: Opener = async (timeoutMs) => {
    at = null;
    const { term } = await connectBridge(url, target, timeoutMs, { login: how, onSocket: (ws) => ws.once('open', () => { at = performance.now(); }) });
    return term;
  };
  return { open, openedAt: () => at };
}

/**
 * Open one session, ask the shell for the server address of its SSH connection (the target's,
 * whatever the route) and whether the bastion holds a session of the test user (the forward)
 * while it is open: it must for a jump side and must not for a direct one.
 */
async function whereIsTheShell(open: Opener, side: SideName, want: string, bastion: SshdHandle, viaBastion: boolean): Promise<void> {
  // The previous side's session on the bastion may still be going away.
  for (let i = 0; i < 50 && (await bastion.userProcesses()).length > 0; i++) await sleep(100);
  const term = await open(CONNECT_TIMEOUT_MS);
  try {
    term.mark();
    term.write('echo "at""=$(echo $SSH_CONNECTION | cut -d" " -f3)."\r');
    await term.waitFor(`at=${want}.`, 10_000).catch((e: unknown) => { throw new Error(`jump ${side}: the shell is not on ${want}: ${(e as Error).message}`); });
    const onBastion = (await bastion.userProcesses()).length > 0;
    if (onBastion !== viaBastion) throw new Error(`jump ${side}: the bastion ${onBastion ? 'holds' : 'holds no'} session of the test user while it is open`);
  } finally {
    await closeTerm(term);
  }
}

function summarize(rounds: JumpRound[], k: JumpKnobs, where: { bastion: string; target: string }): JumpResult {
  const m = (get: (r: JumpRound) => number | null | undefined): number | null => med(rounds.map(get));
  const side = perSide((s) => ({
    connectP50Ms: m((r) => r.connect[s]?.p50), connectFromOpenP50Ms: m((r) => r.connectFromOpen[s]?.p50), connectFailures: rounds.reduce((a, r) => a + r.connectFailures[s], 0),
    echoP50Ms: m((r) => r.echo[s]?.p50), echoP99Ms: m((r) => r.echo[s]?.p99),
  }));
  type Metric = 'connectP50Ms' | 'echoP50Ms' | 'echoP99Ms';
  const ratio = (num: SideName, den: SideName, metric: Metric): number | null => {
    const a = side[num][metric];
    const b = side[den][metric];
    return a !== null && b !== null && b > 0 ? round(a / b) : null;
  };
  /** The same ratio per round, then the median: a round's machine load hits both sides of it. */
  const perRound = (num: SideName, den: SideName, metric: Metric): number | null => {
    const get = (r: JumpRound, s: SideName): number | undefined => (metric === 'connectP50Ms' ? r.connect[s]?.p50 : metric === 'echoP50Ms' ? r.echo[s]?.p50 : r.echo[s]?.p99);
    const v = med(rounds.map((r) => { const a = get(r, num); const b = get(r, den); return a !== undefined && b !== undefined && b > 0 ? a / b : null; }));
    return v === null ? null : round(v);
  };
  const pairs = [['B', 'A'], ['C', 'D'], ['B', 'C'], ['A', 'D']] as const;
  const metrics: Metric[] = ['connectP50Ms', 'echoP50Ms', 'echoP99Ms'];
  const ratios = Object.fromEntries(pairs.map(([n, d]) => [`${n}/${d}`, Object.fromEntries(metrics.map((x) => [x, { ofMedians: ratio(n, d, x), perRoundMedian: perRound(n, d, x) }]))]));
  const r = (n: SideName, d: SideName, x: Metric): string => {
    const v = (ratios[`${n}/${d}`] as Record<Metric, { ofMedians: number | null; perRoundMedian: number | null }>)[x];
    return `${f(v.ofMedians, 2)}x (${f(v.perRoundMedian, 2)}x)`;
  };
  const lines = [
    `jump row: ${k.rounds} rounds, medians of per-round p50/p99; bastion ${where.bastion}, target ${where.target}; key auth on every hop`,
    'A = OpenSSH ssh -tt -J (its own client, a process per connection), B = the bridge with ?jump= and auth.jump (v1 over a WebSocket), C = the bridge straight to the target, D = ssh -tt straight to the target',
    `connect to prompt: ${k.setup} connections per side and round, alternating A B C D; echo: ${k.echoN} keystrokes per side and round; ssh KexAlgorithms ${k.sshKex ?? "OpenSSH's default"}`,
    '',
    '| side | connect to prompt p50, ms | from ws open, p50 ms | failed connects | echo p50, ms | echo p99, ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...SIDES.map((s) => `| ${LABEL[s]} | ${f(side[s].connectP50Ms, 1)} | ${f(side[s].connectFromOpenP50Ms, 1)} | ${side[s].connectFailures} | ${f(side[s].echoP50Ms, 3)} | ${f(side[s].echoP99Ms, 3)} |`),
    '',
    'ratios of the medians (median of the per-round ratios in brackets):',
    '',
    '| ratio | connect p50 | echo p50 | echo p99 |',
    '|---|---:|---:|---:|',
    ...pairs.map(([n, d]) => `| ${n}/${d} | ${r(n, d, 'connectP50Ms')} | ${r(n, d, 'echoP50Ms')} | ${r(n, d, 'echoP99Ms')} |`),
  ];
  return { text: lines.join('\n'), json: { knobs: k, servers: where, sides: side, ratios, perRound: rounds } };
}
