/**
 * The processes of the cluster row (BENCH_CLUSTER): one real redis-server (test/helpers/redis.ts),
 * three bridge nodes, each the real CLI as its own process (`--workers 1`, `--node-id gw-1..3`,
 * the same keyring file, a relay listener with mutual TLS from a throwaway CA:
 * test/helpers/pki.ts), one real HAProxy running docs/examples/haproxy.cfg in front of them
 * (test/helpers/haproxy.ts), and a plain single-process bridge without Redis as the baseline.
 * Every node runs the benchmark's flags (bench/bridge-proc.ts) and `--metrics-enabled` (for
 * /stats: a cluster node's /health counts the cluster's sessions, /stats its own).
 * Everything on loopback ports; `close()` stops all of it and removes the temporary files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHaproxy, type HaproxyHandle } from '../test/helpers/haproxy.js';
import { makePki, type Pki } from '../test/helpers/pki.js';
import { startRedis, type RedisHandle } from '../test/helpers/redis.js';
import { BRIDGE_ARGS, spawnBridge, type BridgeProc } from './bridge-proc.js';
import { processTree } from './procfs.js';

/** The haproxy process among this process's descendants. */
function findHaproxy(): number | null {
  for (const pid of processTree(process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('haproxy') === true) return pid;
    } catch { /* gone */ }
  }
  return null;
}

export const NODE_IDS = ['gw-1', 'gw-2', 'gw-3'] as const;

export interface Cluster {
  readonly redis: RedisHandle;
  readonly nodes: readonly BridgeProc[];
  readonly haproxy: HaproxyHandle;
  /** HAProxy's process (a child of this one), for its RSS; null when not found in /proc. */
  readonly haproxyPid: number | null;
  /** The baseline: one node without Redis and without HAProxy. */
  readonly plain: BridgeProc;
  /** Take servers out of HAProxy's pool (`disable server`) or put them back, and wait until the pool is that. */
  pool(up: number): Promise<void>;
  /** `session_end` lines `proc` logged so far (counted as they come, so no Redis is asked). */
  ends(proc: BridgeProc): number;
  /** Every process still running? (The names of those that are not.) */
  dead(): string[];
  close(): Promise<void>;
}

/** `field:value` lines of an INFO section, as numbers where they are numbers. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** The elements of a RESP2 array reply of bulk strings (KEYS). */
function bulkStrings(text: string): string[] {
  const out: string[] = [];
  const re = /\$(\d+)\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index + m[0].length;
    out.push(text.slice(start, start + Number(m[1])));
    re.lastIndex = start + Number(m[1]) + 2;
  }
  return out;
}

/** How many keys Redis holds and what MEMORY USAGE says they take together, bytes. */
export async function keysBytes(redis: RedisHandle): Promise<{ keys: number; bytes: number }> {
  const keys = bulkStrings(await redis.command('KEYS', '*'));
  let bytes = 0;
  for (const k of keys) {
    const m = /^:(\d+)/.exec(await redis.command('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    bytes += m ? Number(m[1]) : 0;
  }
  return { keys: keys.length, bytes };
}

const nofile = 2 * 1000 + 512;

export async function startCluster(log: (msg: string) => void): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-bench-cluster-'));
  const keyring = join(dir, 'keyring');
  writeFileSync(keyring, `# bench keyring\nk1 ${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  let pki: Pki | undefined;
  let redis: RedisHandle | undefined;
  let haproxy: HaproxyHandle | undefined;
  const procs: BridgeProc[] = [];
  const ended = new Map<string, number>();
  const counter = (name: string) => (line: string): void => { if (line.includes('"session_end"')) ended.set(name, (ended.get(name) ?? 0) + 1); };
  const close = async (): Promise<void> => {
    await haproxy?.close().catch(() => undefined);
    await Promise.allSettled(procs.map((p) => p.stop()));
    await redis?.close().catch(() => undefined);
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    redis = await startRedis();
    log(`cluster: redis-server on 127.0.0.1:${redis.port}`);
    pki = makePki();
    const ca = pki.ca('relay-ca');
    const nodes: BridgeProc[] = [];
    for (const id of NODE_IDS) {
      const peer = pki.peer(id, ca);
      const node = await spawnBridge({
        nofile, workers: 1, onLine: counter(id),
        args: [
          ...BRIDGE_ARGS, '--metrics-enabled', '--cluster-redis', redis.url, '--node-id', id, '--cluster-secret-file', keyring,
          '--node-relay-address', '127.0.0.1:0', '--node-relay-cert', peer.cert, '--node-relay-key', peer.key, '--node-relay-ca', ca.cert,
        ],
      });
      procs.push(node);
      nodes.push(node);
    }
    // A node admits once it holds its lease, and relays once it announced its relay.
    for (let i = 0; i < 200 && !nodes.every((n) => n.log().includes('"relay_announced"')); i++) await sleep(50);
    if (!nodes.every((n) => n.log().includes('"relay_announced"'))) throw new Error(`a node did not announce its relay:\n${nodes.map((n) => n.log()).join('\n')}`);
    log(`cluster: nodes ${nodes.map((n, i) => `${NODE_IDS[i]} pid ${n.pid} :${n.port}`).join(', ')}`);
    haproxy = await startHaproxy(nodes.map((n) => n.port));
    log(`cluster: haproxy on 127.0.0.1:${haproxy.port} (docs/examples/haproxy.cfg)`);
    const plain = await spawnBridge({ nofile, workers: 1, onLine: counter('plain'), args: [...BRIDGE_ARGS, '--metrics-enabled'] });
    procs.push(plain);
    log(`cluster: baseline node without Redis, pid ${plain.pid} :${plain.port}`);
    const lb = haproxy;
    const pool = async (up: number): Promise<void> => {
      for (const [i, id] of NODE_IDS.entries()) await lb.command(`${i < up ? 'enable' : 'disable'} server nodes/${id}`);
      for (let i = 0; i < 100; i++) {
        const s = await lb.servers();
        if (NODE_IDS.every((id, j) => (j < up ? s.get(id)?.status === 'UP' : s.get(id)?.status === 'MAINT'))) return;
        await sleep(100);
      }
      throw new Error(`haproxy pool did not become ${up} node(s) up`);
    };
    const dead = (): string[] => [
      ...nodes.flatMap((n, i) => (n.alive() ? [] : [NODE_IDS[i] ?? '?'])),
      ...(plain.alive() ? [] : ['baseline node']),
    ];
    const ends = (proc: BridgeProc): number => ended.get(proc === plain ? 'plain' : NODE_IDS[nodes.indexOf(proc)] ?? '?') ?? 0;
    return { redis, nodes, haproxy, haproxyPid: findHaproxy(), plain, pool, ends, dead, close };
  } catch (err) {
    await close();
    throw err;
  }
}
