/**
 * src/roles/heap-growth.ts: setHeapGrowth fixes the factor V8 applies to the old generation's
 * limit after a full GC. V8 traces the factor it applies (`--trace-gc-verbose`: "[HeapController]
 * Limit: old size: …, new limit: … (F)"), so a child process sets three values in turn, forces a
 * full GC after each, and the three limits must carry exactly those factors; V8's own choice
 * (from its GC and allocation speeds) would not give that sequence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HEAP_GROWING_PERCENT, setHeapGrowth } from '../../src/roles/heap-growth.js';

const MODULE = fileURLToPath(new URL('../../src/roles/heap-growth.js', import.meta.url));

/** The factors of the "[HeapController] Limit:" lines V8 printed, in order. */
function limitFactors(trace: string): string[] {
  return [...trace.matchAll(/\[HeapController\] Limit: old size: \d+ KB, new limit: \d+ KB \(([\d.]+)\)/g)].map((m) => m[1] ?? '');
}

void test('each value setHeapGrowth sets is the factor of the next full GC\'s limit', () => {
  const script = `
    import { setHeapGrowth } from ${JSON.stringify(MODULE)};
    const keep = [];
    for (let i = 0; i < 200000; i++) keep.push({ i });
    for (const percent of [150, 250, undefined]) { setHeapGrowth(percent); globalThis.gc(); }
    console.log(keep.length);
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const factors = limitFactors(r.stdout);
  // A GC of the start-up may come first; the last three are the three gc() calls.
  assert.deepEqual(factors.slice(-3), ['2.5', '3.5', (1 + HEAP_GROWING_PERCENT / 100).toFixed(1)], `limits traced: ${factors.join(', ')}`);
});

void test('setHeapGrowth refuses what is not a positive whole percent', () => {
  for (const bad of [0, -5, 1.5, Number.NaN]) assert.throws(() => setHeapGrowth(bad), RangeError);
});
