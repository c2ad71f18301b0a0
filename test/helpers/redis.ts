/**
 * A real, test-owned redis-server on a free loopback port with its own config (no persistence,
 * bound to 127.0.0.1, its own temp directory), and the failures the cluster tests play: stop
 * (SIGTERM), freeze and thaw (SIGSTOP, SIGCONT), restart empty on the same port. `useRedis`
 * fails under CI=true when redis-server is missing and skips loudly elsewhere
 * (./require.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { REDIS_SERVER_PATH, redisAvailable, requireOrSkip } from './require.js';

export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  /** SIGTERM, wait for the exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP: the port still accepts connections, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Stop, then start again on the same port with nothing in it. */
  restartEmpty(): Promise<void>;
  /** One command over a fresh connection (RESP2 inline), for a test's own look at the keys. */
  command(...args: string[]): Promise<string>;
  /** Stop and remove the directory. Idempotent. */
  close(): Promise<void>;
}

/**
 * Send one command in RESP and read its reply, as raw text (enough for tests: integers, bulk
 * strings, arrays); with a password, AUTH goes first and its reply is left out.
 */
function rawCommand(port: number, args: readonly string[], password?: string, timeoutMs = 2000): Promise<string> {
  const commands = password === undefined ? [args] : [['AUTH', password], args];
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`redis ${args.join(' ')}: no reply in ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('data', (d) => {
      text += d.toString('utf8');
      const first = commands.length === 2 ? replyEnd(text, 0) : 0;
      if (first !== -1 && replyEnd(text, first) !== -1) {
        clearTimeout(timer);
        sock.end();
        resolve(text.slice(first));
      }
    });
    for (const c of commands) sock.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** Where the RESP2 reply starting at `start` of `text` ends, or -1 while it is not whole. */
function replyEnd(text: string, start: number): number {
  const end = (at: number): number => {
    const nl = text.indexOf('\r\n', at);
    if (nl === -1) return -1;
    const kind = text[at];
    const head = text.slice(at + 1, nl);
    if (kind === '+' || kind === '-' || kind === ':') return nl + 2;
    if (kind === '$') {
      const n = Number(head);
      if (n < 0) return nl + 2;
      return text.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
    }
    if (kind === '*') {
      let pos = nl + 2;
      for (let i = 0; i < Number(head); i++) {
        pos = end(pos);
        if (pos === -1) return -1;
      }
      return pos;
    }
    return -1;
  };
  return end(start);
}

async function startProcess(dir: string, port: number, password: string | undefined): Promise<ChildProcess> {
  const conf = join(dir, 'redis.conf');
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', 'protected-mode yes', 'save ""', 'appendonly no', `dir ${dir}`,
    'daemonize no', 'loglevel warning', 'logfile ""', 'databases 1', ...(password === undefined ? [] : [`requirepass ${password}`]),
  ].join('\n') + '\n');
  const child = spawn(REDIS_SERVER_PATH, [conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString('utf8'); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}: ${err}`);
    try {
      if ((await rawCommand(port, ['PING'], password, 500)).startsWith('+PONG')) return child;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on ${port}: ${err}`);
    }
    await sleep(20);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `password`: the server requires it (requirepass), and `url` carries it. */
export async function startRedis(opts: { password?: string } = {}): Promise<RedisHandle> {
  const { password } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-redis-'));
  const port = await freePort();
  let child = await startProcess(dir, port, password);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGCONT'); // a frozen one cannot act on SIGTERM
    child.kill('SIGTERM');
    const done = exited(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };
  let closed = false;
  return {
    port,
    url: password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    stop,
    freeze: () => { child.kill('SIGSTOP'); },
    thaw: () => { child.kill('SIGCONT'); },
    restartEmpty: async () => {
      await stop();
      child = await startProcess(dir, port, password);
      stopped = false;
    },
    command: (...args) => rawCommand(port, args, password),
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis for this test, stopped after it; null when the test was skipped (not under CI). */
export async function useRedis(t: TestContext, opts: { password?: string } = {}): Promise<RedisHandle | null> {
  if (!requireOrSkip(t, 'redis-server', redisAvailable(), `${REDIS_SERVER_PATH}; apt-get install redis-server`)) return null;
  const redis = await startRedis(opts);
  t.after(() => redis.close());
  return redis;
}
