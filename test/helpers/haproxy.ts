/**
 * A real, test-owned HAProxy running the documented load balancer config itself,
 * docs/examples/haproxy.cfg (so the file cannot go stale), in front of the test's nodes: the
 * file's addresses come from the environment (LB_ADDR, GW1_ADDR..GW3_ADDR,
 * HAPROXY_STATS_SOCKET), which this helper sets to a free loopback port, the nodes' ports and a
 * socket in its own temp directory. HAProxy runs in the foreground (`-db`); `useHaproxy` returns
 * once it listens and its health checks (/readyz) have passed on every server, and stops it after
 * the test. It fails under CI=true when haproxy is missing and skips loudly elsewhere
 * (./require.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { HAPROXY_PATH, haproxyAvailable, requireOrSkip } from './require.js';
import { until } from './until.js';

/** The config under test: the one the docs show (dist/test/helpers -> docs/examples). */
export const HAPROXY_CFG = fileURLToPath(new URL('../../../docs/examples/haproxy.cfg', import.meta.url));

/** Its backend, and its servers: the node ids the nodes must run with (./cluster-nodes.ts). */
export const BACKEND = 'nodes';
export const SERVERS = ['gw-1', 'gw-2', 'gw-3'] as const;

/** One server's line of `show stat`. */
export interface ServerStat {
  /** UP, DOWN, or a transition (`UP 1/2`, `DOWN 1/2`), MAINT, ... */
  readonly status: string;
  /** The last health check's result: L7OK (the /readyz answer was 200), L4CON (refused), L7STS (another status), ... */
  readonly check: string;
  /** Connections to it now, and since the start. */
  readonly current: number;
  readonly total: number;
}

export interface HaproxyHandle {
  readonly port: number;
  /** ws://127.0.0.1:PORT, the clients' way in. */
  readonly wsBase: string;
  readonly url: string;
  /** A runtime API command over the stats socket; the reply as text. */
  command(cmd: string): Promise<string>;
  /** Every server of the backend, by name, from `show stat`. */
  servers(): Promise<Map<string, ServerStat>>;
  /** Everything HAProxy wrote so far (its access log goes to standard output). */
  logText(): string;
  /** SIGTERM, wait for the exit, remove the directory. Idempotent. */
  close(): Promise<void>;
}

function command(socket: string, cmd: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let text = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`haproxy "${cmd}": no reply in ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    // Without `prompt`, the API answers one command and closes.
    sock.on('end', () => { clearTimeout(timer); resolve(text); });
    sock.write(`${cmd}\n`);
  });
}

/** The backend's servers in a `show stat` CSV (its header line names the columns). */
function parseStat(csv: string): Map<string, ServerStat> {
  const lines = csv.split('\n').filter((l) => l !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const col = (row: string[], name: string): string => row[header.indexOf(name)] ?? '';
  const out = new Map<string, ServerStat>();
  for (const line of lines.slice(1)) {
    const row = line.split(',');
    const name = col(row, 'svname');
    if (col(row, 'pxname') !== BACKEND || name === 'BACKEND') continue;
    // HAProxy prefixes the last check's result with "* " while the next check is running (its stats CSV); the result is the same.
    out.set(name, { status: col(row, 'status'), check: col(row, 'check_status').replace(/^\* /, ''), current: Number(col(row, 'scur')), total: Number(col(row, 'stot')) });
  }
  return out;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** HAProxy in front of `ports` (gw-1, gw-2, gw-3 in that order), ready: listening, every server checked and UP. */
export async function startHaproxy(ports: readonly number[]): Promise<HaproxyHandle> {
  if (ports.length !== SERVERS.length) throw new Error(`the config has ${SERVERS.length} servers, got ${ports.length} ports`);
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const port = await freePort();
  // Only what the config reads (and PATH): an address set in the test's own environment must not reach it.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LB_ADDR: `127.0.0.1:${port}`,
    HAPROXY_STATS_SOCKET: socket,
    ...Object.fromEntries(ports.map((p, i) => [`GW${i + 1}_ADDR`, `127.0.0.1:${p}`])),
  };
  const child = spawn(HAPROXY_PATH, ['-db', '-f', HAPROXY_CFG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => { text += d.toString('utf8'); });
  child.stderr?.on('data', (d: Buffer) => { text += d.toString('utf8'); });
  const servers = async (): Promise<Map<string, ServerStat>> => parseStat(await command(socket, `show stat`));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // HAProxy counts a server up from the start; L7OK says a check actually got 200 from /readyz.
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${text}`);
      try {
        const s = await servers();
        return SERVERS.every((name) => s.get(name)?.status === 'UP' && s.get(name)?.check === 'L7OK');
      } catch {
        return false; // the socket is not there yet
      }
    }, 'haproxy to listen and see every node up', 10_000, () => Promise.resolve(`haproxy says: ${text}`));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    port,
    wsBase: `ws://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    command: (cmd) => command(socket, cmd),
    servers,
    logText: () => text,
    close,
  };
}

/** HAProxy for this test, stopped after it; null when the test was skipped (not under CI). */
export async function useHaproxy(t: TestContext, ports: readonly number[]): Promise<HaproxyHandle | null> {
  if (!requireOrSkip(t, 'haproxy', haproxyAvailable(), `${HAPROXY_PATH}; apt-get install haproxy`)) return null;
  const lb = await startHaproxy(ports);
  t.after(() => lb.close());
  return lb;
}
