/**
 * OutputBatcher against a fake WebSocket whose write callbacks the test completes by hand:
 * behaviour only (what is sent, when, in which order), no clocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FRAME, OutputBatcher, type FrameSocket } from '../../src/session/batch.js';
import { prng } from '../helpers/prng.js';

interface FakeWs {
  readonly ws: FrameSocket;
  /** Frames handed to send(), in order. */
  readonly frames: Buffer[];
  /** Write callbacks not run yet. */
  pending(): number;
  /** Run the oldest `n` write callbacks, as the socket would once it has written those frames. */
  complete(n?: number): void;
  /** Run write callbacks until none is left (including those of frames sent meanwhile). */
  completeAll(): void;
}

function fakeWs(): FakeWs {
  const frames: Buffer[] = [];
  const callbacks: Array<(err?: Error) => void> = [];
  const fake = {
    send(data: Buffer, options: { binary?: boolean }, cb?: (err?: Error) => void): void {
      assert.equal(options.binary, true, 'output is binary frames');
      assert.ok(cb !== undefined, 'every frame has a write callback');
      frames.push(data);
      callbacks.push(cb);
    },
  };
  const complete = (n = 1): void => {
    for (let i = 0; i < n; i++) {
      const cb = callbacks.shift();
      assert.ok(cb !== undefined, 'no write left to complete');
      cb();
    }
  };
  return {
    ws: fake as unknown as FrameSocket,
    frames,
    pending: () => callbacks.length,
    complete,
    completeAll: () => {
      while (callbacks.length > 0) complete();
    },
  };
}

