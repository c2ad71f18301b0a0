/** The page's tabs and split view as data (web/src/tabs-model.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPane, initialTabs, isPaneId, MAX_PANES, nth, parseTabs, removePane, select, shown, step, toggleSplit, type TabsState,
} from '../../../web/src/tabs-model.js';

const three = (): TabsState => addPane(addPane(initialTabs(0), 1), 2);

void test('a new pane goes to the end of the strip and takes the keyboard', () => {
  const s = three();
  assert.deepEqual(s.panes, [0, 1, 2]);
  assert.equal(s.active, 2);
  assert.deepEqual(shown(s), [2]);
  assert.deepEqual(addPane(s, 1), select(s, 1), 'adding a pane the strip has selects it');
});

void test('stepping wraps around the strip; nth is 1-based and ignores what is not there', () => {
  const s = three();
  assert.equal(step(s, 1).active, 0);
  assert.equal(step(s, -1).active, 1);
  assert.equal(step(select(s, 0), -1).active, 2);
  assert.equal(nth(s, 1).active, 0);
  assert.equal(nth(s, 9), s);
});

void test('closing the active pane activates its right neighbour, or its left one at the end', () => {
  const s = three();
  assert.deepEqual(removePane(select(s, 1), 1), { panes: [0, 2], active: 2, split: null });
  assert.deepEqual(removePane(s, 2), { panes: [0, 1], active: 1, split: null });
  assert.deepEqual(removePane(s, 0), { panes: [1, 2], active: 2, split: null }, 'closing a hidden pane keeps the active one');
  const one = initialTabs(0);
  assert.equal(removePane(one, 0), one, 'the last pane stays');
  assert.equal(removePane(s, 7), s, 'an unknown pane changes nothing');
});

void test('the split view: the active pane and its neighbour in strip order; selecting and adding replace the active side', () => {
  const s = toggleSplit(select(three(), 0));
  assert.deepEqual(s.split, { left: 0, right: 1 });
  assert.deepEqual(shown(s), [0, 1]);
  const focusRight = select(s, 1);
  assert.deepEqual(focusRight.split, { left: 0, right: 1 }, 'selecting a pane on screen moves only the keyboard');
  assert.equal(focusRight.active, 1);
  const third = select(focusRight, 2);
  assert.deepEqual(third.split, { left: 0, right: 2 }, 'a hidden pane takes the active side');
  const added = addPane(s, 3);
  assert.deepEqual(added.split, { left: 3, right: 1 });
  assert.equal(added.active, 3);
  assert.deepEqual(toggleSplit(s), { ...s, split: null }, 'toggling again ends the split, keeping the active pane');
  const single = initialTabs(0);
  assert.equal(toggleSplit(single), single, 'one pane cannot be split');
  assert.deepEqual(toggleSplit(three()).split, { left: 1, right: 2 }, 'the sides follow the strip: the last pane splits with the one before it, on the right');
});

void test('closing a pane on screen in the split fills its side from the strip, or ends the split', () => {
  const s = toggleSplit(select(three(), 0)); // 0 | 1, 2 hidden
  assert.deepEqual(removePane(s, 0), { panes: [1, 2], active: 2, split: { left: 2, right: 1 } });
  assert.deepEqual(removePane(s, 1), { panes: [0, 2], active: 0, split: { left: 0, right: 2 } });
  assert.deepEqual(removePane(s, 2), { panes: [0, 1], active: 0, split: { left: 0, right: 1 } }, 'a hidden pane goes without a change on screen');
  const two = toggleSplit(addPane(initialTabs(0), 1));
  assert.deepEqual(removePane(two, 1), { panes: [0], active: 0, split: null });
});

void test('a stored state is taken only when it is whole and consistent', () => {
  const s = toggleSplit(three());
  assert.deepEqual(parseTabs(JSON.parse(JSON.stringify(s))), s);
  assert.deepEqual(parseTabs({ panes: [0, 4], active: 4 }), { panes: [0, 4], active: 4, split: null });
  for (const bad of [
    null, 'x', [], { panes: [] }, { panes: [0, 0], active: 0 }, { panes: [0], active: 1 }, { panes: [-1], active: -1 },
    { panes: [0, 1.5], active: 0 }, { panes: [0, 1], active: 0, split: { left: 0, right: 0 } },
    { panes: [0, 1, 2], active: 2, split: { left: 0, right: 1 } }, { panes: [0, 1], active: 0, split: { left: 0, right: 5 } },
    { panes: Array.from({ length: MAX_PANES + 1 }, (_, i) => i), active: 0 },
  ]) {
    assert.equal(parseTabs(bad), null, JSON.stringify(bad));
  }
  assert.ok(isPaneId(0) && isPaneId(9999) && !isPaneId(10_000) && !isPaneId('1'));
});
