/** Request maps (src/util/requests.ts): a local Client asks and tells an Authority, typed by one map, naming its caller. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { local, type Authority } from '../../src/util/requests.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { Gatekeeper } from '../../src/manager/gatekeeper.js';
import { gateSnapshot } from '../../src/manager/gate.js';
import { loadConfig } from '../../src/config/loader.js';
import { createLogger } from '../../src/log.js';
import type { Identity } from '../../src/auth/identity.js';

const WHO: Identity = { method: 'token', subject: 's', targets: null, users: null, admin: false, files: 'write' };

interface Counter {
  add: { args: { by: number }; result: number };
  reset: { args: Record<string, never>; result: void };
  fail: { args: Record<string, never>; result: number };
}

void test('a local client asks and waits, tells and goes on, and passes its caller to every request', async () => {
  const seen: string[] = [];
  let n = 0;
  const authority: Authority<Counter, string> = {
    add: (a, caller) => {
      seen.push(caller);
      n += a.by;
      return n;
    },
    reset: (_a, caller) => {
      seen.push(caller);
      n = 0;
    },
    fail: () => Promise.reject(new Error('no')),
  };
  const client = local(authority, 'w1');
  assert.equal(await client.ask('add', { by: 2 }), 2);
  assert.equal(await client.ask('add', { by: 3 }), 5);
  client.tell('reset', {});
  assert.equal(n, 0, 'told at once, in order');
  await assert.rejects(client.ask('fail', {}), /no/);
  assert.deepEqual(seen, ['w1', 'w1', 'w1']);
});

void test('the Gatekeeper answers the gate\'s three concerns for each holder: slots are recorded under the holder that asked', async (t) => {
  const r = loadConfig(['--conn-max-per-host', '2'], {});
  if (r.kind !== 'config') throw new Error('help');
  const keeper = new Gatekeeper(r.config, createLogger(false, { write: () => undefined }));
  t.after(() => keeper.dispose());
  const one = keeper.gate(workerOwner(1));
  const two = keeper.gate(workerOwner(2));
  assert.deepEqual(await one.admission.ask('grant', { clientIp: '192.0.2.1', targetKey: 't', grantId: 'a' }), { ok: true });
  assert.deepEqual(await two.admission.ask('grant', { clientIp: '192.0.2.1', targetKey: 't', grantId: 'a' }), { ok: true });
  assert.deepEqual(await two.admission.ask('grant', { clientIp: '192.0.2.1', targetKey: 't', grantId: 'b' }), { ok: false, code: 'LIMIT_PER_IP' });
  assert.equal((await one.admission.ask('slots', { scope: 'caller' })).open, 1);
  assert.equal((await one.admission.ask('slots', { scope: 'gateway' })).open, 2);
  one.admission.tell('release', { grantId: 'a' });
  assert.deepEqual(await one.abuse.ask('enter', { clientIp: '192.0.2.1' }), { ok: true });
  const issued = await two.tickets.ask('issueTicket', { identity: WHO, binding: { clientIp: '192.0.2.1', target: null } });
  assert.ok(issued.ok);
  const snap = await gateSnapshot(one);
  assert.deepEqual({ open: snap.open, perClient: snap.perClient, tickets: snap.tickets }, { open: 1, perClient: { '192.0.2.1': 1 }, tickets: 1 });
  assert.deepEqual(await one.tickets.ask('redeemTicket', { ticket: issued.ticket, binding: { clientIp: '192.0.2.1', target: null } }), { ok: true, identity: WHO });
  assert.equal((await gateSnapshot(two)).tickets, 0, 'one store for every holder');
});
