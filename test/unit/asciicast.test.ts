/**
 * The asciicast v2 encoder and writer (src/record/asciicast.ts) and the recording filter
 * (src/record/filter.ts), without files: a fake clock and an in-memory sink.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsciicastWriter, encodeEvent, encodeHeader, MARKER_RESERVE, type AsciicastHeader, type StopReason } from '../../src/record/asciicast.js';
import { parseRecordRule } from '../../src/grammar/record-rule.js';
import { RecordFilter } from '../../src/record/filter.js';

const HEADER: AsciicastHeader = { width: 132, height: 43, timestamp: 1_700_000_000, term: 'xterm-256color', title: 'alice@db.example:22', extra: { webssh_bridge: { session: 'abc' } } };

interface Harness {
  readonly writer: AsciicastWriter;
  readonly lines: string[];
  /** Parsed event lines (the header excluded). */
  events(): Array<[number, string, string]>;
  text(): string;
  setTime(ms: number): void;
  setPending(n: number): void;
  readonly stops: Array<[StopReason, string | undefined]>;
}

function harness(opts: { maxBytes?: number; maxPending?: number } = {}): Harness {
  const lines: string[] = [];
  let now = 1000;
  let pending = 0;
  const stops: Array<[StopReason, string | undefined]> = [];
  const writer = new AsciicastWriter({
    header: HEADER, maxBytes: opts.maxBytes ?? 1024 * 1024, maxPending: opts.maxPending ?? 1024 * 1024,
    sink: { write: (t) => void lines.push(t), get pending() { return pending; } },
    clock: () => now,
    onStop: (reason, message) => void stops.push([reason, message]),
  });
  return {
    writer, lines, stops,
    events: () => lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]),
    text: () => lines.join(''),
    setTime: (ms) => { now = 1000 + ms; },
    setPending: (n) => { pending = n; },
  };
}

const out = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));

void describe('asciicast encoding', () => {
  void it('writes the v2 header first: version, size, timestamp, TERM, title, extra fields', () => {
    const line = encodeHeader(HEADER);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
    assert.deepEqual(JSON.parse(line), {
      version: 2, width: 132, height: 43, timestamp: 1_700_000_000, env: { TERM: 'xterm-256color' }, title: 'alice@db.example:22', webssh_bridge: { session: 'abc' },
    });
    const h = harness();
    assert.equal(h.lines[0], line);
    assert.equal(h.writer.bytes, Buffer.byteLength(line));
  });

  void it('encodes an event as one JSON line; control characters are escaped, times in microseconds', () => {
    const data = '\x1b[1mbold\x1b[0m\r\n\t\x00\x07"\\\u2028é';
    const line = encodeEvent(1234.5678, 'o', data);
    assert.ok(line.endsWith('\n'));
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f]/, 'no raw control character inside the line');
    assert.ok(line.includes('\\u001b[1m') && line.includes('\\r\\n') && line.includes('\\u0000'));
    assert.deepEqual(JSON.parse(line), [1.234568, 'o', data]);
    assert.equal(encodeEvent(0, 'r', '80x24'), '[0,"r","80x24"]\n');
    assert.equal(encodeEvent(0.0004, 'o', 'x'), '[0,"o","x"]\n', 'below a microsecond rounds to 0, never to an exponent');
  });
});

