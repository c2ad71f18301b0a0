/** Stored terminal settings (web/src/prefs.ts): a value outside the choices counts as none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cursorStyleOf, DEFAULT_SCROLLBACK, fontChoice, FONT_CHOICES, scrollbackOf } from '../../../web/src/prefs.js';

void test('stored settings outside the choices count as none', () => {
  assert.equal(fontChoice('dejavu').stack, '"DejaVu Sans Mono", monospace');
  assert.equal(fontChoice('comic-sans'), FONT_CHOICES[0]);
  assert.equal(fontChoice(null), FONT_CHOICES[0]);
  assert.equal(cursorStyleOf('bar'), 'bar');
  assert.equal(cursorStyleOf('blink'), 'block');
  assert.equal(scrollbackOf('50000'), 50000);
  assert.equal(scrollbackOf('123'), DEFAULT_SCROLLBACK);
  assert.equal(scrollbackOf(null), DEFAULT_SCROLLBACK);
});
