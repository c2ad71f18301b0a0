/**
 * The page's input across a lost socket (web/src/input-journal.ts): what went into a dead socket
 * is sent again from the bridge's `inputPosition`, then what was typed meanwhile, each byte once
 * and in order; whatever cannot be delivered is counted, never dropped in silence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HELD_MAX, InputJournal, SENT_KEEP } from '../../../web/src/input-journal.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);

/** A socket stand-in that records what is sent (and tells the journal, as the connection does). */
function wire(j: InputJournal, open = true): { send: (bytes: Uint8Array) => boolean; text: () => string } {
  let out = '';
  return {
    send: (bytes) => {
      if (!open) return false;
      out += dec.decode(bytes);
      j.sent(bytes);
      return true;
    },
    text: () => out,
  };
}

void test('the bytes after inputPosition are sent again, then the held ones, in order', () => {
  const j = new InputJournal();
  j.sent(b('ls -l\r'));
  j.sent(b('echo one'));
  j.sent(b(' two\r'));
  assert.equal(j.position, 19);
  assert.ok(j.hold(b('vim x\r')));
  assert.ok(j.hold(b('ihello')));
  assert.equal(j.held, 12);
  const w = wire(j);
  // The bridge took "ls -l\recho o": the rest went into the dead socket.
  assert.equal(j.resumed(12, w.send), 0);
  assert.equal(w.text(), 'ne two\rvim x\rihello');
  assert.equal(j.position, 31, 'positions go on from the bridge\'s count');
  assert.equal(j.held, 0);
});

void test('nothing is sent twice: a bridge that took everything gets only the held bytes; an old bridge (null) too', () => {
  for (const position of [8, null]) {
    const j = new InputJournal();
    j.sent(b('abc'));
    j.sent(b('defgh'));
    j.hold(b('XY'));
    const w = wire(j);
    assert.equal(j.resumed(position, w.send), 0);
    assert.equal(w.text(), 'XY');
  }
});

void test('more missing than was kept: the kept bytes go again and the rest is counted as lost', () => {
  const j = new InputJournal();
  const chunk = new Uint8Array(1024).fill(97);
  for (let i = 0; i < 100; i++) j.sent(chunk);
  assert.equal(j.position, 100 * 1024);
  const w = wire(j);
  const lost = j.resumed(0, w.send);
  assert.ok(w.text().length >= SENT_KEEP, `kept at least ${SENT_KEEP} (${w.text().length})`);
  assert.equal(lost + w.text().length, 100 * 1024, 'every byte is sent again or counted');
});

void test('the hold is bounded: what does not fit is refused and counted on the resume', () => {
  const j = new InputJournal();
  assert.ok(j.hold(new Uint8Array(HELD_MAX - 10)));
  assert.equal(j.hold(new Uint8Array(11)), false);
  assert.ok(j.hold(new Uint8Array(10)));
  const w = wire(j);
  assert.equal(j.resumed(0, w.send), 11);
  assert.equal(w.text().length, HELD_MAX);
});

void test('a socket that fails mid-redelivery: what it could not send is counted', () => {
  const j = new InputJournal();
  j.sent(b('abcdef'));
  j.hold(b('xyz'));
  assert.equal(j.resumed(2, wire(j, false).send), 7);
});

void test('reset (a new login, the end) starts positions at 0 and returns the held bytes that will never go', () => {
  const j = new InputJournal();
  j.sent(b('abc'));
  j.hold(b('held'));
  j.hold(new Uint8Array(HELD_MAX));
  assert.equal(j.reset(), 4 + HELD_MAX);
  assert.equal(j.position, 0);
  assert.equal(j.held, 0);
  assert.equal(j.reset(), 0);
});

void test('a chunk split at inputPosition is sent from the exact byte', () => {
  const j = new InputJournal();
  j.sent(b('0123456789'));
  const w = wire(j);
  j.resumed(7, w.send);
  assert.equal(w.text(), '789');
  assert.equal(j.position, 10);
});
