/** OutputLog: the resume buffer's positions, trimming and slices, checked against a plain model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputLog } from '../../src/transport/output-log.js';
import { prng } from '../helpers/prng.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('latin1');

void test('positions count every byte appended; since() slices from any retained position', () => {
  const log = new OutputLog(100);
  log.append(b('hello '));
  log.append(b(''));
  log.append(b('world'));
  assert.equal(log.start, 0);
  assert.equal(log.end, 11);
  assert.equal(text(log.since(0)), 'hello world');
  assert.equal(text(log.since(3)), 'lo world');
  assert.equal(text(log.since(6)), 'world');
  assert.deepEqual(log.since(11), []);
  assert.throws(() => log.since(12), RangeError);
});

void test('past capacity the oldest bytes go, also from inside a chunk; since() below start gives what is left', () => {
  const log = new OutputLog(8);
  log.append(b('abcdef'));
  log.append(b('ghijkl'));
  assert.equal(log.end, 12);
  assert.equal(log.start, 4);
  assert.equal(log.size, 8);
  assert.equal(text(log.since(0)), 'efghijkl');
  assert.equal(text(log.since(7)), 'hijkl');
  log.append(b('0123456789ABCDEF'));
  assert.equal(log.start, 20);
  assert.equal(text(log.since(0)), '89ABCDEF');
});

void test('release() drops what the client confirmed, never past the end', () => {
  const log = new OutputLog(1000);
  log.append(b('0123456789'));
  log.release(4);
  assert.equal(log.start, 4);
  assert.equal(text(log.since(0)), '456789');
  log.release(2); // behind start: no effect
  assert.equal(log.start, 4);
  log.release(50);
  assert.equal(log.start, 10);
  assert.equal(log.size, 0);
  log.append(b('xy'));
  assert.equal(text(log.since(10)), 'xy');
});

void test('chunks are kept by reference: no copy on append', () => {
  const log = new OutputLog(1000);
  const chunk = b('shared');
  log.append(chunk);
  assert.equal(log.since(0)[0]?.buffer, chunk.buffer);
});

void test('random appends, releases and reads agree with a plain string model', () => {
  const rand = prng(0x5eed);
  for (let round = 0; round < 50; round++) {
    const cap = 1 + Math.floor(rand() * 300);
    const log = new OutputLog(cap);
    let all = '';
    let start = 0;
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.6) {
        const n = Math.floor(rand() * 50);
        const s = Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join('');
        log.append(b(s));
        all += s;
        start = Math.max(start, all.length - cap);
      } else if (r < 0.8) {
        const to = Math.floor(rand() * (all.length + 10));
        start = Math.max(start, Math.min(to, all.length));
        log.release(to);
      } else {
        const from = Math.floor(rand() * (all.length + 1));
        assert.equal(text(log.since(from)), all.slice(Math.max(from, start)));
      }
      assert.equal(log.end, all.length);
      assert.equal(log.start, start);
      assert.ok(log.size <= cap);
    }
  }
});

void test('capacity must be a positive integer', () => {
  assert.throws(() => new OutputLog(0), RangeError);
  assert.throws(() => new OutputLog(1.5), RangeError);
});
