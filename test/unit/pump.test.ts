/**
 * Pump (SSH -> client output with coalescing, backpressure, flow control, stall) against a fake
 * channel and a fake WebSocket whose write callbacks the test completes by hand. Behaviour only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import type { WebSocket } from 'ws';
import { Readable } from 'node:stream';
import { CHANNEL_READ_MARK, HIGH_WATER, LOW_WATER, Pump, type PumpEvents } from '../../src/session/pump.js';
import { OutputLog } from '../../src/transport/output-log.js';

class FakeStream extends EventEmitter {
  paused = false;
  pauses = 0;
  resumes = 0;
  pause(): this {
    this.paused = true;
    this.pauses++;
    return this;
  }
  resume(): this {
    this.paused = false;
    this.resumes++;
    return this;
  }
}

class FakeChannel extends FakeStream {
  readonly stderr = new FakeStream();
  readonly input: Buffer[] = [];
  writeOk = true;
  write(data: Buffer): boolean {
    this.input.push(data);
    return this.writeOk;
  }
}

class FakeWs {
  readonly frames: Buffer[] = [];
  readonly callbacks: Array<(err?: Error) => void> = [];
  paused = false;
  send(data: Buffer, options: { binary?: boolean }, cb?: (err?: Error) => void): void {
    assert.equal(options.binary, true);
    assert.ok(cb !== undefined);
    this.frames.push(data);
    this.callbacks.push(cb);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Complete the oldest `n` writes. */
  complete(n = 1): void {
    for (let i = 0; i < n; i++) {
      const cb = this.callbacks.shift();
      assert.ok(cb !== undefined, 'no write left to complete');
      cb();
    }
  }
  completeAll(): void {
    while (this.callbacks.length > 0) this.complete();
  }
  text(): string {
    return Buffer.concat(this.frames).toString('latin1');
  }
}

interface Rig {
  pump: Pump;
  ws: FakeWs;
  ch: FakeChannel;
  log: { output: number[]; input: number[]; pauses: string[]; stalls: number };
}

