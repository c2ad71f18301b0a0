/**
 * The running bridge fixes V8's heap growing factor in every process (src/cli.ts calls
 * src/roles/heap-growth.ts before loading): started with node's own `--heap-growing-percent=50`
 * (a factor of 1.5, which workers inherit) and `--trace-gc-verbose`, the primary and both workers
 * of `--workers 2` must trace their old-generation limits with the bridge's factor, never 1.5.
 * Each process runs a full GC while it loads its modules; the test waits for one from each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEAP_GROWING_PERCENT } from '../../src/roles/heap-growth.js';
import { spawnCli } from '../helpers/cli.js';

const LIMIT = /\[(\d+):0x[0-9a-f]+\]\s+\d+ ms: \[HeapController\] Limit: old size: \d+ KB, new limit: \d+ KB \(([\d.]+)\)/g;

void test('the primary and each worker set their heap limits with the bridge\'s factor, whatever node was started with', async (t) => {
  const cli = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0'], {}, ['--heap-growing-percent=50', '--trace-gc-verbose']);
  t.after(() => cli.close());
  await cli.listening();
  const workers = await Promise.all([1, 2].map((n) => cli.waitForLog((l) => l.event === 'worker_listening' && l.worker === n)));
  const pids = new Set([cli.child.pid, ...workers.map((w) => w.pid)]);
  assert.equal(pids.size, 3, 'a primary and two workers');
  const traced = (): Map<number, string[]> => {
    const byPid = new Map<number, string[]>();
    for (const m of cli.output().matchAll(LIMIT)) byPid.set(Number(m[1]), [...(byPid.get(Number(m[1])) ?? []), m[2] ?? '']);
    return byPid;
  };
  // A wait for a condition (each process's first full GC has been traced), bounded like a start.
  for (let i = 0; i < 300 && [...pids].some((p) => !traced().has(p as number)); i++) await sleep(100);
  const byPid = traced();
  const want = (1 + HEAP_GROWING_PERCENT / 100).toFixed(1);
  for (const pid of pids) {
    const factors = byPid.get(pid as number);
    assert.ok(factors !== undefined && factors.length > 0, `process ${String(pid)} traced no heap limit:\n${cli.output().slice(-3000)}`);
    assert.deepEqual(new Set(factors), new Set([want]), `process ${String(pid)} set its limits with ${factors.join(', ')}`);
  }
});
