/**
 * The built CLI (dist/src/cli.js) as a child process, with everything it prints captured, so a
 * test can read its log lines and every CLI run is a secret scan like the in-process bridges of
 * bridge.ts: `runCli` throws and `CliProcess.close()` rejects when any registered test secret
 * (secrets.ts) appears in the child's stdout or stderr.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { leakedSecrets } from './secrets.js';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** The child's environment: PATH and `env`, nothing inherited (no stray UWSB_* from the caller). */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...env };
}

/** Throws when a registered secret appears in `text`, naming only its first two characters. */
export function assertNoSecrets(text: string, what: string): void {
  const leaked = leakedSecrets(text);
  if (leaked.length > 0) throw new Error(`secret(s) found in ${what}: ${leaked.map((s) => `${s.slice(0, 2)}…`).join(', ')}`);
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI to completion (20 s at most); throws if its output holds a registered secret. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: childEnv(env), encoding: 'utf8', timeout: 20_000 });
  assertNoSecrets(`${r.stdout}\n${r.stderr}`, `the output of webssh-bridge ${args.join(' ')}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export type LogLine = Record<string, unknown>;

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Exit code (null when ended by a signal), once the process has exited and its output is all read. */
  readonly exited: Promise<number | null>;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  stderr(): string;
  /** The JSON log lines on stdout so far (a line that is not JSON comes as `{ raw }`). */
  logs(): LogLine[];
  /** The first log line (so far or to come) matching `pred`; rejects on timeout or exit. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The port of the `listening` line. */
  listening(timeoutMs?: number): Promise<number>;
  /** SIGKILL unless it has exited, and wait until it has. No secret scan. */
  stop(): Promise<void>;
  /** stop(), then reject if a registered secret appears in anything the child printed. */
  close(): Promise<void>;
}

/** Spawn the CLI with `args` and an environment of PATH plus `env`; `nodeArgs` go to node before the script. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: childEnv(env) });
  let all = '';
  let err = '';
  let pending = '';
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => { for (const w of [...waiters]) w(); };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    all += d;
    pending += d;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ raw: line });
      }
    }
    notify();
  });
  child.stderr.on('data', (d: string) => {
    all += d;
    err += d;
    notify();
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    done = true;
    notify();
    resolve(code);
  }));

  // A wait for a condition, not a timing check: a primary and two workers loading their modules
  // on a loaded 2-core machine took over 10 s to say they listen (load 12), so the bound is the
  // same 30 s the start/stop suite gives a process start.
  const waitForLog = (pred: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => new Promise<LogLine>((resolve, reject) => {
    const finish = (e: Error | undefined, line?: LogLine): void => {
      clearTimeout(timer);
      waiters.delete(poll);
      if (e !== undefined) reject(e);
      else resolve(line as LogLine);
    };
    const poll = (): void => {
      const hit = lines.find(pred);
      if (hit !== undefined) finish(undefined, hit);
      else if (done) finish(new Error(`the bridge exited (${String(child.exitCode ?? child.signalCode)}) before the awaited log line; output:\n${all.slice(-4000)}`));
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for a log line; output:\n${all.slice(-4000)}`)), timeoutMs);
    waiters.add(poll);
    poll();
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  })());

  return {
    child,
    exited,
    output: () => all,
    stderr: () => err,
    logs: () => [...lines],
    waitForLog,
    listening: async (timeoutMs = 30_000) => {
      const line = await waitForLog((l) => l.event === 'listening' && typeof l.port === 'number', timeoutMs);
      return line.port as number;
    },
    stop,
    close: async () => {
      await stop();
      assertNoSecrets(all, "the CLI child's output");
    },
  };
}
