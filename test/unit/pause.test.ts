/** The cut-short wait of the ready delay (src/util/pause.ts) and the one-read-per-scrape memo of the metrics (src/metrics/per-scrape.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { perScrape } from '../../src/metrics/per-scrape.js';
import { Pause } from '../../src/util/pause.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

void test('Pause: runs its course, or is cut short; either way its timer is gone', async () => {
  const pause = new Pause();
  assert.equal(pause.cut(), false, 'nothing to cut');
  const t0 = performance.now();
  await pause.wait(30);
  assert.ok(performance.now() - t0 >= 25);
  assert.equal(pause.waiting, false);

  const before = timers();
  const long = pause.wait(600_000);
  assert.equal(pause.waiting, true);
  assert.throws(() => pause.wait(1), /already under way/);
  assert.equal(pause.cut(), true);
  await long;
  assert.equal(pause.cut(), false, 'already over');
  assert.equal(timers(), before, 'the 10 minute timer was cleared');
});

void test('perScrape: one read for every metric of one scrape, a fresh one for the next', async () => {
  let reads = 0;
  const snapshot = perScrape(() => ++reads);
  const registry = new Registry();
  for (let i = 0; i < 5; i++) {
    new Gauge({ name: `g${i}`, help: 'h', registers: [registry], collect() { this.set(snapshot()); } });
  }
  new Counter({ name: 'c', help: 'h', registers: [registry], collect() { this.reset(); this.inc(snapshot()); } });
  new Gauge({ name: 'a', help: 'h', registers: [registry], async collect() { this.set(await Promise.resolve(snapshot())); } });
  const first = await registry.metrics();
  assert.equal(reads, 1, 'one read for the whole scrape');
  assert.match(first, /^g4 1$/m);
  await registry.metrics();
  assert.equal(reads, 2, 'the next scrape reads again');
  await registry.getMetricsAsJSON();
  assert.equal(reads, 3, 'so does the aggregation path of a worker');
});
