/**
 * Which toolbar buttons fold into the More menu (web/src/toolbar-fold.ts): none while all fit;
 * else the lowest priority first (the rightmost among equals) until the rest fits next to More;
 * buttons not shown never fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldTools, type FoldItem } from '../../../web/src/toolbar-fold.js';

const item = (width: number, priority: number): FoldItem => ({ width, priority });

void test('nothing folds while everything fits (More is not needed)', () => {
  assert.deepEqual(foldTools([item(50, 1), item(50, 2)], 100, 30), [false, false]);
  assert.deepEqual(foldTools([], 0, 30), []);
});

void test('lowest priority folds first, until the rest fits next to More', () => {
  // 40 + 60 + 30 = 130 > 100: with More (20) the budget is 80.
  assert.deepEqual(foldTools([item(40, 3), item(60, 1), item(30, 2)], 100, 20), [false, true, false]);
  assert.deepEqual(foldTools([item(40, 3), item(60, 1), item(30, 2)], 60, 20), [false, true, true]);
  assert.deepEqual(foldTools([item(40, 3), item(60, 1), item(30, 2)], 10, 20), [true, true, true], 'all of them when nothing fits');
});

void test('among equal priorities the one further right folds first', () => {
  assert.deepEqual(foldTools([item(30, 1), item(30, 1), item(30, 1)], 79, 20), [false, true, true]);
  assert.deepEqual(foldTools([item(30, 1), item(30, 1), item(30, 1)], 89, 20), [false, false, true]);
});

void test('a button that is not shown never folds', () => {
  assert.deepEqual(foldTools([item(0, 0), item(50, 5), item(50, 4)], 80, 20), [false, false, true]);
  assert.deepEqual(foldTools([item(0, 0), item(0, 0)], 0, 20), [false, false]);
});
