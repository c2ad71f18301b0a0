import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_STATS, mergeStats } from '../../src/cluster/merge-stats.js';
import type { AskMessage, Reply, TellMessage } from '../../src/cluster/messages.js';
import { remoteGate } from '../../src/cluster/remote-gate.js';
import { answer, hear, Rpc } from '../../src/cluster/rpc.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { createLogger } from '../../src/log.js';
import { AbuseGuard } from '../../src/manager/abuse.js';
import { ConnectionManager } from '../../src/manager/connection-manager.js';
import type { GateRequests } from '../../src/manager/gate.js';
import { Gatekeeper } from '../../src/manager/gatekeeper.js';
import type { Authority } from '../../src/util/requests.js';

const silent = createLogger(false, { write: () => undefined });

function config(flags: string[]): Config {
  const r = loadConfig(flags, {});
  if (r.kind !== 'config') throw new Error('help');
  return r.config;
}

void test('mergeStats sums counters and per-key tallies; draining if any worker drains', () => {
  const a = { ...EMPTY_STATS, total: 5, routes: { direct: 2, jump: 1 }, outcomes: { SHELL_EXITED: 3 }, rejections: { LIMIT_PER_IP: 2 }, bytesToClient: 10 };
  const b = { ...EMPTY_STATS, total: 1, routes: { jump: 1, operator: 1 }, outcomes: { SHELL_EXITED: 1, SSH_AUTH_FAILED: 1 }, rejections: { LIMIT_PER_IP: 1 }, draining: true };
  const m = mergeStats([a, b], { WORKER_LOST: 2 });
  assert.equal(m.total, 6);
  assert.equal(m.bytesToClient, 10);
  assert.deepEqual(m.outcomes, { SHELL_EXITED: 4, SSH_AUTH_FAILED: 1, WORKER_LOST: 2 });
  assert.deepEqual(m.rejections, { LIMIT_PER_IP: 3 });
  assert.deepEqual(m.routes, { direct: 2, jump: 2, operator: 1 });
  assert.equal(m.draining, true);
  assert.equal('active' in m, false, 'slots are not summed from the workers: the primary\'s ledger counts them');
  assert.deepEqual(mergeStats([]), { ...EMPTY_STATS });
});

void test('AbuseGuard.enter: a ban comes before the rate limit and costs no token', () => {
  const g = new AbuseGuard(config(['--rate-burst', '2', '--rate-interval', '10m', '--auth-ban-failures', '1']), silent);
  assert.deepEqual(g.enter('192.0.2.1'), { ok: true });
  g.failure('192.0.2.1', 'gateway');
  const banned = g.enter('192.0.2.1');
  assert.equal(banned.ok ? '' : banned.code, 'AUTH_BANNED');
  assert.deepEqual(g.enter('192.0.2.2'), { ok: true });
  assert.deepEqual(g.enter('192.0.2.2'), { ok: true });
  const limited = g.enter('192.0.2.2');
  assert.equal(limited.ok ? '' : limited.code, 'RATE_LIMITED');
  assert.ok(!limited.ok && limited.retryAfterS >= 1);
});

void test('AbuseGuard.failure: the attempts left before the ban, with the ban\'s length; 0 and the seconds left once banned; null with the ban off', () => {
  const g = new AbuseGuard(config(['--auth-ban-failures', '3', '--auth-ban-duration', '4m']), silent);
  assert.deepEqual(g.failure('192.0.2.1', 'ssh'), { attemptsLeft: 2, banSeconds: 240 });
  assert.deepEqual(g.failure('192.0.2.1', 'gateway'), { attemptsLeft: 1, banSeconds: 240 }, 'gateway and SSH failures count alike');
  assert.deepEqual(g.failure('192.0.2.1', 'ssh'), { attemptsLeft: 0, banSeconds: 240 });
  assert.equal(g.enter('192.0.2.1').ok, false);
  const again = g.failure('192.0.2.1', 'ssh');
  assert.ok(again !== null && again.attemptsLeft === 0 && again.banSeconds > 0 && again.banSeconds <= 240, JSON.stringify(again));
  assert.equal(new AbuseGuard(config(['--auth-ban-failures', '0']), silent).failure('192.0.2.1', 'ssh'), null);
});

void test('authFailure asked of the primary\'s Gatekeeper over an Rpc: one count for every worker', async (t) => {
  const keeper = new Gatekeeper(config(['--auth-ban-failures', '2', '--auth-ban-duration', '1m']), silent);
  t.after(() => keeper.dispose());
  const channel = (n: number): Rpc<GateRequests> => {
    const side: { rpc?: Rpc<GateRequests> } = {};
    const rpc = new Rpc<GateRequests>((m) => {
      if (m.kind === 'req') void answer(keeper.authority, m, { holder: workerOwner(n) }, (reply) => { queueMicrotask(() => side.rpc?.settle(reply)); return true; });
      return true;
    }, 1000);
    side.rpc = rpc;
    t.after(() => rpc.close('test over'));
    return rpc;
  };
  const one = remoteGate(channel(1));
  const two = remoteGate(channel(2));
  assert.deepEqual(await one.abuse.ask('authFailure', { clientIp: '192.0.2.9', kind: 'ssh' }), { attemptsLeft: 1, banSeconds: 60 });
  assert.deepEqual(await two.abuse.ask('authFailure', { clientIp: '192.0.2.9', kind: 'ssh' }), { attemptsLeft: 0, banSeconds: 60 });
  const banned = await one.abuse.ask('enter', { clientIp: '192.0.2.9' });
  assert.equal(banned.ok ? '' : banned.code, 'AUTH_BANNED');
});

