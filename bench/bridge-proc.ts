/**
 * The bridge under test as a real child process (the CLI from dist/), so its RSS and CPU can be
 * read from /proc apart from the benchmark's own (and the reference relay, the same way). stdout is read continuously (the last 100
 * lines are kept for error reports) so the pipe never fills and blocks the bridge.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export const BRIDGE_ARGS = [
  '--server-address', '127.0.0.1:0',
  '--conn-max-total', '2000', '--conn-max-per-host', '2000', '--conn-max-per-target', '2000',
  '--rate-burst', '100000', '--rate-interval', '1s',
  // The benchmark's sshd has a fresh host key every run; host key checks are not what is measured.
  '--host-key-policy', 'accept-new-insecure',
];

export interface BridgeProc {
  readonly pid: number;
  readonly port: number;
  /** Last lines of stdout and stderr, for error reports. */
  log(): string;
  /** Still running? */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Synchronous SIGKILL, for process 'exit' handlers. */
  kill(): void;
}

/** The bridge CLI; ready once it logs the `listening` JSON line (its `port`). */
export function spawnBridge(timeoutMs = 15_000): Promise<BridgeProc> {
  return spawnNode([CLI, ...BRIDGE_ARGS], (line) => {
    let rec: { event?: unknown; port?: unknown } | undefined;
    try { rec = JSON.parse(line) as typeof rec; } catch { return null; }
    return rec?.event === 'listening' && typeof rec.port === 'number' ? rec.port : null;
  }, timeoutMs);
}

/** The bare reference relay (bench/relay.ts); ready once it prints its port. */
export function spawnRelay(sshdPort: number, timeoutMs = 15_000): Promise<BridgeProc> {
  const script = fileURLToPath(new URL('./relay.js', import.meta.url));
  return spawnNode([script, String(sshdPort)], (line) => (/^\d+$/.test(line.trim()) ? Number(line) : null), timeoutMs);
}

async function spawnNode(args: string[], portOf: (line: string) => number | null, timeoutMs: number): Promise<BridgeProc> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const out = createInterface({ input: child.stdout });
  createInterface({ input: child.stderr }).on('line', keep('stderr: '));
  const log = (): string => lines.join('\n');

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args[0]} did not report its port within ${timeoutMs} ms:\n${log()}`)); }, timeoutMs);
    const onLine = (line: string): void => {
      keep('')(line);
      const port = portOf(line);
      if (port !== null) {
        clearTimeout(timer);
        out.off('line', onLine);
        out.on('line', keep(''));
        resolve(port);
      }
    };
    out.on('line', onLine);
    void exit.then(() => { clearTimeout(timer); reject(new Error(`${args[0]} exited (code ${child.exitCode}, signal ${child.signalCode}) before listening:\n${log()}`)); });
  });

  let stopping: Promise<void> | undefined;
  return {
    pid, port, log,
    alive: () => !exited,
    kill: () => { if (!exited) child.kill('SIGKILL'); },
    stop: (graceMs = 3000) => (stopping ??= (async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    })()),
  };
}

/** Resident set size of `pid` in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** user+sys CPU seconds consumed so far by `pid` (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** This process's own user+sys CPU seconds. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Cumulative busy and total jiffies of all CPUs (first line of /proc/stat). */
export function systemCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Average number of busy CPUs between two systemCpu() samples. */
export function busyCores(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  return (cpus().length * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
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
