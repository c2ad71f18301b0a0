import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_STATS, mergeStats } from '../../src/cluster/merge-stats.js';
import type { Message } from '../../src/cluster/messages.js';
import { RemoteGate } from '../../src/cluster/remote-gate.js';
import { answer, Rpc } from '../../src/cluster/rpc.js';
import { loadConfig } from '../../src/config/loader.js';
import { createLogger } from '../../src/log.js';
import { Gatekeeper } from '../../src/manager/gatekeeper.js';

const silent = createLogger(false, { write: () => undefined });

function keeper(flags: string[], newId?: () => string): Gatekeeper {
  const r = loadConfig(flags, {});
  if (r.kind !== 'config') throw new Error('help');
  return new Gatekeeper(r.config, silent, newId);
}

void test('mergeStats sums counters and per-key tallies; draining if any worker drains', () => {
  const a = { ...EMPTY_STATS, active: 2, total: 5, outcomes: { SHELL_EXITED: 3 }, perClient: { '192.0.2.1': 2 }, bytesToClient: 10 };
  const b = { ...EMPTY_STATS, active: 1, total: 1, outcomes: { SHELL_EXITED: 1, SSH_AUTH_FAILED: 1 }, perClient: { '192.0.2.1': 1 }, draining: true };
  const m = mergeStats([a, b], { WORKER_LOST: 2 });
  assert.equal(m.active, 3);
  assert.equal(m.total, 6);
  assert.equal(m.bytesToClient, 10);
  assert.deepEqual(m.outcomes, { SHELL_EXITED: 4, SSH_AUTH_FAILED: 1, WORKER_LOST: 2 });
  assert.deepEqual(m.perClient, { '192.0.2.1': 3 });
  assert.equal(m.draining, true);
  assert.deepEqual(mergeStats([]), { ...EMPTY_STATS });
});

void test('Gatekeeper: limits are checked and taken in one step; release is idempotent', (t) => {
  const k = keeper(['--conn-max-total', '3', '--conn-max-per-host', '2', '--conn-max-per-target', '2']);
  t.after(() => k.dispose());
  const g1 = k.grant('192.0.2.1', 't1');
  const g2 = k.grant('192.0.2.1', 't2');
  assert.ok(g1.ok && g2.ok);
  assert.deepEqual(k.grant('192.0.2.1', 't3'), { ok: false, code: 'LIMIT_PER_IP' });
  const g3 = k.grant('192.0.2.2', 't1');
  assert.ok(g3.ok);
  assert.deepEqual(k.grant('192.0.2.3', 't9'), { ok: false, code: 'LIMIT_TOTAL' });
  k.release(g1.id);
  k.release(g1.id);
  assert.equal(k.snapshot().open, 2);
  assert.ok(k.grant('192.0.2.3', 't1').ok);
  assert.deepEqual(k.grant('192.0.2.4', 't1'), { ok: false, code: 'LIMIT_TOTAL' });
  k.release(g2.id);
  assert.deepEqual(k.grant('192.0.2.4', 't1'), { ok: false, code: 'LIMIT_PER_TARGET' });
});

void test('Gatekeeper: a refused grant mints no id; a caller-chosen id is used as given, a duplicate refused', (t) => {
  let minted = 0;
  const k = keeper(['--conn-max-total', '2', '--conn-max-per-host', '1', '--conn-max-per-target', '1'], () => `g${++minted}`);
  t.after(() => k.dispose());
  assert.deepEqual(k.grant('192.0.2.1', 't1'), { ok: true, id: 'g1' });
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(k.grant('192.0.2.2', 't1'), { ok: false, code: 'LIMIT_PER_TARGET' });
    assert.deepEqual(k.grant('192.0.2.1', 't2'), { ok: false, code: 'LIMIT_PER_IP' });
  }
  assert.equal(minted, 1, 'refusals (the storm case) cost no id');
  assert.deepEqual(k.grant('192.0.2.2', 't2', 'w1'), { ok: true, id: 'w1' });
  assert.deepEqual(k.grant('192.0.2.3', 't3'), { ok: false, code: 'LIMIT_TOTAL' });
  k.release('w1');
  k.grant('192.0.2.2', 't2', 'w1');
  assert.deepEqual(k.grant('192.0.2.3', 't3', 'w1'), { ok: false, code: 'LIMIT_TOTAL' });
  k.release('g1');
  assert.deepEqual(k.grant('192.0.2.3', 't3', 'w1'), { ok: false, code: 'INTERNAL' }, 'an id in use');
  assert.equal(minted, 1);
  assert.equal(k.snapshot().open, 1);
});

