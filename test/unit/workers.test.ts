import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveWorkers, SINGLE_PROCESS_CORES } from '../../src/config/workers.js';

void test('auto runs one process on two cores or fewer', () => {
  assert.equal(SINGLE_PROCESS_CORES, 2);
  for (const cores of [0, 1, 2]) assert.equal(resolveWorkers('auto', cores), 1, `${cores} cores`);
});

void test('auto runs one worker per core above two cores', () => {
  for (const cores of [3, 4, 8, 64]) assert.equal(resolveWorkers('auto', cores), cores, `${cores} cores`);
});

void test('a number is taken as given, whatever the cores', () => {
  assert.equal(resolveWorkers(1, 16), 1);
  assert.equal(resolveWorkers(2, 2), 2);
  assert.equal(resolveWorkers(4, 1), 4);
});

void test('a core count that is not a finite number counts as one core', () => {
  assert.equal(resolveWorkers('auto', Number.NaN), 1);
  assert.equal(resolveWorkers('auto', 2.9), 1);
  assert.equal(resolveWorkers('auto', 3.5), 3);
});