function rig(opts: { flowControl?: boolean; stallMs?: number; onStall?: () => void; log?: OutputLog } = {}): Rig {
  const ws = new FakeWs();
  const ch = new FakeChannel();
  const log: Rig['log'] = { output: [], input: [], pauses: [], stalls: 0 };
  const events: PumpEvents = {
    onOutput: (n) => log.output.push(n),
    onInput: (n) => log.input.push(n),
    onPause: (d) => log.pauses.push(d),
    onStall: () => {
      log.stalls++;
      opts.onStall?.();
    },
  };
  const pump = new Pump(ch as unknown as ClientChannel, opts.stallMs ?? 60_000, events, opts.flowControl ?? false, opts.log ?? null);
  pump.attach(ws as unknown as WebSocket);
  return { pump, ws, ch, log };
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

void test('idle: a lone chunk (a keystroke echo) is sent synchronously inside the data handler, uncopied', () => {
  const { pump, ws, ch } = rig();
  const echo = text('a');
  ch.emit('data', echo);
  assert.equal(ws.frames.length, 1, 'sent before emit() returned');
  assert.equal(ws.frames[0], echo);
  ws.complete();
  const next = text('b');
  ch.emit('data', next);
  assert.equal(ws.frames[1], next, 'idle again: the next one too');
  pump.dispose();
});

void test('stdout and stderr share one ordered stream; chunks arriving while a frame is in flight are coalesced', () => {
  const { pump, ws, ch, log } = rig();
  ch.emit('data', text('out1 '));
  ch.stderr.emit('data', text('err1 '));
  ch.emit('data', text('out2 '));
  ch.stderr.emit('data', text('err2'));
  assert.equal(ws.frames.length, 1);
  assert.equal(pump.batched, 14);
  assert.equal(pump.inFlight, 19, 'batched bytes count as in flight');
  ws.complete();
  assert.equal(ws.frames.length, 2);
  assert.equal(ws.frames[1]?.toString('latin1'), 'err1 out2 err2');
  ws.completeAll();
  assert.equal(ws.text(), 'out1 err1 out2 err2');
  assert.equal(pump.inFlight, 0);
  assert.equal(pump.framesSent, 2);
  assert.deepEqual(log.output, [5, 5, 5, 4], 'onOutput once per chunk: every byte counted once');
  pump.dispose();
});

void test('output() (the seed banner) takes the same ordered path', () => {
  const { pump, ws, ch } = rig();
  pump.output(text('banner\r\n'));
  ch.emit('data', text('fake$ '));
  ws.completeAll();
  assert.equal(ws.text(), 'banner\r\nfake$ ');
  pump.dispose();
});

void test('taps (share hub, recording) see every chunk, stdout, stderr and output(), in the client\'s order, until untapped or disposed', () => {
  const { pump, ws, ch } = rig();
  const first: string[] = [];
  const second: string[] = [];
  const untapFirst = pump.tap((c) => first.push(c.toString('latin1')));
  pump.tap((c) => second.push(c.toString('latin1')));
  pump.output(text('banner '));
  ch.emit('data', text('out '));
  ch.stderr.emit('data', text('err '));
  untapFirst();
  ch.emit('data', text('late'));
  ws.completeAll();
  assert.deepEqual(first, ['banner ', 'out ', 'err ']);
  assert.deepEqual(second, ['banner ', 'out ', 'err ', 'late']);
  assert.equal(second.join(''), ws.text(), 'the same bytes in the same order as the client');
  pump.dispose();
  pump.output(text('after'));
  assert.equal(second.length, 4, 'a disposed pump feeds no tap');
  assert.equal(typeof pump.tap(() => undefined), 'function', 'tapping a disposed pump is harmless');
});

void test('the batch counts towards HIGH_WATER: the channel pauses while the bytes are still batched, resumes below LOW_WATER', () => {
  const { pump, ws, ch, log } = rig();
  ch.emit('data', Buffer.alloc(HIGH_WATER - 50, 0x61)); // one big frame in flight, under the mark
  assert.equal(ch.paused, false);
  ch.emit('data', Buffer.alloc(100, 0x62)); // batched, not sent: still pushes in-flight over the mark
  assert.equal(ws.frames.length, 1);
  assert.equal(pump.batched, 100);
  assert.equal(pump.inFlight, HIGH_WATER + 50);
  assert.equal(ch.paused, true);
  assert.equal(ch.stderr.paused, true);
  assert.deepEqual(log.pauses, ['ssh_output']);
  ws.complete(); // the big frame is written; the batch goes; 100 bytes left in flight
  assert.equal(ws.frames.length, 2);
  assert.equal(pump.inFlight, 100);
  assert.equal(ch.paused, false);
  assert.equal(ch.stderr.paused, false);
  assert.equal(ch.resumes, 1);
  ws.completeAll();
  assert.equal(pump.inFlight, 0);
  pump.dispose();
});

void test('a flood that the socket does not take: bounded frames, pause once past HIGH_WATER, resume only below LOW_WATER', () => {
  const { pump, ws, ch, log } = rig();
  const chunk = 16 * 1024;
  let sent = 0;
  while (!ch.paused) {
    ch.emit('data', Buffer.alloc(chunk, 0x30 + (sent / chunk) % 10));
    sent += chunk;
  }
  assert.ok(sent > HIGH_WATER && sent <= HIGH_WATER + chunk, `paused after ${sent} bytes`);
  assert.equal(pump.inFlight, sent);
  assert.deepEqual(log.pauses, ['ssh_output']);
  assert.ok(ws.frames.length < sent / chunk, `${ws.frames.length} frames for ${sent / chunk} chunks`);
  for (const f of ws.frames) assert.ok(f.length <= 64 * 1024, `frame of ${f.length} bytes`);
  while (ch.paused) {
    const before = pump.inFlight;
    assert.ok(before >= LOW_WATER, `still paused at ${before} bytes in flight`);
    ws.complete();
  }
  assert.ok(pump.inFlight < LOW_WATER);
  ws.completeAll();
  assert.equal(pump.inFlight, 0);
  const expected = Buffer.concat(Array.from({ length: sent / chunk }, (_, i) => Buffer.alloc(chunk, 0x30 + (i % 10))));
  assert.ok(Buffer.concat(ws.frames).equals(expected), 'bytes exact and in order');
  pump.dispose();
});

void test('flow control: unacknowledged bytes are counted per byte, not per frame; ack releases the pause', () => {
  const { pump, ws, ch } = rig({ flowControl: true });
  const chunk = 20_000;
  let sent = 0;
  while (!ch.paused) {
    for (let i = 0; i < 3; i++) ch.emit('data', Buffer.alloc(chunk, 0x61)); // one SSH read's worth
    sent += 3 * chunk;
    ws.completeAll(); // the socket keeps up; only the page's acknowledgements lag
  }
  assert.equal(pump.unacked, sent);
  assert.equal(pump.inFlight, 0);
  assert.ok(ws.frames.length < sent / chunk, 'chunks were coalesced');
  pump.ack(sent - LOW_WATER); // exactly LOW_WATER left: still paused
  assert.equal(ch.paused, true);
  pump.ack(1);
  assert.equal(ch.paused, false);
  pump.ack(10 * sent); // over-acknowledging stops at zero
  assert.equal(pump.unacked, 0);
  pump.dispose();
});

void test("the channel's close flushes the batch before later close listeners (the session's exit message) run", () => {
  const { pump, ws, ch } = rig();
  const seenAtClose: string[] = [];
  ch.on('close', () => seenAtClose.push(ws.text())); // registered after the Pump, like BridgeSession
  ch.emit('data', text('last '));
  ch.emit('data', text('output'));
  ch.emit('data', text('\r\n'));
  ch.emit('close');
  assert.deepEqual(seenAtClose, ['last output\r\n']);
  pump.dispose();
  ws.completeAll();
  assert.equal(ws.text(), 'last output\r\n');
});

void test('dispose sends the pending batch once, clears the stall timer, and stops listening', () => {
  const timersBefore = timeouts();
  const { pump, ws, ch, log } = rig();
  ch.emit('data', Buffer.alloc(HIGH_WATER + 1, 0x61)); // paused: the stall timer runs
  ch.emit('data', text('tail'));
  assert.equal(ch.paused, true);
  assert.equal(timeouts(), timersBefore + 1, 'one stall timer while paused');
  pump.dispose();
  assert.equal(timeouts(), timersBefore, 'no timer left after dispose');
  assert.equal(ws.frames.length, 2);
  assert.equal(ws.frames[1]?.toString('latin1'), 'tail');
  assert.equal(pump.batched, 0);
  for (const e of [ch, ch.stderr]) assert.equal(e.listenerCount('data'), 0);
  assert.equal(ch.listenerCount('close'), 0);
  assert.equal(ch.listenerCount('drain'), 0);
  ch.emit('data', text('after'));
  pump.output(text('after'));
  ws.completeAll(); // late write callbacks are harmless
  assert.equal(ws.frames.length, 2, 'nothing sent after dispose');
  assert.equal(ch.resumes, 0, 'a disposed pump does not resume the channel');
  assert.equal(log.stalls, 0);
  pump.dispose(); // idempotent
});

void test('a client that stops reading is reported stalled (the batch does not hide it)', async () => {
  let stalled: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => (stalled = resolve));
  const { pump, ch, log } = rig({ stallMs: 20, onStall: () => stalled() });
  ch.emit('data', Buffer.alloc(HIGH_WATER, 0x61)); // in flight, never written
  ch.emit('data', text('more')); // batched; pushes in-flight past the mark
  assert.equal(ch.paused, true);
  await fired;
  assert.equal(log.stalls, 1);
  pump.dispose();
});

