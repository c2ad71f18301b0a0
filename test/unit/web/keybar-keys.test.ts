/**
 * The extra-keys bar's bytes (web/src/keybar-keys.ts): keys, arrows in both cursor modes and with
 * modifiers, Ctrl and Alt on characters, and the sticky modifiers that one key uses up, from the
 * bar or typed, while reports and other sequences pass and leave them armed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyModifiers, barKeyBytes, ctrlOf, StickyModifiers, type Modifiers } from '../../../web/src/keybar-keys.js';

const NONE: Modifiers = { ctrl: false, alt: false };
const CTRL: Modifiers = { ctrl: true, alt: false };
const ALT: Modifiers = { ctrl: false, alt: true };
const BOTH: Modifiers = { ctrl: true, alt: true };

void test('plain keys send what a keyboard sends', () => {
  assert.equal(barKeyBytes('esc', NONE, false), '\x1b');
  assert.equal(barKeyBytes('tab', NONE, false), '\t');
  for (const ch of ['|', '~', '/', '-'] as const) assert.equal(barKeyBytes(ch, NONE, false), ch);
});

void test('arrows: CSI normally, SS3 in application cursor mode, CSI 1;m with modifiers', () => {
  assert.deepEqual(['up', 'down', 'right', 'left'].map((k) => barKeyBytes(k as 'up', NONE, false)), ['\x1b[A', '\x1b[B', '\x1b[C', '\x1b[D']);
  assert.deepEqual(['up', 'down', 'right', 'left'].map((k) => barKeyBytes(k as 'up', NONE, true)), ['\x1bOA', '\x1bOB', '\x1bOC', '\x1bOD']);
  assert.equal(barKeyBytes('left', ALT, true), '\x1b[1;3D', 'Alt: m = 3, whatever the mode');
  assert.equal(barKeyBytes('right', CTRL, false), '\x1b[1;5C', 'Ctrl: m = 5');
  assert.equal(barKeyBytes('up', BOTH, false), '\x1b[1;7A', 'Ctrl+Alt: m = 7');
});

void test('Ctrl maps to the C0 control; keys without one are unchanged', () => {
  assert.equal(ctrlOf('c'), '\x03');
  assert.equal(ctrlOf('C'), '\x03');
  assert.equal(ctrlOf('a'), '\x01');
  assert.equal(ctrlOf('z'), '\x1a');
  assert.equal(ctrlOf('@'), '\x00');
  assert.equal(ctrlOf('['), '\x1b');
  assert.equal(ctrlOf('\\'), '\x1c');
  assert.equal(ctrlOf(']'), '\x1d');
  assert.equal(ctrlOf('^'), '\x1e');
  assert.equal(ctrlOf('_'), '\x1f');
  assert.equal(ctrlOf(' '), '\x00');
  assert.equal(ctrlOf('?'), '\x7f');
  assert.equal(ctrlOf('/'), '\x1f');
  assert.equal(ctrlOf('-'), '\x1f');
  assert.equal(ctrlOf('|'), '\x1c');
  assert.equal(ctrlOf('~'), '\x1e');
  for (const ch of ['1', 'é', '\r', '\x7f', '😀']) assert.equal(ctrlOf(ch), ch, JSON.stringify(ch));
  assert.equal(barKeyBytes('esc', CTRL, false), '\x1b');
  assert.equal(barKeyBytes('tab', CTRL, false), '\t');
});

void test('Alt prefixes ESC (after Ctrl)', () => {
  assert.equal(barKeyBytes('esc', ALT, false), '\x1b\x1b');
  assert.equal(barKeyBytes('tab', ALT, false), '\x1b\t');
  assert.equal(barKeyBytes('/', ALT, false), '\x1b/');
  assert.equal(barKeyBytes('-', BOTH, false), '\x1b\x1f');
  assert.equal(applyModifiers('.', ALT), '\x1b.');
  assert.equal(applyModifiers('b', BOTH), '\x1b\x02');
});

void test('typed input: one character, text (its first character), arrows; reports are not keys', () => {
  assert.equal(applyModifiers('u', CTRL), '\x15');
  assert.equal(applyModifiers('éa', ALT), '\x1béa', 'a code point, not a UTF-16 unit');
  assert.equal(applyModifiers('😀x', ALT), '\x1b😀x');
  assert.equal(applyModifiers('cd', CTRL), '\x03d');
  assert.equal(applyModifiers('\x1b[A', CTRL), '\x1b[1;5A');
  assert.equal(applyModifiers('\x1bOD', ALT), '\x1b[1;3D');
  assert.equal(applyModifiers('\x1b[1;2C', CTRL), '\x1b[1;5C', 'the bar\'s modifiers replace the keyboard\'s');
  assert.equal(applyModifiers('\x1b', ALT), '\x1b\x1b', 'a lone ESC is the Esc key');
  assert.equal(applyModifiers('\x1b[<0;10;5M', CTRL), null, 'a mouse report');
  assert.equal(applyModifiers('\x1b[12;40R', CTRL), null, 'a cursor position report');
  assert.equal(applyModifiers('', CTRL), null);
});

void test('sticky: a tap arms, a second disarms, one key uses it up, a report leaves it armed', () => {
  const seen: Modifiers[] = [];
  const mods = new StickyModifiers((m) => seen.push(m));
  assert.equal(mods.filter('x'), 'x', 'nothing armed: unchanged');
  mods.toggle('ctrl');
  assert.deepEqual(mods.state, CTRL);
  mods.toggle('ctrl');
  assert.deepEqual(mods.state, NONE, 'a second tap disarms');
  mods.toggle('ctrl');
  mods.toggle('alt');
  assert.equal(mods.filter('\x1b[<0;1;1M'), '\x1b[<0;1;1M', 'a mouse report passes');
  assert.deepEqual(mods.state, BOTH, 'and leaves them armed');
  assert.equal(mods.filter('a'), '\x1b\x01', 'the next typed key gets both');
  assert.deepEqual(mods.state, NONE, 'used up');
  assert.equal(mods.filter('a'), 'a');
  mods.toggle('ctrl');
  assert.equal(mods.key('left', true), '\x1b[1;5D', 'a bar key uses them up too');
  assert.equal(mods.key('left', true), '\x1bOD');
  mods.toggle('alt');
  mods.clear();
  assert.deepEqual(mods.state, NONE);
  assert.deepEqual(seen, [CTRL, NONE, CTRL, BOTH, NONE, CTRL, NONE, ALT, NONE], 'every change told once');
});
