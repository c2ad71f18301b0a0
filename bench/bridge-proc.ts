/**
 * The bridge under test as a real child process (the CLI from dist/), so its RSS and CPU can be
 * read from /proc apart from the benchmark's own (and the reference relay, the same way). stdout
 * is read continuously (the last 100 lines are kept for error reports) so the pipe never fills
 * and blocks the bridge. Under `--workers N` the child is the cluster primary: RSS and CPU are
 * summed over its process tree (bench/procfs.ts), and stopping it also kills any worker left.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openFileLimit, processTree } from './procfs.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export const BRIDGE_ARGS = [
  '--server-address', '127.0.0.1:0',
  '--conn-max-total', '4000', '--conn-max-per-host', '4000', '--conn-max-per-target', '4000',
  '--rate-burst', '100000', '--rate-interval', '1s', '--rate-whitelist', '127.0.0.0/8',
  // The benchmark's sshd has a fresh host key every run; host key checks are not what is measured.
  '--host-key-policy', 'accept-new-insecure',
];

export interface BridgeProc {
  readonly pid: number;
  readonly port: number;
  /** The full argument list after the script (for the report). */
  readonly args: readonly string[];
  /** Open file limit the child runs with (null when /proc did not say). */
  readonly nofile: number | null;
  /** Last lines of stdout and stderr, for error reports. */
  log(): string;
  /** Still running? */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (to the whole tree). Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Synchronous SIGKILL of the whole tree, for process 'exit' handlers. */
  kill(): void;
}

export interface BridgeOptions {
  /** `--workers N`; null or absent passes no flag (the bridge's own default). */
  workers?: number | null;
  /** Open files the child needs: its soft limit is raised to this when it is lower and the hard limit allows. */
  nofile?: number;
  /**
   * The flags instead of BRIDGE_ARGS (the benchmark's big limits), for a run that measures the
   * bridge's own defaults; they must still include a `--server-address` on port 0.
   */
  args?: readonly string[];
  /** Every stdout line after the `listening` one, for a caller that tallies the log as it comes. */
  onLine?: (line: string) => void;
  /** Node flags before the script, after BENCH_NODE_ARGS (say `--import` of a tracer). */
  nodeArgs?: readonly string[];
}

let workersFlag: boolean | undefined;

/** Does this build of the bridge know `--workers`? (Its `--help` lists every option.) */
export function bridgeHasWorkersFlag(): boolean {
  if (workersFlag === undefined) {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', timeout: 15_000 });
    workersFlag = /--workers\b/.test(`${help.stdout}`);
  }
  return workersFlag;
}

/** `--workers N` when the bridge has the flag, else nothing (it would refuse it with exit 2). */
export function workersArgs(n: number | null | undefined): string[] {
  return n !== null && n !== undefined && bridgeHasWorkersFlag() ? ['--workers', String(n)] : [];
}

/**
 * The bridge CLI; ready once it logs the `listening` JSON line (its `port`) without a `worker`
 * field. Under `--workers N` each worker logs its own `listening` line (with `worker`), and one
 * may come before the others are up; the primary's line (with `workers`) comes once all of them
 * listen. A single-process bridge, old or new, logs one line without either field.
 */
export function spawnBridge(opts: BridgeOptions = {}, timeoutMs = 15_000): Promise<BridgeProc> {
  const args = [...(opts.args ?? BRIDGE_ARGS), ...workersArgs(opts.workers)];
  return spawnNode([CLI, ...args], (line) => {
    let rec: { event?: unknown; port?: unknown; worker?: unknown } | undefined;
    try { rec = JSON.parse(line) as typeof rec; } catch { return null; }
    return rec?.event === 'listening' && rec.worker === undefined && typeof rec.port === 'number' ? rec.port : null;
  }, timeoutMs, opts.nofile, opts.onLine, opts.nodeArgs);
}

