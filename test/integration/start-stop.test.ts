/**
 * A stop at any moment of the start: SIGTERM or SIGINT sent to the real CLI at spread-out delays
 * after spawn (before the workers fork, between fork and listen, while they listen), at the
 * moments its log names, while a crashed worker is being replaced, and with a worker that dies
 * during the drain. Every run must end by itself, with exit 0 (or, before the entry point could
 * install its handlers, death by the signal itself, which is only possible before it printed
 * anything) and with no process of it left.
 *
 * "By itself" is behaviour, not speed: with no session to drain, nothing may wait on a timer. The
 * bridge runs with a 60 s shutdown timeout (its kill timer fires 5 s later and exits 1), and a
 * run that has not ended HANG_MS after the signal is waiting on one: the defect this suite was
 * written for hung until the kill timer. How fast a healthy stop is belongs to the benchmarks
 * (this machine is shared: a loaded one took over 2 s just to start node).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnCli, type CliProcess, type LogLine } from '../helpers/cli.js';

const MARK = 'WEBSSH_STOP_TEST';
const SHUTDOWN_TIMEOUT = '60s';
const HANG_MS = 30_000;

/** Processes (the primary and its workers inherit the environment) still carrying `id`. */
function leftovers(id: string): number[] {
  const needle = `${MARK}=${id}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(needle)) pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return pids;
}

interface Run {
  readonly cli: CliProcess;
  readonly id: string;
  readonly what: string;
}

function start(workers: number, what: string): Run {
  const id = randomUUID();
  const cli = spawnCli(['--workers', String(workers), '--server-address', '127.0.0.1:0', '--server-shutdown-timeout', SHUTDOWN_TIMEOUT], { [MARK]: id });
  return { cli, id, what: `--workers ${workers}, ${what}` };
}

/** Sends `signal` now and checks the run ends as it must. */
async function stopAndCheck(run: Run, signal: NodeJS.Signals): Promise<void> {
  const { cli, what } = run;
  const printedBefore = cli.output().length > 0;
  const sent = Date.now();
  cli.child.kill(signal);
  const ended = await Promise.race([cli.exited.then(() => true), sleep(HANG_MS).then(() => false)]);
  const took = Date.now() - sent;
  try {
    assert.ok(ended, `${what}: ${signal} did not end it within ${HANG_MS} ms (it waits on a timer); output:\n${cli.output().slice(-3000)}`);
    const { exitCode, signalCode } = cli.child;
    if (signalCode !== null) {
      // Killed by the signal's default action: only before the entry point ran (nothing printed yet).
      assert.equal(signalCode, signal, `${what}: died by ${signalCode}`);
      assert.equal(printedBefore, false, `${what}: died by ${signal} after it had started printing; output:\n${cli.output().slice(-3000)}`);
    } else {
      assert.equal(exitCode, 0, `${what}: exit ${String(exitCode)} ${took} ms after ${signal}; output:\n${cli.output().slice(-3000)}`);
    }
    assert.deepEqual(leftovers(run.id), [], `${what}: processes left after the exit`);
  } finally {
    await cli.close();
  }
}

/** Runs `jobs` two at a time (the CI machine has two cores). */
async function twoAtATime(jobs: readonly (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]?.();
  };
  await Promise.all([lane(), lane()]);
}

const signalFor = (i: number): NodeJS.Signals => (i % 2 === 0 ? 'SIGTERM' : 'SIGINT');

const isEvent = (event: string) => (l: LogLine): boolean => l['event'] === event;

void describe('a stop at any moment of the start ends the bridge by itself and cleanly', () => {
  void it('SIGTERM / SIGINT at delays spread from 0 to 1.5 s: 40 runs with --workers 2, 10 with --workers 1', async () => {
    const plan: { workers: number; delayMs: number; signal: NodeJS.Signals }[] = [];
    for (let i = 0; i < 40; i++) plan.push({ workers: 2, delayMs: Math.round((1500 * i) / 39), signal: signalFor(i) });
    for (let i = 0; i < 10; i++) plan.push({ workers: 1, delayMs: Math.round((1500 * i) / 9), signal: signalFor(i + 1) });
    await twoAtATime(plan.map(({ workers, delayMs, signal }) => async () => {
      const run = start(workers, `${signal} ${delayMs} ms after spawn`);
      await sleep(delayMs);
      await stopAndCheck(run, signal);
    }));
  });

  void it('at the moments the log names: the primary forking its workers, the first worker listening, the ready line', async () => {
    const plan: { workers: number; event: string; signal: NodeJS.Signals }[] = [];
    for (let i = 0; i < 6; i++) plan.push({ workers: 2, event: 'primary_start', signal: signalFor(i) });
    for (let i = 0; i < 4; i++) plan.push({ workers: 2, event: 'worker_listening', signal: signalFor(i) });
    for (let i = 0; i < 2; i++) plan.push({ workers: 2, event: 'listening', signal: signalFor(i) });
    for (let i = 0; i < 2; i++) plan.push({ workers: 1, event: 'listening', signal: signalFor(i) });
    await twoAtATime(plan.map(({ workers, event, signal }) => async () => {
      const run = start(workers, `${signal} at its ${event} line`);
      await run.cli.waitForLog(isEvent(event), 30_000);
      await stopAndCheck(run, signal);
    }));
  });

  void it('while a crashed worker is being replaced', async () => {
    await twoAtATime([0, 50, 100, 150, 250, 400].map((delayMs, i) => async () => {
      const run = start(2, `SIGKILL to a worker, then ${signalFor(i)} ${delayMs} ms after its exit was logged`);
      const worker = await run.cli.waitForLog(isEvent('worker_listening'), 30_000);
      await run.cli.waitForLog(isEvent('listening'), 30_000);
      process.kill(Number(worker['pid']), 'SIGKILL');
      await run.cli.waitForLog(isEvent('worker_exit'), 10_000);
      await sleep(delayMs);
      await stopAndCheck(run, signalFor(i));
    }));
  });

  void it('a worker that dies during the drain does not make the stop fail or hang', async () => {
    const run = start(2, 'a worker killed during the drain');
    const worker = await run.cli.waitForLog(isEvent('worker_listening'), 30_000);
    await run.cli.waitForLog(isEvent('listening'), 30_000);
    const pid = Number(worker['pid']);
    // Stopped, it cannot finish its drain; killed once the primary's drain has begun.
    process.kill(pid, 'SIGSTOP');
    run.cli.child.kill('SIGTERM');
    await run.cli.waitForLog((l) => l['msg'] === 'draining' && l['worker'] === undefined, 10_000);
    process.kill(pid, 'SIGKILL');
    const ended = await Promise.race([run.cli.exited, sleep(HANG_MS).then(() => 'still running')]);
    try {
      assert.equal(ended, 0, run.cli.output().slice(-3000));
      assert.ok(run.cli.logs().some((l) => l['event'] === 'worker_exit' && l['signal'] === 'SIGKILL'), 'the dead worker is logged');
      assert.deepEqual(leftovers(run.id), []);
    } finally {
      await run.cli.close();
    }
  });
});