void test('input: a full channel pauses the WebSocket until drain', () => {
  const { pump, ws, ch, log } = rig();
  ch.writeOk = false;
  pump.input(text('ls\r'));
  assert.equal(ws.paused, true);
  assert.deepEqual(log.pauses, ['client_input']);
  assert.equal(pump.inputPaused, true);
  ch.emit('drain');
  assert.equal(ws.paused, false);
  assert.equal(sum(log.input), 3);
  pump.dispose();
});

void test("a channel's read buffer mark drops from ssh2's 2 MiB to 0, so a paused channel stops granting window at its first chunk, and a flowing one still delivers", async () => {
  const stream = (): Readable => new Readable({ highWaterMark: 2 * 1024 * 1024, read() { /* data is pushed by the test */ } });
  const ch = Object.assign(stream(), { stderr: stream(), write: () => true });
  const ws = new FakeWs();
  const events: PumpEvents = { onOutput: () => undefined, onInput: () => undefined, onPause: () => undefined, onStall: () => undefined };
  const pump = new Pump(ch as unknown as ClientChannel, 30_000, events, false);
  pump.attach(ws as unknown as WebSocket);
  assert.equal(CHANNEL_READ_MARK, 0);
  assert.equal(ch.readableHighWaterMark, CHANNEL_READ_MARK);
  assert.equal(ch.stderr.readableHighWaterMark, CHANNEL_READ_MARK);
  await new Promise<void>((resolve) => setImmediate(resolve)); // the 'data' listener's resume() runs on the next tick
  // Flowing (the pump listens for 'data'): a chunk goes straight out and push() says go on.
  assert.equal(ch.push(Buffer.alloc(32 * 1024)), true);
  assert.equal(ch.readableLength, 0);
  ch.pause();
  // Paused: ssh2 stops re-granting window as soon as push() says false, at the first chunk.
  assert.equal(ch.push(Buffer.alloc(32 * 1024)), false, 'paused: nothing more wanted');
  pump.dispose();
});

