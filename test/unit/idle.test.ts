/**
 * The idle rule (src/policy/idle.ts) without timers: when the warning goes out, once, and when the
 * session is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idleStep, warningLeadMs } from '../../src/policy/idle.js';

void test('the warning lead is the configured one, at most half the timeout; 0 when either is off', () => {
  assert.equal(warningLeadMs(30 * 60_000, 60_000), 60_000);
  assert.equal(warningLeadMs(15_000, 60_000), 7_500);
  assert.equal(warningLeadMs(30 * 60_000, 0), 0);
  assert.equal(warningLeadMs(0, 60_000), 0);
});

void test('idle below the warning: nothing; within it: warn once with the time left; at the timeout: close', () => {
  const T = 10_000;
  const lead = 3_000;
  assert.deepEqual(idleStep(0, T, lead, false), { kind: 'none' });
  assert.deepEqual(idleStep(6_999, T, lead, false), { kind: 'none' });
  assert.deepEqual(idleStep(7_000, T, lead, false), { kind: 'warn', closesInMs: 3_000 });
  assert.deepEqual(idleStep(8_500, T, lead, false), { kind: 'warn', closesInMs: 1_500 });
  assert.deepEqual(idleStep(8_500, T, lead, true), { kind: 'none' }, 'warned already');
  assert.deepEqual(idleStep(10_000, T, lead, true), { kind: 'close' });
  assert.deepEqual(idleStep(10_000, T, lead, false), { kind: 'close' }, 'closed even if the warning was missed');
});

void test('no warning lead: close only; no timeout: never', () => {
  assert.deepEqual(idleStep(9_999, 10_000, 0, false), { kind: 'none' });
  assert.deepEqual(idleStep(10_000, 10_000, 0, false), { kind: 'close' });
  assert.deepEqual(idleStep(1e12, 0, 0, false), { kind: 'none' });
});