/** The bare reference relay (bench/relay.ts); ready once it prints its port. */
export function spawnRelay(sshdPort: number, timeoutMs = 15_000): Promise<BridgeProc> {
  const script = fileURLToPath(new URL('./relay.js', import.meta.url));
  return spawnNode([script, String(sshdPort)], (line) => (/^\d+$/.test(line.trim()) ? Number(line) : null), timeoutMs);
}

/** Command line for node with `args`, through `sh -c 'ulimit -n N; exec ...'` when the soft limit must be raised. */
/** Node flags for the bridge and relay processes from BENCH_NODE_ARGS (say `--cpu-prof --cpu-prof-dir=DIR`, which NODE_OPTIONS refuses). */
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');

function command(script: string[], nofile: number | undefined, nodeArgs: readonly string[] = []): [string, string[]] {
  const args = [...NODE_ARGS, ...nodeArgs, ...script];
  const own = openFileLimit();
  if (nofile === undefined || own === null || own.soft >= nofile) return [process.execPath, args];
  const target = Math.min(nofile, own.hard);
  if (target <= own.soft) return [process.execPath, args];
  // exec keeps the pid: the child is still node itself.
  return ['/bin/sh', ['-c', 'ulimit -n "$0" 2>/dev/null; exec "$@"', String(target), process.execPath, ...args]];
}

/** SIGKILL those of `pids` that still run `script` (a pid of an exited worker may have been reused). */
function killTree(pids: number[], script: string): void {
  for (const p of pids) {
    try {
      if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(script)) continue;
      process.kill(p, 'SIGKILL');
    } catch { /* gone */ }
  }
}

async function spawnNode(args: string[], portOf: (line: string) => number | null, timeoutMs: number, nofile?: number, onLogLine?: (line: string) => void, nodeArgs?: readonly string[]): Promise<BridgeProc> {
  const [file, argv] = command(args, nofile, nodeArgs);
  const child: ChildProcess = spawn(file, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (prefix: string) => (line: string): void => {
    lines.push(prefix + line);
    if (lines.length > 100) lines.shift();
  };
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  child.once('error', (err) => { exited = true; keep('spawn error: ')(err.message); });
  if (child.stdout === null || child.stderr === null || child.pid === undefined) throw new Error(`spawn failed: ${args[0]}`);
  const pid = child.pid;
  const script = args[0] ?? '';
  const out = createInterface({ input: child.stdout });
  createInterface({ input: child.stderr }).on('line', keep('stderr: '));
  const log = (): string => lines.join('\n');
  // Workers seen while the primary lived: killed too, should the primary die without them.
  const seen = new Set<number>();
  const tree = (): number[] => {
    if (!exited) for (const p of processTree(pid)) if (p !== pid) seen.add(p);
    return [...seen];
  };

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { killTree(tree(), script); child.kill('SIGKILL'); reject(new Error(`${args[0]} did not report its port within ${timeoutMs} ms:\n${log()}`)); }, timeoutMs);
    const onLine = (line: string): void => {
      keep('')(line);
      const port = portOf(line);
      if (port !== null) {
        clearTimeout(timer);
        out.off('line', onLine);
        out.on('line', keep(''));
        if (onLogLine !== undefined) out.on('line', onLogLine);
        resolve(port);
      }
    };
    out.on('line', onLine);
    void exit.then(() => { clearTimeout(timer); reject(new Error(`${args[0]} exited (code ${child.exitCode}, signal ${child.signalCode}) before listening:\n${log()}`)); });
  });

  let stopping: Promise<void> | undefined;
  return {
    pid, port, log, args: args.slice(1),
    nofile: openFileLimit(pid)?.soft ?? null,
    alive: () => !exited,
    kill: () => { const t = tree(); if (!exited) child.kill('SIGKILL'); killTree(t, script); },
    stop: (graceMs = 3000) => (stopping ??= (async () => {
      const t = tree();
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      killTree(t, script);
    })()),
  };
}

/** The bridge's own count of live sessions, from its /health endpoint (null when unreachable). */
export async function activeSessions(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { active_sessions?: unknown };
    return typeof body.active_sessions === 'number' ? body.active_sessions : null;
  } catch {
    return null;
  }
}
