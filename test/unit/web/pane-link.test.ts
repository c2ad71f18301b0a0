/** What session panes and the workspace say to each other, and the tabs' shortcuts (web/src/pane-link.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FROM_PANE, paneParam, parseFromPane, parseToPane, tabShortcut, TO_PANE } from '../../../web/src/pane-link.js';

const report = { label: 'alice@h:22', state: 'connected', live: true, title: 'vim', ask: false, warn: false };

void test('a pane message is taken only when whole and well formed', () => {
  assert.deepEqual(parseFromPane({ [FROM_PANE]: { report } }), { report });
  assert.deepEqual(parseFromPane({ [FROM_PANE]: { ended: true } }), { ended: true });
  assert.deepEqual(parseFromPane({ [FROM_PANE]: { command: { kind: 'step', by: -1 } } }), { command: { kind: 'step', by: -1 } });
  assert.deepEqual(parseFromPane({ [FROM_PANE]: { command: { kind: 'nth', n: 3, extra: 1 } } }), { command: { kind: 'nth', n: 3 } });
  for (const bad of [
    null, 'x', {}, { other: { report } }, { [FROM_PANE]: 'report' },
    { [FROM_PANE]: { report: { ...report, state: 'dancing' } } },
    { [FROM_PANE]: { report: { ...report, live: 'yes' } } },
    { [FROM_PANE]: { report: { ...report, label: 'x'.repeat(201) } } },
    { [FROM_PANE]: { command: { kind: 'step', by: 2 } } },
    { [FROM_PANE]: { command: { kind: 'nth', n: 0 } } },
    { [FROM_PANE]: { command: { kind: 'nth', n: 10 } } },
    { [FROM_PANE]: { command: { kind: 'reload' } } },
  ]) {
    assert.equal(parseFromPane(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseToPane({ [TO_PANE]: 'end' }), 'end');
  assert.equal(parseToPane({ [TO_PANE]: 'focus' }), 'focus');
  assert.equal(parseToPane({ [TO_PANE]: 'reload' }), null);
  assert.equal(parseToPane('end'), null);
});

void test('the frame pane number comes from ?pane=1..9999 only', () => {
  assert.equal(paneParam('?pane=1'), 1);
  assert.equal(paneParam('?host=h&pane=9999'), 9999);
  for (const bad of ['', '?pane=0', '?pane=01', '?pane=10000', '?pane=-1', '?pane=1.5', '?pane=x']) assert.equal(paneParam(bad), null, bad);
});

void test('the tabs shortcuts are Alt+Shift with a physical key, nothing else', () => {
  const k = (code: string, mods: Partial<{ altKey: boolean; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) =>
    tabShortcut({ altKey: true, shiftKey: true, ctrlKey: false, metaKey: false, code, ...mods });
  assert.deepEqual(k('KeyN'), { kind: 'new' });
  assert.deepEqual(k('KeyW'), { kind: 'close' });
  assert.deepEqual(k('KeyS'), { kind: 'split' });
  assert.deepEqual(k('ArrowRight'), { kind: 'step', by: 1 });
  assert.deepEqual(k('BracketLeft'), { kind: 'step', by: -1 });
  assert.deepEqual(k('Digit4'), { kind: 'nth', n: 4 });
  assert.equal(k('Digit0'), null);
  assert.equal(k('KeyQ'), null);
  assert.equal(k('KeyN', { shiftKey: false }), null, 'Alt+N is the shell\'s (Meta-n)');
  assert.equal(k('KeyN', { ctrlKey: true }), null);
  assert.equal(k('KeyN', { metaKey: true }), null);
});