interface TestRequests {
  double: { args: number; result: number };
  boom: { args: number; result: number };
  silent: { args: number; result: number };
}

void test('Rpc: a request is answered once by id; errors travel; no answer times out; close fails the rest', async () => {
  const side: { peer?: (m: AskMessage<TestRequests>) => void } = {};
  const rpc = new Rpc<TestRequests>((m) => { side.peer?.(m); return true; }, 200);
  // The other side answers "double" and fails "boom"; it ignores "silent".
  const authority: Authority<TestRequests, unknown> = { double: (n) => n * 2, boom: () => { throw new Error('it broke'); }, silent: (n) => n };
  side.peer = (m) => {
    if (m.kind !== 'req' || m.op === 'silent') return;
    void answer(authority, m, undefined, (reply) => { queueMicrotask(() => rpc.settle(reply)); return true; });
  };
  assert.equal(await rpc.ask('double', 21), 42);
  await assert.rejects(rpc.ask('boom', 0), /it broke/);
  await assert.rejects(rpc.ask('silent', 0), /no answer within 200 ms/);
  const pending = rpc.ask('silent', 0);
  rpc.close('worker exited');
  await assert.rejects(pending, /worker exited/);
  await assert.rejects(rpc.ask('double', 1), /channel closed/);
});

void test('answer refuses a name the authority does not answer; hear drops one', async () => {
  const replies: Reply[] = [];
  const authority: Authority<Pick<TestRequests, 'double'>, unknown> = { double: (n) => n * 2 };
  // A message from outside the process is only as good as its sender: a name can be anything.
  const stray = JSON.parse('{"uwsb":1,"kind":"req","id":7,"op":"toString","args":1}') as AskMessage<Pick<TestRequests, 'double'>>;
  await answer(authority, stray, undefined, (r) => replies.push(r) > 0);
  assert.deepEqual(replies, [{ uwsb: 1, kind: 'res', id: 7, ok: false, error: 'unknown request toString' }]);
  const told: string[] = [];
  const tellers: Authority<{ note: { args: string; result: void } }, unknown> = { note: (s) => { told.push(s); } };
  hear(tellers, { uwsb: 1, kind: 'notice', op: 'note', args: 'a' }, undefined);
  hear(tellers, JSON.parse('{"uwsb":1,"kind":"notice","op":"constructor","args":"b"}') as TellMessage<{ note: { args: string; result: void } }>, undefined);
  assert.deepEqual(told, ['a']);
});

void test('a grant whose answer is lost is released, so the slot does not leak', async (t) => {
  const c = config(['--conn-max-total', '1']);
  const keeper = new Gatekeeper(c, silent);
  t.after(() => keeper.dispose());
  let dropAnswers = true;
  const side: { rpc?: Rpc<GateRequests> } = {};
  // The "primary": the Gatekeeper's Authority, for worker 1, like src/roles/primary.ts, but it loses its answers while dropAnswers.
  const worker = { holder: workerOwner(1) };
  const rpc = new Rpc<GateRequests>((m) => {
    if (m.kind === 'notice') hear(keeper.authority, m, worker);
    else if (m.kind === 'req') void answer(keeper.authority, m, worker, (reply) => { if (!dropAnswers) queueMicrotask(() => side.rpc?.settle(reply)); return true; });
    return true;
  }, 100);
  side.rpc = rpc;
  const manager = new ConnectionManager(c, silent, { observeTransition: () => undefined, observeHandshake: () => undefined, observeSessionEnd: () => undefined }, { gate: remoteGate(rpc), owner: workerOwner(1) });
  t.after(async () => { manager.stopReaper(); await manager.gate.dispose(); });
  await assert.rejects(manager.admit('192.0.2.1', 't'), /no answer within 100 ms/);
  assert.equal(keeper.ledger.counts().open, 0, 'the slot taken for the lost answer was given back');
  dropAnswers = false;
  const ok = await manager.admit('192.0.2.1', 't');
  assert.ok(ok.ok);
  assert.deepEqual(keeper.ledger.counts(workerOwner(1)), { open: 1, perClient: { '192.0.2.1': 1 }, perTarget: { t: 1 } });
  assert.deepEqual(await manager.admit('192.0.2.2', 't2'), { ok: false, code: 'LIMIT_TOTAL' });
  assert.equal(manager.stats().active, undefined, 'a worker reports no slots of its own: the primary\'s ledger counts them');
});
