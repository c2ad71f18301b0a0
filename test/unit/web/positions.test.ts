/**
 * Output positions of the page's session (web/src/positions.ts): bytes handed to the terminal,
 * bytes xterm.js parsed, and restarts whose late parse callbacks never move the new count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputPositions } from '../../../web/src/positions.js';

/** A terminal stand-in: `mark` callbacks and parse callbacks run when `parse()` says so, in order. */
function queue(): { mark: (done: () => void) => void; push: (done: () => void) => void; parse: () => void } {
  const pending: Array<() => void> = [];
  return {
    mark: (done) => void pending.push(done),
    push: (done) => void pending.push(done),
    parse: () => {
      for (const done of pending.splice(0)) done();
    },
  };
}

void test('a new session counts from 0; parsed follows xterm.js callbacks', () => {
  const term = queue();
  const p = new OutputPositions();
  p.restart(0, term.mark);
  assert.equal(p.position, 0);
  assert.equal(p.parsed, null, 'unknown until the restart itself is parsed');
  term.push(p.advance(10));
  term.push(p.advance(5));
  assert.equal(p.position, 15);
  term.parse();
  assert.equal(p.parsed, 15);
});

void test('a restart (lost output, a restore) ignores parse callbacks from before it', () => {
  const term = queue();
  const p = new OutputPositions();
  p.restart(0, term.mark);
  const early = p.advance(100);
  term.parse();
  p.restart(4000, term.mark);
  early(); // a frame of the old epoch parsed late
  assert.equal(p.parsed, null);
  term.parse();
  assert.equal(p.parsed, 4000);
  const next = p.advance(24);
  assert.equal(p.position, 4024);
  next();
  assert.equal(p.parsed, 4024);
});

void test('output written before a restart was parsed counts once the restart is', () => {
  const term = queue();
  const p = new OutputPositions();
  p.restart(7, term.mark);
  term.push(p.advance(3));
  term.parse(); // mark first (parsed = 7), then the frame (parsed = 10)
  assert.equal(p.parsed, 10);
});
