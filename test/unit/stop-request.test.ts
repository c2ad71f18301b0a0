/**
 * The stop request without a process: a fake host records the listeners it is given and what it
 * is sent, so the rules are checked by calling them (a stop before `own()` exits 0 at once; after,
 * every stop reaches the handler with its count; a worker says hello and hears only `drain`), and
 * so is the two-step handler the draining roles share.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/cluster/messages.js';
import { createLogger } from '../../src/log.js';
import { drainThenNow, StopRequest, type StopHost, type StopReason } from '../../src/roles/stop-request.js';

function fakeHost(connected: boolean): { host: StopHost; emit: (event: string, arg?: unknown) => void; sent: Message[] } {
  const listeners = new Map<string, ((arg?: unknown) => void)[]>();
  const sent: Message[] = [];
  const host: StopHost = {
    on: (event: string, listener: (arg?: unknown) => void) => listeners.set(event, [...(listeners.get(event) ?? []), listener]),
    send: (m: Message) => sent.push(m) > 0,
    connected,
  };
  return { host, sent, emit: (event, arg) => { for (const l of listeners.get(event) ?? []) l(arg); } };
}

void test('a stop before anything owns it exits 0 at once', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const { host, emit } = fakeHost(false);
    const exits: number[] = [];
    StopRequest.install(host, false, (code) => exits.push(code));
    emit(signal);
    assert.deepEqual(exits, [0], signal);
  }
});

void test('once owned, every stop reaches the handler with its reason and count, and nothing exits', () => {
  const { host, emit } = fakeHost(false);
  const exits: number[] = [];
  const stop = StopRequest.install(host, false, (code) => exits.push(code));
  const seen: [StopReason, number][] = [];
  stop.own((reason, count) => seen.push([reason, count]));
  assert.equal(stop.count, 0);
  emit('SIGINT');
  emit('SIGTERM');
  assert.deepEqual(seen, [['SIGINT', 1], ['SIGTERM', 2]]);
  assert.equal(stop.count, 2);
  assert.deepEqual(exits, []);
});

void test('a worker hears the primary\'s unready (the first step of its stop) as a stop request too', () => {
  const { host, emit } = fakeHost(true);
  const stop = StopRequest.install(host, true, () => assert.fail('no exit once owned'));
  const seen: StopReason[] = [];
  stop.own((reason) => seen.push(reason));
  emit('message', { uwsb: 1, kind: 'cmd', op: 'unready' });
  emit('message', { uwsb: 1, kind: 'cmd', op: 'drain' });
  assert.deepEqual(seen, ['unready', 'drain']);
});

void test('drainThenNow with a ready delay: a second stop hurries the delay under way, a third one ends the process now', () => {
  const lines: string[] = [];
  const logger = createLogger(false, { write: (line: string) => { lines.push(line); } });
  const done: string[] = [];
  let delaying = false;
  const handler = drainThenNow(logger, () => { delaying = true; done.push('stop'); }, () => done.push('now'), () => {
    const was = delaying;
    delaying = false;
    if (was) done.push('hurry');
    return was;
  });
  handler('SIGTERM', 1);
  handler('SIGTERM', 2);
  handler('SIGINT', 3);
  assert.deepEqual(done, ['stop', 'hurry', 'now']);
  const said = lines.map((l) => JSON.parse(l) as { msg: string; signal: string }).map((l) => `${l.signal} ${l.msg}`);
  assert.deepEqual(said, ['SIGTERM shutting down', 'SIGTERM second signal: draining now, without the rest of the ready delay', 'SIGINT second signal: exiting without waiting']);
});

void test('a worker says hello once its listener is in place and stops on the primary\'s stop commands only', () => {
  const { host, emit, sent } = fakeHost(true);
  const exits: number[] = [];
  const stop = StopRequest.install(host, true, (code) => exits.push(code));
  assert.deepEqual(sent, [{ uwsb: 1, kind: 'notice', op: 'hello', args: {} }]);
  const seen: StopReason[] = [];
  stop.own((reason) => seen.push(reason));
  emit('message', { uwsb: 1, kind: 'cmd', op: 'reload' });
  emit('message', { cmd: 'NODE_CLUSTER', act: 'drain' });
  emit('message', 'drain');
  assert.deepEqual(seen, []);
  emit('message', { uwsb: 1, kind: 'cmd', op: 'drain' });
  assert.deepEqual(seen, ['drain']);
  assert.deepEqual(exits, []);
});

void test('a worker whose drain comes while it loads exits 0 at once; a process that is not a worker ignores messages', () => {
  const worker = fakeHost(true);
  const exits: number[] = [];
  StopRequest.install(worker.host, true, (code) => exits.push(code));
  worker.emit('message', { uwsb: 1, kind: 'cmd', op: 'drain' });
  assert.deepEqual(exits, [0]);

  const single = fakeHost(true);
  const none: number[] = [];
  StopRequest.install(single.host, false, (code) => none.push(code));
  single.emit('message', { uwsb: 1, kind: 'cmd', op: 'drain' });
  assert.deepEqual(single.sent, []);
  assert.deepEqual(none, []);
});

void test('drainThenNow: the first stop drains, a second one ends the process now; each says so once', () => {
  const lines: string[] = [];
  const logger = createLogger(false, { write: (line: string) => { lines.push(line); } });
  const done: string[] = [];
  const handler = drainThenNow(logger, () => done.push('drain'), () => done.push('now'));
  handler('SIGTERM', 1);
  assert.deepEqual(done, ['drain']);
  handler('SIGINT', 2);
  assert.deepEqual(done, ['drain', 'now']);
  const said = lines.map((l) => JSON.parse(l) as { msg: string; signal: string }).map((l) => `${l.signal} ${l.msg}`);
  assert.deepEqual(said, ['SIGTERM shutting down', 'SIGINT second signal: exiting without waiting']);
});
