import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { MAX_PENDING, PendingInput } from '../../src/session/pending-input.js';
import type { ClientMessage } from '../../src/protocol/types.js';

/** The two members of a WebSocket that PendingInput touches; counts pause() calls. */
function fakeWs(paused = false): { ws: WebSocket; pauses: () => number } {
  let pauses = 0;
  const fake = {
    isPaused: paused,
    pause(): void {
      pauses++;
      fake.isPaused = true;
    },
  };
  return { ws: fake as unknown as WebSocket, pauses: () => pauses };
}

const input = (text: string): ClientMessage => ({ kind: 'input', data: Buffer.from(text) });
const bytes = (n: number): ClientMessage => ({ kind: 'input', data: Buffer.alloc(n, 0x61) });
const resize = (cols: number, rows: number): ClientMessage => ({ kind: 'resize', cols, rows });

void test('MAX_PENDING is 256 KiB, as docs/protocol.md promises', () => {
  assert.equal(MAX_PENDING, 256 * 1024);
});

void test('an empty buffer drains to nothing and has no size', () => {
  const p = new PendingInput();
  assert.equal(p.takeSize(), undefined);
  assert.deepEqual(p.drain(), []);
});

void test('messages come out of drain in arrival order, and the queue is empty afterwards', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  const msgs: ClientMessage[] = [
    input('ls'),
    { kind: 'ping', payload: { t: 1 } },
    input(' -l'),
    { kind: 'ignored', reason: 'invalid resize' },
    input('\r'),
  ];
  for (const m of msgs) p.push(m, ws);
  const out = p.drain();
  assert.deepEqual(out, msgs);
  assert.equal(Buffer.concat(out.flatMap((m) => (m.kind === 'input' ? [m.data] : []))).toString(), 'ls -l\r');
  assert.deepEqual(p.drain(), []);
});

void test('the last resize wins and takeSize consumes it', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  p.push(resize(80, 24), ws);
  p.push(input('a'), ws);
  p.push(resize(100, 30), ws);
  p.push(resize(132, 43), ws);
  assert.deepEqual(p.takeSize(), { cols: 132, rows: 43 });
  assert.equal(p.takeSize(), undefined);
  // Once taken, the resize is not delivered again by drain; the input still is.
  assert.deepEqual(p.drain(), [input('a')]);
});

void test('a resize is not queued among the input', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  p.push(input('a'), ws);
  p.push(resize(120, 40), ws);
  p.push(input('b'), ws);
  assert.ok(p.takeSize() !== undefined);
  assert.deepEqual(p.drain(), [input('a'), input('b')]);
});

void test('a resize left over (not taken) comes out of drain, after the queued messages', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  p.push(resize(80, 24), ws);
  p.push(input('x'), ws);
  p.push(resize(200, 50), ws);
  p.push(input('y'), ws);
  assert.deepEqual(p.drain(), [input('x'), input('y'), resize(200, 50)]);
  // drain consumed the size too.
  assert.equal(p.takeSize(), undefined);
  assert.deepEqual(p.drain(), []);
});

void test('a resize pushed after takeSize is delivered by drain', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  p.push(resize(80, 24), ws);
  assert.deepEqual(p.takeSize(), { cols: 80, rows: 24 });
  p.push(resize(90, 30), ws);
  assert.deepEqual(p.drain(), [resize(90, 30)]);
});

void test('the socket is not paused at MAX_PENDING bytes, and is paused once past it', () => {
  const { ws, pauses } = fakeWs();
  const p = new PendingInput();
  p.push(bytes(MAX_PENDING - 1), ws);
  p.push(bytes(1), ws);
  assert.equal(pauses(), 0);
  assert.equal(ws.isPaused, false);
  p.push(bytes(1), ws);
  assert.equal(pauses(), 1);
  assert.equal(ws.isPaused, true);
  // Already paused: not paused again.
  p.push(bytes(1000), ws);
  p.push(bytes(1), ws);
  assert.equal(pauses(), 1);
  // Nothing is dropped: every byte is still there, in order.
  const total = p.drain().reduce((n, m) => n + (m.kind === 'input' ? m.data.length : 0), 0);
  assert.equal(total, MAX_PENDING + 1 + 1000 + 1);
});

void test('one big message past MAX_PENDING pauses at once', () => {
  const { ws, pauses } = fakeWs();
  const p = new PendingInput();
  p.push(bytes(MAX_PENDING + 1), ws);
  assert.equal(pauses(), 1);
});

void test('a socket that is already paused is not paused again', () => {
  const { ws, pauses } = fakeWs(true);
  const p = new PendingInput();
  p.push(bytes(MAX_PENDING + 1), ws);
  assert.equal(pauses(), 0);
});

void test('only input counts toward MAX_PENDING (not pings, ignored messages or resizes)', () => {
  const { ws, pauses } = fakeWs();
  const p = new PendingInput();
  p.push(bytes(MAX_PENDING), ws);
  for (let i = 0; i < 100; i++) {
    p.push({ kind: 'ping', payload: 'x'.repeat(10_000) }, ws);
    p.push({ kind: 'ignored', reason: 'y'.repeat(10_000) }, ws);
    p.push(resize(10_000, 10_000), ws);
  }
  assert.equal(pauses(), 0);
});

void test('drain resets the byte count', () => {
  const { ws, pauses } = fakeWs();
  const p = new PendingInput();
  p.push(bytes(MAX_PENDING), ws);
  p.drain();
  p.push(bytes(MAX_PENDING), ws);
  assert.equal(pauses(), 0);
});

void test('clear empties the queue, the size and the byte count', () => {
  const { ws, pauses } = fakeWs();
  const p = new PendingInput();
  p.push(input('secret typed ahead'), ws);
  p.push(resize(120, 40), ws);
  p.push(bytes(MAX_PENDING - 100), ws);
  p.clear();
  assert.equal(p.takeSize(), undefined);
  assert.deepEqual(p.drain(), []);
  p.push(bytes(MAX_PENDING), ws);
  assert.equal(pauses(), 0);
  p.clear();
  p.clear(); // idempotent
  assert.deepEqual(p.drain(), []);
});

void test('the array returned by drain is not reused by later pushes', () => {
  const { ws } = fakeWs();
  const p = new PendingInput();
  p.push(input('a'), ws);
  const first = p.drain();
  p.push(input('b'), ws);
  assert.deepEqual(first, [input('a')]);
  assert.deepEqual(p.drain(), [input('b')]);
});