void test('Gatekeeper.enter: a ban comes before the rate limit and costs no token', (t) => {
  const k = keeper(['--rate-burst', '2', '--rate-interval', '10m', '--auth-ban-failures', '1']);
  t.after(() => k.dispose());
  assert.deepEqual(k.enter('192.0.2.1'), { ok: true });
  k.authFailure('192.0.2.1', 'gateway');
  const banned = k.enter('192.0.2.1');
  assert.equal(banned.ok ? '' : banned.code, 'AUTH_BANNED');
  assert.deepEqual(k.enter('192.0.2.2'), { ok: true });
  assert.deepEqual(k.enter('192.0.2.2'), { ok: true });
  const limited = k.enter('192.0.2.2');
  assert.equal(limited.ok ? '' : limited.code, 'RATE_LIMITED');
  assert.ok(!limited.ok && limited.retryAfterS >= 1);
});

void test('Rpc: a request is answered once by id; errors travel; no answer times out; close fails the rest', async () => {
  const side: { peer?: (m: Message) => void } = {};
  const rpc = new Rpc((m) => { side.peer?.(m); return true; }, 200);
  // The other side answers "double" and fails "boom"; it ignores "silent".
  side.peer = (m) => {
    if (m.kind !== 'req' || m.op === 'silent') return;
    void answer(m, (reply) => { queueMicrotask(() => rpc.settle(reply)); return true; }, (op, args) => {
      if (op === 'boom') throw new Error('it broke');
      return (args as number) * 2;
    });
  };
  assert.equal(await rpc.request<number>('double', 21), 42);
  await assert.rejects(rpc.request('boom', 0), /it broke/);
  await assert.rejects(rpc.request('silent', 0), /no answer within 200 ms/);
  const pending = rpc.request('silent', 0);
  rpc.close('worker exited');
  await assert.rejects(pending, /worker exited/);
  await assert.rejects(rpc.request('double', 1), /channel closed/);
});

void test('RemoteGate: a grant whose answer is lost is released, so the slot does not leak', async (t) => {
  const k = keeper(['--conn-max-total', '1']);
  t.after(() => k.dispose());
  let dropAnswers = true;
  const side: { rpc?: Rpc } = {};
  // The "primary": applies grant/release to the Gatekeeper like src/cluster/primary.ts, but loses its answers while dropAnswers.
  const rpc = new Rpc((m) => {
    if (m.kind === 'notice' && m.op === 'release') k.release(String((m.args as { grantId: string }).grantId));
    if (m.kind !== 'req') return true;
    void answer(m, (reply) => { if (!dropAnswers) queueMicrotask(() => side.rpc?.settle(reply)); return true; }, (_op, args) => {
      const a = args as { clientIp: string; targetKey: string; grantId: string };
      return k.grant(a.clientIp, a.targetKey, a.grantId);
    });
    return true;
  }, 100);
  side.rpc = rpc;
  const gate = new RemoteGate(rpc);
  await assert.rejects(gate.grant('192.0.2.1', 't'), /no answer within 100 ms/);
  assert.equal(k.snapshot().open, 0, 'the slot taken for the lost answer was given back');
  dropAnswers = false;
  const ok = await gate.grant('192.0.2.1', 't');
  assert.ok(ok.ok);
  assert.deepEqual(await gate.grant('192.0.2.2', 't2'), { ok: false, code: 'LIMIT_TOTAL' });
  gate.dispose();
});