void test('resume log: output is logged; detach drops the batch, un-pauses the channel and keeps logging', () => {
  const out = new OutputLog(4 * HIGH_WATER);
  const { pump, ws, ch } = rig({ log: out });
  pump.input(text('x')); // unrelated: input still works attached
  ch.emit('data', text('first'));
  ch.emit('data', text('-batched')); // joins the batch: the first frame is still being written
  assert.equal(ws.frames.length, 1);
  ch.emit('data', Buffer.alloc(HIGH_WATER)); // past the mark: the channel pauses
  assert.equal(ch.paused, true);
  const sent = ws.frames.length;
  pump.detach();
  assert.equal(ch.paused, false, 'the shell runs on while nobody is attached');
  assert.equal(pump.inFlight, 0);
  ws.completeAll(); // callbacks of the old socket no longer count
  assert.equal(pump.inFlight, 0);
  ch.emit('data', text('while-away'));
  assert.equal(ws.frames.length, sent, 'nothing more goes to the old socket');
  assert.equal(out.end, 5 + 8 + HIGH_WATER + 10);
  assert.equal(text('first-batched').length + HIGH_WATER + 10, out.end);
  pump.dispose();
});

void test('resume log: attach replays from a position, then live output; backpressure covers the replay', () => {
  const out = new OutputLog(4 * HIGH_WATER);
  const { pump, ws, ch } = rig({ log: out });
  ch.emit('data', text('abc'));
  ch.emit('data', text('defgh'));
  ws.completeAll();
  pump.detach();
  ch.emit('data', Buffer.alloc(HIGH_WATER, 0x2e));
  const again = new FakeWs();
  pump.attach(again as unknown as WebSocket, 4);
  assert.equal(again.frames[0]?.toString('latin1'), 'efgh');
  assert.equal(ch.paused, true, 'a replay past the high-water mark pauses the channel');
  again.completeAll();
  assert.equal(ch.paused, false);
  ch.emit('data', text('live'));
  assert.ok(again.text().endsWith('live'));
  assert.equal(again.text().length, 4 + HIGH_WATER + 4);
  pump.dispose();
});

void test('resume log: acks release the log, never past what this socket was sent', () => {
  const out = new OutputLog(1024 * 1024);
  const { pump, ws, ch } = rig({ log: out, flowControl: true });
  ch.emit('data', text('0123456789'));
  ws.completeAll();
  pump.ack(4);
  assert.equal(out.start, 4);
  pump.ack(1000); // over-ack: clamped to the 10 bytes sent
  assert.equal(out.start, 10);
  pump.detach();
  ch.emit('data', text('abc'));
  const again = new FakeWs();
  pump.attach(again as unknown as WebSocket, 10);
  assert.equal(again.text(), 'abc');
  pump.ack(2);
  assert.equal(out.start, 12);
  pump.dispose();
});