/** A batcher plus a record of what it reported written. */
function setup(maxFrame?: number): { fake: FakeWs; batch: OutputBatcher; written: number[] } {
  const fake = fakeWs();
  const written: number[] = [];
  const batch = maxFrame === undefined ? new OutputBatcher(fake.ws, (n) => written.push(n)) : new OutputBatcher(fake.ws, (n) => written.push(n), maxFrame);
  return { fake, batch, written };
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const joined = (frames: Buffer[]): string => Buffer.concat(frames).toString('latin1');


void test('MAX_FRAME is 64 KiB', () => {
  assert.equal(MAX_FRAME, 64 * 1024);
});

void test('idle: a lone chunk is sent synchronously, as the same Buffer (no copy)', () => {
  const { fake, batch } = setup();
  const chunk = text('a');
  batch.push(chunk);
  assert.equal(fake.frames.length, 1);
  assert.equal(fake.frames[0], chunk, 'the very Buffer that came in is the frame');
  assert.equal(batch.pendingBytes, 0);
  assert.equal(batch.writesInFlight, 1);
});

void test('idle again after the write completes: the next lone chunk also goes out at once', () => {
  const { fake, batch, written } = setup();
  for (const key of ['l', 's', '\r\n']) {
    batch.push(text(key));
    assert.equal(fake.pending(), 1, `"${key}" sent at once`);
    fake.complete();
  }
  assert.deepEqual(fake.frames.map((f) => f.toString('latin1')), ['l', 's', '\r\n']);
  assert.deepEqual(written, [1, 1, 2]);
  assert.equal(batch.frames, 3);
});

void test('busy: chunks that arrive while a frame is being written leave as one frame, in order, when it completes', () => {
  const { fake, batch, written } = setup();
  batch.push(text('first'));
  batch.push(text('-2'));
  batch.push(text('-3'));
  batch.push(text('-4'));
  assert.equal(fake.frames.length, 1, 'nothing more is sent while the first frame is in flight');
  assert.equal(batch.pendingBytes, 6);
  fake.complete();
  assert.equal(fake.frames.length, 2);
  assert.equal(fake.frames[1]?.toString('latin1'), '-2-3-4');
  assert.equal(batch.pendingBytes, 0);
  fake.complete();
  assert.deepEqual(written, [5, 6], 'one report per frame, with its size, in order');
  assert.equal(joined(fake.frames), 'first-2-3-4');
});

void test('a batch of one chunk is sent as that chunk, not a copy', () => {
  const { fake, batch } = setup();
  batch.push(text('x'));
  const second = text('yz');
  batch.push(second);
  fake.complete();
  assert.equal(fake.frames[1], second);
});

void test('the batch waits for every outstanding write, then goes as one frame', () => {
  const { fake, batch } = setup(8);
  batch.push(text('12345678')); // a full frame on its own
  batch.push(text('abcd'));
  batch.push(text('efgh')); // fills the batch exactly: sent at once, behind the first
  assert.equal(fake.frames.length, 2);
  batch.push(text('i'));
  batch.push(text('j'));
  fake.complete(); // one of two writes done: still busy
  assert.equal(fake.frames.length, 2);
  fake.complete(); // all done: the batch goes
  assert.equal(fake.frames.length, 3);
  assert.deepEqual(fake.frames.map((f) => f.toString('latin1')), ['12345678', 'abcdefgh', 'ij']);
});

void test('frame bound: a merged frame never exceeds maxFrame; a chunk that would overflow sends the batch first', () => {
  const { fake, batch } = setup(10);
  batch.push(text('0'));
  batch.push(text('aaaa'));
  batch.push(text('bbbb'));
  batch.push(text('cccc')); // 12 > 10: 'aaaabbbb' goes now, 'cccc' starts the next batch
  assert.equal(fake.frames.length, 2);
  assert.equal(fake.frames[1]?.toString('latin1'), 'aaaabbbb');
  assert.equal(batch.pendingBytes, 4);
  batch.push(text('dddddddddddd')); // larger than maxFrame: never merged, goes alone after the batch
  assert.deepEqual(fake.frames.map((f) => f.toString('latin1')), ['0', 'aaaabbbb', 'cccc', 'dddddddddddd']);
  assert.equal(batch.pendingBytes, 0);
  fake.completeAll();
  assert.equal(fake.frames.length, 4);
});

void test('random chunks and write completions: bytes exact and in order, frames bounded, each byte reported once', () => {
  for (const seed of [1, 2, 3, 42, 9001]) {
    const rnd = prng(seed);
    const maxFrame = 1 + Math.floor(rnd() * 40_000);
    const { fake, batch, written } = setup(maxFrame);
    const chunks: Buffer[] = [];
    const originals = new Set<Buffer>();
    for (let i = 0; i < 3000; i++) {
      const size = rnd() < 0.1 ? 1 + Math.floor(rnd() * 60_000) : 1 + Math.floor(rnd() * 300);
      const chunk = Buffer.alloc(size, i % 251); // each chunk distinct from its neighbours
      if (size >= 4) chunk.writeUInt32BE(i, 0);
      chunks.push(chunk);
      originals.add(chunk);
      batch.push(chunk);
      const r = rnd();
      if (r < 0.3 && fake.pending() > 0) fake.complete(1 + Math.floor(rnd() * fake.pending()));
    }
    fake.completeAll();
    const sent = Buffer.concat(fake.frames);
    assert.ok(sent.equals(Buffer.concat(chunks)), `seed ${seed}: byte stream differs`);
    for (const f of fake.frames) {
      if (!originals.has(f)) assert.ok(f.length <= maxFrame, `seed ${seed}: merged frame of ${f.length} > ${maxFrame}`);
    }
    assert.ok(fake.frames.length < chunks.length, `seed ${seed}: ${fake.frames.length} frames for ${chunks.length} chunks`);
    const mergedFrames = fake.frames.filter((f) => !originals.has(f)).length;
    assert.ok(mergedFrames > 0, `seed ${seed}: some frames are merged`);
    assert.deepEqual(written, fake.frames.map((f) => f.length), `seed ${seed}: one report per frame, its size, in send order`);
    assert.equal(batch.pendingBytes, 0);
    assert.equal(batch.writesInFlight, 0);
  }
});

void test('many frames in flight at once (the size FIFO grows) are each reported with their own size', () => {
  const { fake, batch, written } = setup(4);
  batch.push(text('a'));
  const sizes: number[] = [1];
  for (let i = 0; i < 100; i++) {
    const n = 4 + (i % 3); // each a full frame: sent at once, behind the others
    batch.push(Buffer.alloc(n, 0x61));
    sizes.push(n);
  }
  assert.equal(fake.pending(), 101);
  fake.complete(30);
  batch.push(text('b')); // still busy: batched
  sizes.push(1);
  fake.completeAll();
  assert.deepEqual(written, sizes);
});

void test('flush() sends the batch at once, behind the frame in flight', () => {
  const { fake, batch } = setup();
  batch.push(text('one'));
  batch.push(text('two'));
  batch.flush();
  assert.deepEqual(fake.frames.map((f) => f.toString('latin1')), ['one', 'two']);
  batch.flush(); // nothing pending: no empty frame
  assert.equal(fake.frames.length, 2);
});

void test('dispose sends what is pending once, keeps nothing, and ignores later chunks', () => {
  const { fake, batch, written } = setup();
  batch.push(text('a'));
  batch.push(text('b'));
  batch.push(text('c'));
  batch.dispose();
  assert.deepEqual(fake.frames.map((f) => f.toString('latin1')), ['a', 'bc']);
  assert.equal(batch.pendingBytes, 0);
  batch.push(text('late'));
  batch.flush();
  batch.dispose();
  fake.completeAll();
  assert.equal(fake.frames.length, 2, 'nothing is sent after dispose');
  assert.deepEqual(written, [1, 2], 'writes completing after dispose are still reported');
});

void test('empty chunks are dropped, not sent as empty frames', () => {
  const { fake, batch } = setup();
  batch.push(Buffer.alloc(0));
  assert.equal(fake.frames.length, 0);
  batch.push(text('a'));
  batch.push(Buffer.alloc(0));
  fake.completeAll();
  assert.equal(fake.frames.length, 1);
});

void test('a write callback with an error still counts the frame as done', () => {
  const frames: Buffer[] = [];
  const written: number[] = [];
  const ws = {
    send(data: Buffer, _o: unknown, cb: (err?: Error) => void): void {
      frames.push(data);
      process.nextTick(cb, new Error('WebSocket is not open'));
    },
  } as unknown as FrameSocket;
  const batch = new OutputBatcher(ws, (n) => written.push(n));
  batch.push(text('ab'));
  batch.push(text('cd'));
  return new Promise<void>((resolve) => {
    setImmediate(() => {
      assert.deepEqual(frames.map((f) => f.toString('latin1')), ['ab', 'cd']);
      assert.deepEqual(written, [2, 2]);
      resolve();
    });
  });
});

void test('maxFrame must be a positive integer', () => {
  const { ws } = fakeWs();
  assert.throws(() => new OutputBatcher(ws, () => undefined, 0), RangeError);
  assert.throws(() => new OutputBatcher(ws, () => undefined, 1.5), RangeError);
});
