/**
 * The running bridge fixes V8's heap growing factor in every process (src/cli.ts calls
 * src/roles/heap-growth.ts before loading): started with node's own `--heap-growing-percent=50`
 * (a factor of 1.5, which workers inherit) and `--trace-gc-verbose`, the primary and both workers
 * of `--workers 2` must trace their old-generation limits with the bridge's factor, never 1.5.
 * Each process runs a full GC while it loads its modules; the test waits for one from each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT } from '../../src/roles/heap-growth.js';
import { spawnCli, type LogLine } from '../helpers/cli.js';

/** A V8 trace line (stdout, not JSON: the helper keeps it as `raw`) of a heap limit: the process and the factor. */
const LIMIT = /^\[(\d+):0x[0-9a-f]+\]\s+\d+ ms: \[HeapController\] Limit: old size: \d+ KB, new limit: \d+ KB \(([\d.]+)\)/;
const limitOf = (l: LogLine): { pid: number; factor: string } | null => {
  const m = typeof l.raw === 'string' ? LIMIT.exec(l.raw) : null;
  return m === null ? null : { pid: Number(m[1]), factor: m[2] ?? '' };
};

void test('the primary and each worker set their heap limits with the bridge\'s factor, whatever node was started with', async (t) => {
  const cli = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0'], {}, ['--heap-growing-percent=50', '--trace-gc-verbose']);
  t.after(() => cli.close());
  await cli.listening();
  const workers = await Promise.all([1, 2].map((n) => cli.waitForLog((l) => l.event === 'worker_listening' && l.worker === n)));
  const pids = new Set([cli.child.pid, ...workers.map((w) => w.pid)]);
  assert.equal(pids.size, 3, 'a primary and two workers');
  // Each process's first full GC, traced (a wait for a condition, bounded like a start).
  for (const pid of pids) await cli.waitForLog((l) => limitOf(l)?.pid === pid);
  const want = (1 + HEAP_GROWING_PERCENT / 100).toFixed(1);
  const limits = cli.logs().map(limitOf).filter((x) => x !== null);
  for (const pid of pids) {
    const factors = limits.filter((x) => x.pid === pid).map((x) => x.factor);
    assert.deepEqual(new Set(factors), new Set([want]), `process ${String(pid)} set its limits with ${factors.join(', ')}`);
  }
});