void describe('asciicast writer', () => {
  void it('records output, input and resize events with the time since the start', () => {
    const h = harness();
    h.setTime(10);
    h.writer.output(out('hello'));
    h.setTime(1500.25);
    h.writer.resize(100, 30);
    h.setTime(2000);
    h.writer.input(out('ls\r'));
    assert.deepEqual(h.events(), [[0.01, 'o', 'hello'], [1.50025, 'r', '100x30'], [2, 'i', 'ls\r']]);
    assert.equal(h.writer.events, 3);
    assert.equal(h.writer.bytes, Buffer.byteLength(h.text()));
  });

  void it('keeps a UTF-8 character split across chunks whole, in the later event', () => {
    const h = harness();
    const euro = [0xe2, 0x82, 0xac];
    const grin = [...Buffer.from('😀')];
    h.writer.output(out([0x61, ...euro.slice(0, 1)]));
    h.writer.output(out(euro.slice(1)));
    for (const b of grin) h.writer.output(out([b]));
    h.writer.output(out('é'));
    assert.deepEqual(h.events().map((e) => e[2]), ['a', '€', '😀', 'é']);
    assert.ok(!h.text().includes('\ufffd') && !h.text().includes('\\ufffd'));
  });

  void it('turns invalid UTF-8 into U+FFFD, and an incomplete character at the end too', () => {
    const h = harness();
    h.writer.output(out([0xff, 0x41, 0xc3, 0x28]));
    h.writer.output(out([0xf0, 0x9f]));
    h.writer.finish();
    const data = h.events().map((e) => e[2]);
    assert.deepEqual(data, ['\ufffdA\ufffd(', '\ufffd']);
    for (const line of h.lines) JSON.parse(line);
    assert.deepEqual(h.stops, [['finished', undefined]]);
  });

  void it('input has its own decoder: a split character in one direction does not swallow the other', () => {
    const h = harness();
    h.writer.output(out([0xe2, 0x82]));
    h.writer.input(out('é'));
    h.writer.output(out([0xac]));
    assert.deepEqual(h.events().map((e) => [e[1], e[2]]), [['i', 'é'], ['o', '€']]);
  });

  void it('times never go backwards, even when the clock does', () => {
    const h = harness();
    h.setTime(50);
    h.writer.output(out('a'));
    h.setTime(20);
    h.writer.output(out('b'));
    h.setTime(60);
    h.writer.output(out('c'));
    assert.deepEqual(h.events().map((e) => e[0]), [0.05, 0.05, 0.06]);
  });

  void it('the size cap: the event that would pass it becomes a marker; the file stays under the cap and valid', () => {
    const max = 4096;
    const h = harness({ maxBytes: max });
    const chunk = out('x'.repeat(100));
    for (let i = 0; i < 100; i++) {
      h.setTime(i);
      h.writer.output(chunk);
    }
    h.writer.resize(10, 10);
    h.writer.finish();
    const bytes = Buffer.byteLength(h.text());
    assert.ok(bytes <= max, `${bytes} bytes > ${max}`);
    assert.ok(bytes > max - MARKER_RESERVE - 200, 'the cap is used, not left mostly empty');
    for (const line of h.lines) JSON.parse(line);
    const events = h.events();
    const last = events.at(-1);
    assert.equal(last?.[1], 'm');
    assert.match(last?.[2] ?? '', /^recording truncated: the size limit of 4096 bytes was reached$/);
    assert.equal(events.filter((e) => e[1] === 'm').length, 1);
    assert.ok(events.slice(0, -1).every((e) => e[1] === 'o' && e[2] === chunk.toString()));
    assert.deepEqual(h.stops.map((s) => s[0]), ['size']);
    assert.equal(h.writer.stopped, 'size');
    assert.equal(h.writer.bytes, bytes);
  });

  void it('the backlog cap: when the sink falls too far behind, recording stops with a marker', () => {
    const h = harness({ maxPending: 1000 });
    h.writer.output(out('a'.repeat(500)));
    h.setPending(600);
    h.writer.output(out('b'.repeat(500)));
    h.writer.output(out('c'));
    const events = h.events();
    assert.deepEqual(events.map((e) => e[1]), ['o', 'm']);
    assert.match(events[1]?.[2] ?? '', /more than 1000 bytes were waiting for the disk/);
    assert.deepEqual(h.stops.map((s) => s[0]), ['backlog']);
  });

  void it('finish and fail are idempotent and nothing is written after either', () => {
    const h = harness();
    h.writer.finish();
    h.writer.finish();
    h.writer.fail('late');
    h.writer.output(out('after'));
    h.writer.resize(1, 1);
    assert.equal(h.lines.length, 1);
    assert.deepEqual(h.stops, [['finished', undefined]]);
    const f = harness();
    f.writer.fail('ENOSPC');
    f.writer.finish();
    f.writer.output(out('x'));
    assert.equal(f.lines.length, 1);
    assert.deepEqual(f.stops, [['failed', 'ENOSPC']]);
  });
});

void describe('record filter', () => {
  void it('an empty filter records everything', () => {
    assert.equal(new RecordFilter([]).matches('anyone', 'h:22'), true);
  });

  void it('user globs match the SSH user (case-sensitive), target globs host:port (case-insensitive)', () => {
    const f = new RecordFilter(['user:deploy-*', 'user:r?ot', 'target:*.prod.example:22', 'target:[fd00::*]:*']);
    assert.equal(f.matches('deploy-ci', 'x:1'), true);
    assert.equal(f.matches('Deploy-ci', 'x:1'), false);
    assert.equal(f.matches('root', 'x:1'), true);
    assert.equal(f.matches('rot', 'x:1'), false);
    assert.equal(f.matches('bob', 'db.PROD.example:22'), true);
    assert.equal(f.matches('bob', 'db.prod.example:2222'), false);
    assert.equal(f.matches('bob', '[fd00::7]:22'), true);
    assert.equal(f.matches('bob', '10.0.0.1:22'), false);
    assert.equal(new RecordFilter(['user:a.b']).matches('axb', 'h:1'), false, 'dots are literal');
  });

  void it('parses and normalizes rules; refuses everything else with a reason', () => {
    assert.deepEqual(parseRecordRule('User: alice '), { kind: 'user', glob: 'alice' });
    assert.deepEqual(parseRecordRule('target:DB.Example:22'), { kind: 'target', glob: 'db.example:22' });
    for (const bad of ['alice', 'host:x', 'user:', 'user:a\u0007b', 'target:a b', 'target:x/y', `user:${'a'.repeat(257)}`]) {
      const r = parseRecordRule(bad);
      assert.ok('error' in r, bad);
      assert.match(r.error, /is not a record rule/);
    }
    assert.throws(() => new RecordFilter(['nope']), /not a record rule/);
  });
});
